"""Scheduled runs as jobs for the scheduler: one replay each, and follow mode (each run starts
from the previous run's final state; ``<out>/latest`` points at the newest)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError, NothingToReplay, ReplayError
from ..logs import get_logger
from ..observe.events import RunObserver
from ..plan import new_run_id
from ..run import run_replay
from ..store import RunStore
from .scheduler import SCHEDULE_NAME


def follow_settings(settings: Settings, store: RunStore, run_id: str) -> Settings:
    """The next follower run: from the previous scheduled run's final state, into ``<out>/<run id>``."""
    replay = settings.replay
    if replay.out is None:
        raise ConfigError("Follow mode needs replay.out: the folder the replica's states are kept in.")
    previous = next((run for run in store.runs(limit=200) if run.trigger == "schedule" and run.state == "succeeded"), None)
    bootstrap = previous.plan["out"] if previous is not None else replay.bootstrap_state
    changes = {"bootstrap_state": bootstrap, "out": replay.out / run_id}
    return settings.model_copy(update={"replay": replay.model_copy(update=changes)})


def _point_latest(folder: Path, target: Path) -> None:
    """``<folder>/latest`` -> the newest replica state, replaced atomically."""
    link = folder / "latest"
    temporary = folder / ".latest.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)


def replay_job(
    settings: Settings, store: RunStore, *, observer: RunObserver | None = None, after: Callable[[], None] | None = None
) -> Callable[[], int]:
    """One scheduled replay, as an exit code (the scheduler's policies key on it); ``after`` runs
    once the run ended, however it ended (pushing metrics, for instance)."""
    log = get_logger()

    def job() -> int:
        run_id = new_run_id()
        run_settings = follow_settings(settings, store, run_id) if settings.schedule.follow else settings
        try:
            result = run_replay(run_settings, trigger="schedule", run_id=run_id, observer=observer)
        except NothingToReplay as nothing:
            log.info("scheduled run: nothing new to replay", detail=str(nothing))
            return 0
        except ReplayError as error:
            return error.exit_code
        finally:
            if after is not None:
                after()
        store.save_schedule(replace(store.schedule(SCHEDULE_NAME), last_run_id=run_id))
        if settings.schedule.follow:
            _point_latest(result.plan.out.parent, result.plan.out)
        return 0

    return job
