"""``python -m app.cli``: the ``longqa`` command."""

from app.cli.main import main

main()
