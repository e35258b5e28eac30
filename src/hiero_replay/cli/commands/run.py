"""``hiero-replay run``: verify the input, replay it segment by segment, verify the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..options import REPLAY_FLAGS, REPLAY_SWITCHES, replay_options
from ..session import observers

if TYPE_CHECKING:
    from ...config import Settings

#: What a resume still takes from its command line: where the run is, and where its metrics go.
#: Everything else it takes from the settings the run recorded.
RESUME_FLAGS = ("--work-dir", "--metrics-port", "--metrics-textfile", "--pushgateway")


def _given(context: click.Context, flags: list[str]) -> list[str]:
    """The flags of ``flags`` given on the command line."""
    given = [
        param for param in context.command.params
        if param.name is not None and context.get_parameter_source(param.name) is click.core.ParameterSource.COMMANDLINE
    ]  # fmt: skip
    return [flag for param in given for flag in param.opts if flag in flags]


def _check_flags(context: click.Context, resume: bool, run_id: str | None) -> None:
    """``--resume`` takes the recorded settings: a flag that would change them is refused (exit 2),
    as is ``--run-id`` without ``--resume``."""
    from ...errors import ConfigError

    if not resume:
        if run_id is not None:
            raise ConfigError("--run-id names the run to resume: it needs --resume.", hint="Add --resume, or drop --run-id.")
        return
    refused = _given(context, [flag for flag in [*REPLAY_FLAGS, *REPLAY_SWITCHES, "--simulate"] if flag not in RESUME_FLAGS])
    if refused:
        raise ConfigError(
            f"--resume continues a run with the settings it recorded; {', '.join(refused)} cannot change them.",
            hint=f"Drop {'them' if len(refused) > 1 else 'it'} (--resume takes only {', '.join(RESUME_FLAGS)}, --config and --run-id),"
            " or start a new run with them.",
        )


@click.command()
@replay_options
@click.option(
    "--resume",
    "resume",
    is_flag=True,
    help="Continue the last unfinished run in the work directory, with the settings it recorded (no other replay flag).",
)
@click.option("--run-id", help="With --resume: the run to continue (default: the latest unfinished one).")
def run(settings: Settings, resume: bool, run_id: str | None) -> None:
    """Verify the input, replay it segment by segment and verify the resulting state."""
    from ...run import resume_replay, run_replay
    from ...run.interrupts import handling_interruptions, resume_hint
    from ...workdir import refuse_outputs_inside_inputs
    from ..render import render_result

    context = click.get_current_context()
    _check_flags(context, resume, run_id)
    refuse_outputs_inside_inputs(settings)  # before the metrics textfile is first written (a resume's too)
    observer, metrics = observers(settings)
    metrics.serve()
    hint = resume_hint(settings.work_dir, context.params.get("config"))
    try:
        if resume:
            result = handling_interruptions(
                lambda: resume_replay(settings.work_dir, run_id, current=settings, observer=observer), hint=hint
            )
        else:
            result = handling_interruptions(lambda: run_replay(settings, observer=observer), hint=hint)
    finally:
        metrics.push()
    click.echo(render_result(result))
