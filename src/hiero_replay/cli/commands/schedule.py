"""``hiero-replay schedule`` (runs on a cron expression or interval) and ``schedule-resume``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..options import replay_options, work_dir_options
from ..session import observers

if TYPE_CHECKING:
    from ...config import Settings


@click.command()
@replay_options
def schedule(settings: Settings) -> None:
    """Run replays on the configured cron expression or interval, in the foreground."""
    from ...lock import SCHEDULER_LOCK, work_dir_lock
    from ...run.interrupts import handling_interruptions, resume_hint
    from ...schedule.follow import replay_job
    from ...schedule.scheduler import Scheduler, policy_from
    from ...schedule.triggers import trigger_from
    from ...store import RunStore
    from ...workdir import refuse_outputs_inside_inputs

    trigger = trigger_from(settings.schedule)
    refuse_outputs_inside_inputs(settings)
    observer, metrics = observers(settings)
    with work_dir_lock(settings.work_dir, name=SCHEDULER_LOCK, holder="scheduler"):
        metrics.serve()
        store = RunStore(settings.work_dir)
        try:
            job = replay_job(settings, store, observer=observer, after=metrics.push)
            scheduler = Scheduler(trigger, policy_from(settings.schedule), job, store, observer=observer)
            handling_interruptions(scheduler.run, hint=resume_hint(settings.work_dir, click.get_current_context().params.get("config")))
        finally:
            store.close()


@click.command("schedule-resume")
@work_dir_options
def schedule_resume(work_dir: Path) -> None:
    """Resume a schedule paused by a failure that retrying could not fix."""
    from ...schedule.scheduler import resume_schedule
    from ...store import RunStore

    store = RunStore(work_dir, create=False)
    try:
        previous = resume_schedule(store)
    finally:
        store.close()
    click.echo(f"schedule resumed (it was paused: {previous.pause_reason})" if previous.paused else "the schedule was not paused")
