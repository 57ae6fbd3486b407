"""The ``longqa`` commands, one module per job; app/cli.py registers every one on the typer app.

A command is a plain function whose options are declared in its signature (the shared ones in
``options.py``): it reads settings, calls app code and prints. Nothing here registers itself, so
the list of commands is the one in app/cli.py.
"""
