"""The scheduler loop and its policies: overlap, catch-up, jitter, retries, pause.

The scheduler runs in the foreground. Each fire runs one replay to completion; fires that come
due meanwhile are skipped (``overlap = "skip"``, counted as missed) or run once right after
(``"queue-one"``). The last fire time is persisted, so fires missed while the host was down are
caught up once when they fall inside ``catch_up``. Transient failures (backend, source, lock) are
retried with exponential backoff and jitter; failures retrying cannot fix (configuration, missing
input, continuity gap, hash mismatch) pause the schedule until an operator resumes it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..config import ScheduleConfig
from ..errors import (
    FINAL_EXIT_CODES,
    AlreadyRunningError,
    BackendError,
    InternalError,
    MetricsError,
    ReplayInterrupted,
    RunStoreError,
    SourceError,
)
from ..logs import get_logger
from ..observe.events import RunObserver
from ..store import RunStore, ScheduleRecord
from .triggers import Trigger, fires_between

SCHEDULE_NAME = "default"
#: Exit codes worth another try: backend failure, source/IO failure, work directory busy.
TRANSIENT_EXIT_CODES = frozenset(error.exit_code for error in (BackendError, SourceError, AlreadyRunningError))
#: Exit codes no retry can fix: the final failures, a damaged run store, a metrics port taken, a bug.
PAUSING_EXIT_CODES = FINAL_EXIT_CODES | {error.exit_code for error in (RunStoreError, MetricsError, InternalError)}
PAUSED_POLL_SECONDS = 5.0


class WallClock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemWallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

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
        #: A scheduled run is going (or was, when an interruption stopped it): not idle between runs.
        self._in_run = False

    def run(self, *, max_fires: int | None = None) -> None:
        """Serve fires until interrupted (or ``max_fires`` fires, for tests and one-off catch-ups). An
        interruption between runs (waiting for a fire, a retry or a resume) stopped no run: it says so."""
        try:
            self._serve(max_fires)
        except ReplayInterrupted:
            if self._in_run:
                raise
            raise ReplayInterrupted(
                "The scheduler was stopped while it waited between runs; no run was in progress, so there is nothing to resume.",
                hint="Start `hiero-replay schedule` again to carry on.",
            ) from None

    def _serve(self, max_fires: int | None) -> None:
        self._wait_while_paused()  # a paused schedule does not catch up either
        self._catch_up()
        while max_fires is None or self.counters.fires < max_fires:
            self._wait_while_paused()
            state = self.store.schedule(SCHEDULE_NAME)
            after = max(self.clock.now(), state.last_fire_datetime or datetime.min.replace(tzinfo=UTC))
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
        missed = list(fires_between(self.trigger, last, now))
        if not missed:
            return
        window = self.policy.catch_up
        if window > timedelta(0) and now - missed[-1] <= window:
            self._missed(len(missed) - 1)
            self.log.info("schedule catching up after downtime", missed=len(missed), catching_up=missed[-1].isoformat())
            self._fire(missed[-1])
        else:
            self._missed(len(missed))
            self._save_last_fire(missed[-1])
            self.log.warning("schedule missed fires while down (outside the catch-up window)", missed=len(missed))

    def _count_missed(self) -> int:
        """Fires that came due while the last run was busy (one of them is queued with queue-one)."""
        last = self.store.schedule(SCHEDULE_NAME).last_fire_datetime or self.clock.now()
        missed = list(fires_between(self.trigger, last, self.clock.now()))
        if missed:
            self._missed(len(missed) - (1 if self.policy.overlap == "queue-one" else 0))
            self._save_last_fire(missed[-1])
            self.log.warning("schedule fires missed while a run was busy", missed=len(missed), overlap=self.policy.overlap)
        return len(missed)

    def _fire(self, due: datetime) -> None:
        self.counters.fires += 1
        self._save_last_fire(max(due, self.store.schedule(SCHEDULE_NAME).last_fire_datetime or due))
        for attempt in range(self.policy.retries + 1):
            self.counters.runs += 1
            self._in_run = True  # an interruption until the job returns stops its run
            exit_code = self.job()
            if exit_code == ReplayInterrupted.exit_code:
                raise ReplayInterrupted("The scheduled run was interrupted; the schedule stops.")
            self._in_run = False
            if exit_code == 0:
                return
            self.counters.failures += 1
            if exit_code in PAUSING_EXIT_CODES:
                reason = f"a run failed with exit code {exit_code}, which retrying cannot fix"
                self._pause(reason)
                self.log.error("schedule paused", reason=reason, resume="hiero-replay schedule-resume")
                return
            if attempt < self.policy.retries and exit_code in TRANSIENT_EXIT_CODES:
                backoff = self.policy.retry_backoff.total_seconds() * 2**attempt
                backoff += self.rng.uniform(0, backoff / 2)
                self.counters.retries += 1
                self.log.warning(
                    "scheduled run failed; retrying", exit_code=exit_code, attempt=attempt + 1, backoff_seconds=round(backoff, 3)
                )
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
                self.log.warning("schedule is paused", reason=state.pause_reason, resume="hiero-replay schedule-resume")
                announced = True
            self.clock.sleep(PAUSED_POLL_SECONDS)

    def _save_last_fire(self, moment: datetime) -> None:
        self.store.save_schedule(replace(self.store.schedule(SCHEDULE_NAME), last_fire=moment.timestamp()))

    def _pause(self, reason: str) -> None:
        self.store.save_schedule(replace(self.store.schedule(SCHEDULE_NAME), paused=True, pause_reason=reason))


def resume_schedule(store: RunStore) -> ScheduleRecord:
    state = store.schedule(SCHEDULE_NAME)
    store.save_schedule(replace(state, paused=False, pause_reason=None))
    return state


def policy_from(schedule: ScheduleConfig) -> SchedulePolicy:
    return SchedulePolicy(schedule.overlap, schedule.catch_up, schedule.jitter, schedule.retries, schedule.retry_backoff)
