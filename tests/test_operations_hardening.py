"""What operators see of a schedule, a run's status and its work directory: an idle fire is a skip,
not a failure; stopping an idle scheduler stops no run; a killed run is not shown as running; a
successful run leaves its records and logs, not its intermediate states and staged input."""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.errors import ReplayInterrupted
from hiero_replay.schedule.scheduler import SchedulePolicy, Scheduler
from hiero_replay.schedule.triggers import IntervalTrigger
from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata
from hiero_replay.store import RunStore

CLI = [sys.executable, "-m", "hiero_replay"]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
#: Generous bounds for a subprocess to reach a point; never a measure of speed.
PATIENCE_SECONDS = 120


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"))


def replay_args(history: History, work: Path, *extra: str | Path) -> list[str | Path]:
    return [
        "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir,
        "--bootstrap-state", history.bootstrap_state, "--node-id", "3", "--work-dir", work, *extra,
    ]  # fmt: skip


def status_json(work: Path) -> dict[str, Any]:
    shown = cli("status", "--json", "--work-dir", work)
    assert shown.returncode == 0, shown.stderr
    report: dict[str, Any] = json.loads(shown.stdout)
    return report


class FakeWallClock:
    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=max(0.0, seconds))


# 1. an idle fire is skipped, everywhere ------------------------------------------------------


def test_a_fire_that_finds_nothing_new_is_skipped_in_status_and_metrics(history: History, tmp_path: Path) -> None:
    from hiero_replay.cli.session import observers
    from hiero_replay.config import load_settings
    from hiero_replay.schedule.follow import replay_job
    from hiero_replay.schedule.scheduler import policy_from

    work, textfile = tmp_path / "work", tmp_path / "metrics.prom"
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {"bootstrap_state": str(history.bootstrap_state), "node_id": 3, "out": str(tmp_path / "replica")},
            "schedule": {"interval": 60, "follow": True},
            "metrics": {"textfile": str(textfile)},
            "work_dir": str(work),
            "simulate": True,
        },
    )
    observer, _ = observers(settings)
    store = RunStore(work)
    try:
        job = replay_job(settings, store, observer=observer)
        Scheduler(
            IntervalTrigger(timedelta(seconds=60)), policy_from(settings.schedule), job, store, clock=FakeWallClock(), observer=observer
        ).run(max_fires=2)  # the first fire replays everything, the second finds nothing new
    finally:
        store.close()

    report = status_json(work)
    assert [run["state"] for run in report["runs"]] == ["skipped", "succeeded"]
    current = report["current"]
    assert current["state"] == "skipped" and current["run_id"] == report["runs"][0]["run_id"]
    assert current["last_error"] is None and "not after the bootstrap state" in current["reason"]
    shown = cli("status", "--work-dir", work)
    assert shown.returncode == 0 and "failed" not in shown.stdout and "last error" not in shown.stdout
    assert f"current: run {current['run_id']} skipped" in shown.stdout
    samples = [line for line in textfile.read_text().splitlines() if not line.startswith("#")]
    assert "hiero_replay_skipped_runs_total 1.0" in samples
    assert not [line for line in samples if line.startswith("hiero_replay_failures_total")]


# 2. stopping an idle scheduler --------------------------------------------------------------


def test_sigterm_while_the_scheduler_waits_says_no_run_was_stopped(tmp_path: Path) -> None:
    config = tmp_path / "schedule.toml"
    config.write_text(f'work_dir = "{tmp_path / "work"}"\n[schedule]\ninterval = 3600\n')
    scheduler = subprocess.Popen([*CLI, "schedule", "--config", config], stderr=subprocess.PIPE, text=True)
    try:
        assert scheduler.stderr is not None
        for line in scheduler.stderr:  # the scheduler logs before it waits for its first fire
            if "schedule waiting" in line:
                break
        scheduler.send_signal(signal.SIGTERM)
        _, stderr = scheduler.communicate(timeout=PATIENCE_SECONDS)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
    assert scheduler.returncode == ReplayInterrupted.exit_code, stderr
    assert "no run was in progress, so there is nothing to resume" in stderr
    assert "--resume" not in stderr and "backend was stopped" not in stderr


