"""The ``hiero-replay`` command line.

Commands are listed here by name and imported only when one runs (or its help is shown), and each
command module imports only click at the top: ``hiero-replay --help`` never loads pydantic,
obstore, protobuf or rich.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import tempfile
import traceback

import click

from ..errors import EXIT_CODES, ConfigError, InternalError, ReplayError, ReplayInterrupted
from . import options

#: name -> "module:attribute" of the click command.
COMMANDS: dict[str, str] = {
    "inspect": "hiero_replay.cli.commands.inspect:inspect",
    "plan": "hiero_replay.cli.commands.plan:plan",
    "run": "hiero_replay.cli.commands.run:run",
    "schedule": "hiero_replay.cli.commands.schedule:schedule",
    "schedule-resume": "hiero_replay.cli.commands.schedule:schedule_resume",
    "status": "hiero_replay.cli.commands.status:status",
    "report": "hiero_replay.cli.commands.report:report",
    "demo": "hiero_replay.cli.commands.demo:demo",
    "config": "hiero_replay.cli.commands.config:config",
    "doctor": "hiero_replay.cli.commands.doctor:doctor",
    "state": "hiero_replay.cli.commands.state:state",
    "verify-history": "hiero_replay.cli.commands.history:verify_history",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


def _exit_code_table() -> str:
    rows = "\n".join(f"  {code:<3} {meaning}" for code, (_, meaning, _) in sorted(EXIT_CODES.items()))
    return f"\b\nExit codes (stable; scripts and Kubernetes podFailurePolicy rules may key on them):\n{rows}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}, epilog=_exit_code_table())
@click.version_option(package_name="hiero-replay")
def cli() -> None:
    """Replay historical Hiero/Hedera stream data into a consensus-node state."""


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hiero-replay", standalone_mode=False)
    except ReplayError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("error: interrupted; the backend was stopped.", err=True)
        sys.exit(ReplayInterrupted.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(ConfigError.exit_code)
    except Exception as error:  # noqa: BLE001 - the last resort: one line, the traceback kept in a file
        kept = _keep_traceback()
        click.echo(f"internal error ({type(error).__name__}: {error}); please report it with its traceback, see {kept}", err=True)
        sys.exit(InternalError.exit_code)


def command() -> None:
    """The installed ``hiero-replay`` and ``python -m hiero_replay``: ``main``, ended without
    freeing the objects of every module loaded (50-80 ms of every command, which a cron job running
    one replay at a time pays on each). Exit handlers still run first and output is flushed;
    ``main`` itself, as tests call it, still raises ``SystemExit``."""
    if atexit._ncallbacks():  # something loaded before us (sitecustomize, coverage) left exit handlers:
        main()  # they run in the interpreter's usual ending, which this one would cut short
        return
    ending = _Ending()
    atexit.register(ending.leave)  # the first handler, so it runs after all of them
    try:
        main()
    except SystemExit as leaving:
        ending.status = leaving.code if isinstance(leaving.code, int) else None
        raise
    ending.status = 0


class _Ending:
    """The exit status a finished command ends with; ``None`` leaves the interpreter to end as usual."""

    status: int | None = None

    def leave(self) -> None:
        if self.status is not None:
            for stream in (sys.stdout, sys.stderr):  # None when started closed
                if stream is not None:
                    stream.flush()  # a failed flush raises here and the interpreter ends as usual, reporting it
            os._exit(self.status)


def _keep_traceback() -> str:
    """Write the current exception's traceback to a new private file: in the work directory of the
    command when it has one (created if the command had not yet), else in the temporary folder."""
    from ..workdir import prepare_work_dir

    work_dir, folder = options.current_work_dir.get(), None
    if work_dir is not None and not work_dir.is_symlink():
        try:
            folder = prepare_work_dir(work_dir) / "internal-errors"
            folder.mkdir(mode=0o700, exist_ok=True)
        except (ReplayError, OSError):
            folder = None
    descriptor, path = tempfile.mkstemp(prefix="hiero-replay-internal-error-", suffix=".log", dir=folder)
    with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as log:
        log.write(traceback.format_exc())
    return path
