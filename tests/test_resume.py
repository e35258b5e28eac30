"""Crash safety: SIGKILL the orchestrator at random moments, resume, and compare with an
uninterrupted run. The simulators' ledger records every round a written state holds."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import LEDGER_ENV, ROUND_SECONDS_ENV
from hiero_replay.states import read_state_metadata

CLI = [sys.executable, "-m", "hiero_replay"]
KILLS = 20


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=120)


def args(history: History, work: Path, out: Path) -> list[str]:
    return [
        "--simulate", "--events", str(history.events_dir), "--blocks", str(history.blocks_dir),
        "--bootstrap-state", str(history.bootstrap_state), "--expected-state", str(history.expected_state),
        "--node-id", "3", "--segment-rounds", "6", "--work-dir", str(work), "--out", str(out),
    ]  # fmt: skip


def wait_for_orphans(work: Path, timeout: float = 60.0) -> None:
    """Let supervisors left by a killed orchestrator finish (a resume would adopt them anyway)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _mentions(p, str(work))]
        if not busy:
            return
        time.sleep(0.05)


def _mentions(process: Path, text: str) -> bool:
    try:
        return text.encode() in (process / "cmdline").read_bytes()
    except OSError:
        return False


def test_sigkill_at_random_moments_then_resume(history: History, tmp_path: Path) -> None:
    rng = random.Random(20261126)
    ledger = tmp_path / "ledger.txt"
    env = {**os.environ, ROUND_SECONDS_ENV: "0.04", LEDGER_ENV: str(ledger)}
    work, out = tmp_path / "work", tmp_path / "out"
    kills = 0
    command = ["run", *args(history, work, out)]
    finished = None
    while finished is None:
        process = subprocess.Popen([*CLI, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if kills < KILLS:
            time.sleep(rng.uniform(0.05, 0.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.communicate(timeout=60)
        else:
            stdout, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr
            finished = stdout
        if process.returncode == 0:
            finished = finished or "done"
            break
        shown = subprocess.run([*CLI, "status", "--json", "--work-dir", str(work)], capture_output=True, text=True)
        if shown.returncode == 0 and json.loads(shown.stdout)["runs"]:  # exit 3: killed before the run store existed
            command = ["run", "--resume", "--work-dir", str(work)]
        # otherwise the kill came before the run was recorded: start it afresh
    assert kills == KILLS

    state = read_state_metadata(out)
    assert state.round == history.target_round
    assert state.hash == read_state_metadata(history.expected_state).hash  # = an uninterrupted run
    applied = [int(line.split()[1]) for line in ledger.read_text().splitlines()]
    assert sorted(applied) == list(range(history.bootstrap_round + 1, history.target_round + 1))  # once each
    runs = json.loads(subprocess.run([*CLI, "status", "--json", "--work-dir", str(work)], capture_output=True, text=True).stdout)["runs"]
    assert runs[0]["state"] == "succeeded" and runs[0]["segments_verified"] == runs[0]["segments"]
    assert not list(work.glob("runs/*/segments/*/state.partial"))
    assert not list(tmp_path.glob(".hiero-replay-*.partial"))


def test_resume_with_nothing_to_resume_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run([*CLI, "run", "--resume", "--work-dir", str(tmp_path / "w")], capture_output=True, text=True)
    assert result.returncode == 2 and "No unfinished run" in result.stderr


def test_a_run_killed_after_its_folder_was_made_but_before_its_plan_was_recorded_is_planned_again(history: History, tmp_path: Path) -> None:
    """The moment between ``runs/<id>/`` being created and the plan reaching the run store: the
    resume plans the run again under its id, in the folder that is already there."""
    from hiero_replay.config import load_settings
    from hiero_replay.run.replay import recorded_settings
    from hiero_replay.store import RunStore

    work, out = tmp_path / "work", tmp_path / "out"
    settings = load_settings(None, {
        "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
        "replay": {"bootstrap_state": str(history.bootstrap_state), "expected_state": str(history.expected_state), "node_id": 3,
                   "out": str(out)},
        "work_dir": str(work), "simulate": True,
    })  # fmt: skip
    store = RunStore(work)
    try:
        store.open_run("20261129T000000Z-abcdef", trigger="manual", settings=recorded_settings(settings))
    finally:
        store.close()
    (work / "runs" / "20261129T000000Z-abcdef").mkdir(parents=True)
    resumed = subprocess.run([*CLI, "run", "--resume", "--work-dir", str(work)], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash
    assert (work / "runs" / "20261129T000000Z-abcdef" / "result.json").is_file()
