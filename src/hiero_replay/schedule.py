"""Scheduled execution: triggers (cron or interval) and the policies around ``run_replay``.

The scheduler runs in the foreground. Each fire runs one replay to completion; fires that come
due meanwhile are skipped (``overlap = "skip"``, counted as missed) or run once right after
(``"queue-one"``). The last fire time is persisted, so fires missed while the host was down are
caught up once when they fall inside ``catch_up``. Transient failures (backend, source, lock) are
retried with exponential backoff and jitter; failures retrying cannot fix (configuration, missing
input, continuity gap, hash mismatch) pause the schedule until an operator resumes it.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, Protocol
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from .config import Settings
from .errors import (
    AlreadyRunningError,
    BackendError,
    ConfigError,
    ContinuityError,
    HashMismatchError,
    MissingInputError,
    NothingToReplay,
    ReplayError,
    ReplayInterrupted,
    SourceError,
)
from .observe.events import RunObserver
from .observe.logging import get_logger
from .plan import new_run_id
from .run import run_replay
from .store import RunStore, ScheduleRecord

SCHEDULE_NAME = "default"
#: Exit codes worth another try: backend failure, source/IO failure, work directory busy.
TRANSIENT_EXIT_CODES = frozenset(error.exit_code for error in (BackendError, SourceError, AlreadyRunningError))
#: Exit codes no retry can fix: configuration, missing input, continuity gap, hash mismatch.
PAUSING_EXIT_CODES = frozenset(error.exit_code for error in (ConfigError, MissingInputError, ContinuityError, HashMismatchError))
PAUSED_POLL_SECONDS = 5.0


class Trigger(Protocol):
    def fires(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``after``, in order."""
        ...


class CronTrigger:
    def __init__(self, expression: str, zone: str = "UTC") -> None:
        try:
            self.zone = ZoneInfo(zone)
            CronSim(expression, datetime.now(self.zone))
        except (CronSimError, ValueError, KeyError) as error:
            raise ConfigError(f"schedule.cron {expression!r} (time zone {zone}) is not valid: {error}.") from error
        self.expression = expression

    def fires(self, after: datetime) -> Iterator[datetime]:
        for moment in CronSim(self.expression, after.astimezone(self.zone)):
            yield moment.astimezone(timezone.utc)


