"""The scheduler with a controllable clock: overlap policies, catch-up, retries, pause; and the
work-directory locks through the CLI."""

from __future__ import annotations

import fcntl
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from hiero_replay.errors import ConfigError
from hiero_replay.schedule.scheduler import SCHEDULE_NAME, SchedulePolicy, Scheduler, resume_schedule
from hiero_replay.schedule.triggers import CronTrigger, IntervalTrigger
from hiero_replay.store import RunStore

CLI = [sys.executable, "-m", "hiero_replay"]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class FakeWallClock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=max(0.0, seconds))


class Job:
    """A replay that takes ``duration`` on the fake clock and ends with the next exit code."""

    def __init__(self, clock: FakeWallClock, duration: float, codes: list[int] | None = None) -> None:
        self.clock, self.duration, self.codes = clock, duration, list(codes or [])
        self.started: list[datetime] = []

    def __call__(self) -> int:
        self.started.append(self.clock.now())
        self.clock.current += timedelta(seconds=self.duration)
        return self.codes.pop(0) if self.codes else 0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    opened = RunStore(tmp_path / "work")
    yield opened
    opened.close()


class Policy(TypedDict, total=False):
    """The ``SchedulePolicy`` fields a test sets."""

    overlap: str
    catch_up: timedelta
    jitter: timedelta
    retries: int
    retry_backoff: timedelta


def scheduler(store: RunStore, job: Job, clock: FakeWallClock, **policy: Unpack[Policy]) -> Scheduler:
    return Scheduler(IntervalTrigger(timedelta(seconds=10)), SchedulePolicy(**policy), job, store, clock=clock, rng=random.Random(1))


def test_skip_drops_fires_that_come_due_during_a_run(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=25)
    runner = scheduler(store, job, clock, overlap="skip")
    runner.run(max_fires=2)
    assert job.started == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=40)]
    assert runner.counters.missed == 4  # :20 and :30 during the first run, :50 and :60 during the second


def test_queue_one_runs_once_right_after(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=25)
    runner = scheduler(store, job, clock, overlap="queue-one")
    runner.run(max_fires=2)
    assert job.started == [T0 + timedelta(seconds=10), T0 + timedelta(seconds=35)]
    assert runner.counters.missed == 3  # :20 and :30 collapse into the queued run; :40, :50, :60 during it


def test_catch_up_after_downtime(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=1)
    scheduler(store, job, clock).run(max_fires=1)  # fires at :10, persisted
    clock.current += timedelta(minutes=10)  # the host was down
    job.started.clear()
    runner = scheduler(store, job, clock, catch_up=timedelta(seconds=30))
    runner.run(max_fires=1)
    assert job.started == [clock.current - timedelta(seconds=1)]  # one catch-up run at once
    assert runner.counters.missed == 59  # 60 fires missed, the newest one caught up
    assert store.schedule(SCHEDULE_NAME).last_fire_datetime is not None


def test_no_catch_up_outside_the_window(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=1)
    scheduler(store, job, clock).run(max_fires=1)
    clock.current += timedelta(minutes=10, seconds=5)
    job.started.clear()
    runner = scheduler(store, job, clock, catch_up=timedelta(seconds=3))
    runner.run(max_fires=1)
    assert runner.counters.missed == 60
    assert job.started and job.started[0] > clock.current - timedelta(seconds=11)  # the next regular fire


def test_transient_failures_are_retried_with_backoff(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=1, codes=[6, 7, 0])
    runner = scheduler(store, job, clock, retries=3, retry_backoff=timedelta(seconds=4))
    runner.run(max_fires=1)
    assert len(job.started) == 3 and runner.counters.retries == 2
    first, second = clock.sleeps[-2:]
    assert 4 <= first <= 6 and 8 <= second <= 12  # doubling, plus up to half again of jitter
    assert not store.schedule(SCHEDULE_NAME).paused


def test_hash_mismatch_pauses_the_schedule_until_resumed(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=1, codes=[5])
    runner = scheduler(store, job, clock, retries=3)
    runner.run(max_fires=1)
    assert len(job.started) == 1  # not retried
    state = store.schedule(SCHEDULE_NAME)
    assert state.paused and "exit code 5" in (state.pause_reason or "")
    assert resume_schedule(store).paused
    assert not store.schedule(SCHEDULE_NAME).paused


def test_cron_trigger_in_a_time_zone() -> None:
    trigger = CronTrigger("0 9 * * 1-5", "Europe/Zurich")
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    first = next(trigger.fires(saturday))
    assert first == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
    with pytest.raises(ConfigError):
        CronTrigger("every day")


