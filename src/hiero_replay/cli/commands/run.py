"""``hiero-replay run``: verify the input, replay it segment by segment, verify the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..options import replay_options
from ..session import observers

if TYPE_CHECKING:
    from ...config import Settings


@click.command()
@replay_options
@click.option("--resume", "resume", is_flag=True, help="Continue the last unfinished run in the work directory.")
@click.option("--run-id", help="With --resume: the run to continue (default: the latest unfinished one).")
def run(settings: Settings, resume: bool, run_id: str | None) -> None:
    """Verify the input, replay it segment by segment and verify the resulting state."""
    from ...run import resume_replay, run_replay
    from ...run.interrupts import handling_interruptions
    from ..render import render_result

    observer, metrics = observers(settings)
    metrics.serve()
    try:
        if resume:
            result = handling_interruptions(lambda: resume_replay(settings.work_dir, run_id, current=settings, observer=observer))
        else:
            result = handling_interruptions(lambda: run_replay(settings, observer=observer))
    finally:
        metrics.push()
    click.echo(render_result(result))