class IntervalTrigger:
    """Every ``interval``, aligned to the epoch so restarts keep the same grid."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval.total_seconds()

    def fires(self, after: datetime) -> Iterator[datetime]:
        step = int(after.timestamp() // self.interval) + 1
        while True:
            yield datetime.fromtimestamp(step * self.interval, timezone.utc)
            step += 1


class WallClock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemWallClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class SchedulePolicy:
    overlap: str = "skip"
    catch_up: timedelta = timedelta(0)
    jitter: timedelta = timedelta(0)
    retries: int = 3
    retry_backoff: timedelta = timedelta(seconds=30)


@dataclass
class ScheduleCounters:
    fires: int = 0
    runs: int = 0
    missed: int = 0
    retries: int = 0
    failures: int = 0


class Scheduler:
    """``job`` runs one replay and returns its exit code (0 = success)."""

    def __init__(
        self,
        trigger: Trigger,
        policy: SchedulePolicy,
        job: Callable[[], int],
        store: RunStore,
        *,
        clock: WallClock | None = None,
        rng: random.Random | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self.trigger = trigger
        self.policy = policy
        self.job = job
        self.store = store
        self.clock = clock or SystemWallClock()
        self.rng = rng or random.Random()
        self.counters = ScheduleCounters()
        self.observer = observer or RunObserver()
        self.log = get_logger()

    def run(self, *, max_fires: int | None = None) -> None:
        """Serve fires until interrupted (or ``max_fires`` fires, for tests and one-off catch-ups)."""
        self._wait_while_paused()  # a paused schedule does not catch up either
        self._catch_up()
        while max_fires is None or self.counters.fires < max_fires:
            self._wait_while_paused()
            state = self.store.schedule(SCHEDULE_NAME)
            after = max(self.clock.now(), state.last_fire_datetime or datetime.min.replace(tzinfo=timezone.utc))
            due = next(self.trigger.fires(after))
            delay = (due - self.clock.now()).total_seconds() + self.rng.uniform(0, self.policy.jitter.total_seconds())
            self.log.info("schedule waiting", next_fire=due.isoformat(), seconds=round(max(0.0, delay), 3))
            self.clock.sleep(delay)
            self._fire(due)
            while self._count_missed() and self.policy.overlap == "queue-one":
                if max_fires is not None and self.counters.fires >= max_fires:
                    break
                self.log.info("schedule: running the queued fire now")
                self._fire(self.clock.now())

    def _catch_up(self) -> None:
        last = self.store.schedule(SCHEDULE_NAME).last_fire_datetime
        if last is None:
            return
        now = self.clock.now()
        missed = list(_between(self.trigger, last, now))
        if not missed:
            return
        window = self.policy.catch_up
        if window > timedelta(0) and now - missed[-1] <= window:
            self._missed(len(missed) - 1)
            self.log.info("schedule catching up after downtime", missed=len(missed), catching_up=missed[-1].isoformat())
            self._fire(missed[-1])
        else:
            self._missed(len(missed))
            self._save(last_fire=missed[-1])
            self.log.warning("schedule missed fires while down (outside the catch-up window)", missed=len(missed))

    def _count_missed(self) -> int:
        """Fires that came due while the last run was busy (one of them is queued with queue-one)."""
        last = self.store.schedule(SCHEDULE_NAME).last_fire_datetime or self.clock.now()
        missed = list(_between(self.trigger, last, self.clock.now()))
        if missed:
            self._missed(len(missed) - (1 if self.policy.overlap == "queue-one" else 0))
            self._save(last_fire=missed[-1])
            self.log.warning("schedule fires missed while a run was busy", missed=len(missed), overlap=self.policy.overlap)
        return len(missed)

    def _fire(self, due: datetime) -> None:
        self.counters.fires += 1
        self._save(last_fire=max(due, self.store.schedule(SCHEDULE_NAME).last_fire_datetime or due))
        for attempt in range(self.policy.retries + 1):
            self.counters.runs += 1
            exit_code = self.job()
            if exit_code == 0:
                return
            if exit_code == ReplayInterrupted.exit_code:
                raise ReplayInterrupted("The scheduled run was interrupted; the schedule stops.")
            self.counters.failures += 1
            if exit_code in PAUSING_EXIT_CODES:
                reason = f"a run failed with exit code {exit_code}, which retrying cannot fix"
                self._save(paused=True, pause_reason=reason)
                self.log.error("schedule paused", reason=reason, resume="hiero-replay schedule resume")
                return
            if attempt < self.policy.retries and exit_code in TRANSIENT_EXIT_CODES:
                backoff = self.policy.retry_backoff.total_seconds() * 2**attempt
                backoff += self.rng.uniform(0, backoff / 2)
                self.counters.retries += 1
                self.log.warning("scheduled run failed; retrying", exit_code=exit_code, attempt=attempt + 1, backoff_seconds=round(backoff, 3))
                self.clock.sleep(backoff)
                continue
            self.log.error("scheduled run failed", exit_code=exit_code, attempts=attempt + 1)
            return

    def _missed(self, fires: int) -> None:
        if fires > 0:
            self.counters.missed += fires
            self.observer.schedule_missed(fires)

    def _wait_while_paused(self) -> None:
        announced = False
        while (state := self.store.schedule(SCHEDULE_NAME)).paused:
            if not announced:
                self.log.warning("schedule is paused", reason=state.pause_reason, resume="hiero-replay schedule resume")
                announced = True
            self.clock.sleep(PAUSED_POLL_SECONDS)

    def _save(self, **changes: object) -> None:
        state = self.store.schedule(SCHEDULE_NAME)
        if "last_fire" in changes and isinstance(changes["last_fire"], datetime):
            changes["last_fire"] = changes["last_fire"].timestamp()  # type: ignore[union-attr]
        self.store.save_schedule(replace(state, **changes))  # type: ignore[arg-type]


def _between(trigger: Trigger, start: datetime, end: datetime) -> Iterator[datetime]:
    for moment in trigger.fires(start):
        if moment > end:
            return
        yield moment


def resume_schedule(store: RunStore) -> ScheduleRecord:
    state = store.schedule(SCHEDULE_NAME)
    store.save_schedule(replace(state, paused=False, pause_reason=None))
    return state


def trigger_from(settings: Settings) -> Trigger:
    schedule = settings.schedule
    if schedule.cron is not None:
        return CronTrigger(schedule.cron, schedule.timezone)
    if schedule.interval is not None:
        return IntervalTrigger(schedule.interval)
    raise ConfigError("Nothing to schedule: set schedule.cron or schedule.interval.", hint="See `hiero-replay config schema`.")


def policy_from(settings: Settings) -> SchedulePolicy:
    schedule = settings.schedule
    return SchedulePolicy(schedule.overlap, schedule.catch_up, schedule.jitter, schedule.retries, schedule.retry_backoff)


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
