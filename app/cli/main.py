"""The ``longqa`` command line: the typer app, its list of commands, and how errors end a run.

The commands themselves live beside it in app/cli/ (one module per job) and are thin: options in,
app code called, results printed.

Errors a user can cause or meet print one line (``error: ...``) and exit 2; a usage error (an
unknown option, a missing argument, a value of the wrong type) prints the usage text and exits 2;
Ctrl-C prints "interrupted" and exits 130. Tracebacks only go to the log with ``--verbose``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from app.cli import answers, evaluation, index, serve, ui
from app.cli.console import err, print_error
from core.errors import LongqaError

_USAGE_ERRORS: tuple[type[Exception], ...] = (click.ClickException,)
try:  # typer >= 0.2x bundles its own click: its usage errors are not click's classes
    from typer._click import exceptions as _typer_click

    _USAGE_ERRORS += (_typer_click.ClickException,)
except ImportError:  # pragma: no cover - a typer that uses click itself
    pass
_EXITS: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)


class _Interrupted(Exception):
    """Ctrl-C inside a command (typer would turn it into a silent exit 130)."""


_INTERRUPTS: tuple[type[BaseException], ...] = (
    _Interrupted,
    KeyboardInterrupt,
    click.exceptions.Abort,
    typer.Abort,
)


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted from None


app = typer.Typer(
    name="longqa",
    cls=_Group,
    help="Ask questions of long documents and codebases; answers cite the exact spans they rest on.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details to stderr.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# Every command, in the order `longqa --help` lists them. Each is a plain function in app/cli/,
# registered here rather than by decorators there, so that this list is the whole CLI.
app.command()(index.ingest)
app.command()(index.search)
app.command()(answers.ask)
app.command()(answers.warm)
app.command()(answers.batch)
app.command(name="eval")(evaluation.evaluate)
app.command()(evaluation.convert)
app.command()(ui.ui)
app.command()(serve.serve)


def run(args: list[str] | None = None) -> int:
    """Run the CLI on ``args`` (default: the command line); the exit status, errors printed."""
    command = typer.main.get_command(app)
    try:
        status = command.main(args=args, prog_name="longqa", standalone_mode=False)
        return status if isinstance(status, int) else 0
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0))
    except _USAGE_ERRORS as exc:  # typer's usage text and the reason
        error: Any = exc
        _give_context(error, command, sys.argv[1:] if args is None else args)
        error.show()
        return int(error.exit_code)
    except _INTERRUPTS:
        err.print("interrupted")
        return 130
    except LongqaError as exc:
        print_error(str(exc))
        return 2
    except OSError as exc:
        logging.getLogger("longqa").debug("%s", exc, exc_info=True)
        if exc.filename is None:
            print_error(f"{exc.strerror or exc} (run with --verbose for details)")
            return 1
        print_error(f"{exc.filename}: {exc.strerror or exc}")
        return 2
    except Exception as exc:  # the last line of defence: one line, details in the log
        logging.getLogger("longqa").debug("unexpected error", exc_info=True)
        print_error(f"unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1


def _give_context(exc: Any, command: Any, args: list[str]) -> None:
    """A usage error raised before its command's context was made (an option missing its value)
    gets one, so that it prints the command's usage like the others."""
    if getattr(exc, "ctx", "absent") is not None:
        return
    root = command.context_class(command, info_name="longqa")
    name = next((arg for arg in args if not arg.startswith("-")), None)
    sub = command.commands.get(name) if name else None
    exc.ctx = command.context_class(sub, info_name=name, parent=root) if sub else root
    exc.cmd = exc.ctx.command


def main() -> None:
    """Entry point: run the CLI, turning errors into one-line messages."""
    status = run()
    if status == 130 and any(
        t is not threading.main_thread() and t.is_alive() and not t.daemon for t in threading.enumerate()
    ):
        # a model call still running in a worker thread would hold the exit until it returns;
        # everything finished is already on disk (fsynced), so leave now
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)


if __name__ == "__main__":
    main()