def test_an_interruption_during_a_scheduled_run_still_says_the_run_was_interrupted(tmp_path: Path) -> None:
    class Interrupting(FakeWallClock):
        def sleep(self, seconds: float) -> None:
            raise ReplayInterrupted("Interrupted by SIGTERM; the backend was stopped.")

    store = RunStore(tmp_path / "work")
    try:
        trigger, policy = IntervalTrigger(timedelta(seconds=10)), SchedulePolicy()
        with pytest.raises(ReplayInterrupted, match="nothing to resume"):  # while waiting for the first fire
            Scheduler(trigger, policy, lambda: 0, store, clock=Interrupting()).run(max_fires=1)
        with pytest.raises(ReplayInterrupted, match="The scheduled run was interrupted"):  # the run's own exit 8
            Scheduler(trigger, policy, lambda: ReplayInterrupted.exit_code, store, clock=FakeWallClock()).run(max_fires=1)
    finally:
        store.close()


# 3. and 4. a killed run: status, checkpoints, resume, what a success leaves ------------------


def _wait_for_segment(work: Path, run: subprocess.Popen[str], segment: int) -> None:
    """Until status.json says the run started ``segment`` (every segment before it verified)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline and run.poll() is None:
        try:
            current = json.loads((work / "status.json").read_text())
        except (OSError, ValueError):
            current = {}
        if current.get("state") == "running" and current.get("segment", 0) >= segment:
            return
        time.sleep(0.05)
    pytest.fail(f"the run did not reach segment {segment} (exit {run.poll()})")


@pytest.fixture
def killed_run(history: History, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A paced run of 5 segments, SIGKILLed while its third runs: (work dir, output)."""
    work, out = tmp_path / "work", tmp_path / "out"
    args = replay_args(history, work, "--segment-rounds", "50", "--rate", "20 rounds/s", "--expected-state", history.expected_state)
    run = subprocess.Popen([*CLI, "run", *map(str, args), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_segment(work, run, 3)
        run.send_signal(signal.SIGKILL)  # the orchestrator only: its backend's supervisor carries on, detached
        run.communicate(timeout=PATIENCE_SECONDS)
        yield work, out
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
        # Adopt whatever backend the kill left running, so that nothing outlives the test.
        cli("run", "--resume", "--work-dir", work)


def test_a_killed_run_is_shown_interrupted_with_how_to_resume(killed_run: tuple[Path, Path]) -> None:
    work, _ = killed_run
    report = status_json(work)
    current, [run] = report["current"], report["runs"]
    assert current["state"] == "interrupted" and "eta_seconds" not in current
    assert run["state"] == "interrupted"
    assert current["resume"] == run["resume"] == f"hiero-replay run --resume --run-id {run['run_id']} --work-dir {shlex.quote(str(work))}"
    relative = subprocess.run(
        [*CLI, "status", "--json", "--work-dir", work.name], cwd=work.parent, capture_output=True, text=True, timeout=120
    )
    assert json.loads(relative.stdout)["current"]["resume"] == current["resume"]  # to be run as it is, from any folder
    shown = cli("status", "--work-dir", work).stdout
    assert f"current: run {run['run_id']} interrupted, segment" in shown and "ETA" not in shown and f"`{current['resume']}`" in shown
    # While a process holds the work directory's lock, the run recorded as running is that process's.
    with open(work / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = status_json(work)
    assert held["current"]["state"] == held["runs"][0]["state"] == "running" and "resume" not in held["current"]


def test_a_resume_needs_only_the_newest_checkpoint_and_a_success_removes_them(history: History, killed_run: tuple[Path, Path]) -> None:
    work, out = killed_run
    [run_dir] = (work / "runs").iterdir()
    segments = sorted((run_dir / "segments").iterdir())
    assert (segments[0] / "state").is_dir() and (segments[1] / "state").is_dir()  # an unfinished run keeps its checkpoints
    (segments[0] / "state" / "stateMetadata.txt").unlink()  # superseded by segment 2's: not needed to go on
    resumed = cli("run", "--resume", "--work-dir", work)
    assert resumed.returncode == 0, resumed.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash
    _assert_only_records_and_logs_left(run_dir)


def _assert_only_records_and_logs_left(run_dir: Path) -> None:
    assert {path.name for path in run_dir.iterdir()} == {"plan.json", "result.json", "segments"}
    segments = sorted((run_dir / "segments").iterdir())
    assert len(segments) > 2
    for segment in segments:
        kept = {path.name for path in segment.iterdir()}
        assert "backend.log" in kept and "input" not in kept and "state" not in kept, (segment, kept)
        assert all(not path.is_dir() for path in segment.iterdir())


def test_a_successful_run_keeps_its_records_and_logs_not_its_states(history: History, tmp_path: Path) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    ran = cli("run", *replay_args(history, work, "--segment-rounds", "50", "--out", out))
    assert ran.returncode == 0, ran.stderr
    [run_dir] = (work / "runs").iterdir()
    _assert_only_records_and_logs_left(run_dir)
    assert read_state_metadata(out).round == 230  # the output stays, of course
    [run] = status_json(work)["runs"]
    assert run["state"] == "succeeded" and run["segments_verified"] == run["segments"] == 5
    assert cli("report", "--work-dir", work, "--html", tmp_path / "report.html").returncode == 0


def test_a_run_asked_for_by_hand_that_finds_nothing_to_replay_failed(history: History, tmp_path: Path) -> None:
    """Only a scheduled fire that finds nothing new is a skip: a target before the bootstrap state,
    given by hand, is a failure in the record and in status."""
    work = tmp_path / "work"
    ran = cli("run", *replay_args(history, work, "--target-round", "5", "--out", tmp_path / "out"))
    assert ran.returncode == 2, ran.stderr
    [run] = status_json(work)["runs"]
    assert run["state"] == "failed" and run["exit_code"] == 2


def test_keep_intermediates_keeps_a_successful_runs_inputs_and_states(history: History, tmp_path: Path) -> None:
    work = tmp_path / "work"
    ran = cli("run", *replay_args(history, work, "--segment-rounds", "50", "--keep-intermediates", "--out", tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    [run_dir] = (work / "runs").iterdir()
    with sqlite3.connect(work / "runs.db") as db:
        checkpoints = [Path(row[0]) for row in db.execute("SELECT state_dir FROM checkpoints ORDER BY idx")]
    assert len(checkpoints) == 5 and all(read_state_metadata(state).round for state in checkpoints[:-1])
    assert all(any((segment / "input").iterdir()) for segment in (run_dir / "segments").iterdir())


def test_a_failed_run_keeps_its_checkpoints(history: History, tmp_path: Path) -> None:
    work = tmp_path / "work"
    failed = cli("run", *replay_args(history, work, "--segment-rounds", "50", "--expected-hash", "0" * 96, "--out", tmp_path / "out"))
    assert failed.returncode == 5, failed.stderr
    [run_dir] = (work / "runs").iterdir()
    with sqlite3.connect(work / "runs.db") as db:
        checkpoints = [Path(row[0]) for row in db.execute("SELECT state_dir FROM checkpoints ORDER BY idx")]
    assert len(checkpoints) == 4 and all(read_state_metadata(state).round for state in checkpoints)
    assert all(os.path.isdir(segment / "input") for segment in (run_dir / "segments").iterdir())


@pytest.mark.parametrize("keep", [False, True])
def test_a_verified_history_job_keeps_its_logs_and_its_intermediates_when_told(tmp_path: Path, keep: bool) -> None:
    made = write_history(tmp_path / "history", saved_every=50)
    assert made.saved_dir is not None
    work = tmp_path / "work"
    flags: list[str | Path] = [
        "--simulate",
        "--events",
        made.events_dir,
        "--blocks",
        made.blocks_dir,
        "--node-id",
        "3",
        "--states",
        made.saved_dir,
    ]
    extra = ["--keep-intermediates"] if keep else []
    ran = cli("verify-history", *flags, "--work-dir", work, "--from-round", "10", "--to-round", "60", "--segment-rounds", "20", *extra)
    assert ran.returncode == 0, ran.stderr
    segments = list(work.glob("history/*/*/work/runs/*/segments/*"))
    assert len(segments) == 3 and all((segment / "backend.log").is_file() for segment in segments)  # the logs stay
    assert all((segment / "input").is_dir() is keep for segment in segments)
    assert not list(work.glob("history/*/*/out"))  # the output state goes either way (--keep-states keeps it)