def test_interval_fires_on_a_fixed_grid() -> None:
    fires = IntervalTrigger(timedelta(minutes=15)).fires(datetime(2026, 1, 1, 10, 7, tzinfo=UTC))
    assert [next(fires).minute for _ in range(3)] == [15, 30, 45]


def test_a_second_run_in_the_same_work_dir_exits_9(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with open(work / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("run, pid 12345\n")
        held.flush()
        result = subprocess.run(
            [*CLI, "run", "--work-dir", work, "--bootstrap-state", tmp_path / "state", "--events", tmp_path / "events", "--out", tmp_path / "o"],
            capture_output=True, text=True,
        )  # fmt: skip
    assert result.returncode == 9 and "already running" in result.stderr


def test_a_second_scheduler_exits_9(tmp_path: Path) -> None:
    work = tmp_path / "work"
    config = tmp_path / "schedule.toml"
    config.write_text(f'work_dir = "{work}"\n[schedule]\ninterval = 3600\n')
    first = subprocess.Popen([*CLI, "schedule", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = 100
        while not (work / "schedule.lock").exists() and deadline:
            subprocess.run(["sleep", "0.05"])
            deadline -= 1
        second = subprocess.run([*CLI, "schedule", "--config", config], capture_output=True, text=True, timeout=60)
        assert second.returncode == 9 and "scheduler is already running" in second.stderr
    finally:
        first.terminate()
        first.communicate(timeout=30)
    assert first.returncode == 8  # SIGTERM stops the scheduler as an interruption


def test_schedule_without_a_trigger_is_a_configuration_error(tmp_path: Path) -> None:
    result = subprocess.run([*CLI, "schedule", "--work-dir", tmp_path], capture_output=True, text=True)
    assert result.returncode == 2 and "schedule.cron or schedule.interval" in result.stderr
    env = {**os.environ, "HIERO_REPLAY_SCHEDULE__CRON": "61 * * * *"}
    result = subprocess.run([*CLI, "schedule", "--work-dir", tmp_path], capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "schedule.cron" in result.stderr


def test_follow_mode_keeps_a_replica_up_to_date(tmp_path: Path) -> None:
    from hiero_replay.config import load_settings
    from hiero_replay.schedule.follow import replay_job
    from hiero_replay.schedule.scheduler import policy_from
    from hiero_replay.simulate.history import write_history
    from hiero_replay.states import read_state_metadata

    history = write_history(tmp_path / "history", bootstrap_round=10, cutover_round=61, target_round=130, last_block_round=130)
    replica = tmp_path / "replica"
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {"bootstrap_state": str(history.bootstrap_state), "node_id": 3, "out": str(replica), "window": 10},
            "schedule": {"interval": 60, "follow": True},
            "work_dir": str(tmp_path / "work"),
            "simulate": True,
        },
    )
    store = RunStore(settings.work_dir)
    try:
        clock = FakeWallClock()
        job = replay_job(settings, store)
        Scheduler(IntervalTrigger(timedelta(seconds=60)), policy_from(settings.schedule), job, store, clock=clock).run(max_fires=4)
        runs = [run for run in reversed(store.runs()) if run.trigger == "schedule" and run.state != "skipped"]
        skipped = [run for run in store.runs() if run.state == "skipped"]
    finally:
        store.close()
    # 10 s of consensus time per run (40 rounds of 0.25 s), each from the previous run's state.
    assert [(run.plan["start_round"], run.final_round) for run in runs] == [(11, 50), (51, 90), (91, 130)]
    assert all(run.state == "succeeded" for run in runs)
    assert [run.error_kind for run in skipped] == ["nothing-to-replay"]  # the fourth fire: up to date
    assert [run.plan["bootstrap_state"] for run in runs[1:]] == [run.plan["out"] for run in runs[:-1]]
    latest = read_state_metadata(replica / "latest")
    assert (latest.round, latest.hash) == (130, read_state_metadata(history.expected_state).hash)


def test_a_paused_schedule_does_not_catch_up_or_fire(store: RunStore) -> None:
    clock = FakeWallClock()
    job = Job(clock, duration=1, codes=[4])
    scheduler(store, job, clock).run(max_fires=1)  # a continuity gap pauses it
    clock.current += timedelta(minutes=5)

    class Operator(FakeWallClock):
        """Resumes the schedule after it has waited paused for a minute."""

        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if self.current - T0 > timedelta(minutes=6) and store.schedule(SCHEDULE_NAME).paused:
                resume_schedule(store)

    operator = Operator(clock.current)
    later = Job(operator, duration=1)
    runner = Scheduler(IntervalTrigger(timedelta(seconds=10)), SchedulePolicy(catch_up=timedelta(hours=1)), later, store, clock=operator)
    runner.run(max_fires=1)
    assert later.started and later.started[0] > T0 + timedelta(minutes=6)  # nothing ran while paused
