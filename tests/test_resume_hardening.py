"""``run --resume`` with what may have changed since the run was planned: its stream files, the
folder it is run from, its inputs gone for a while; the rate of a resume that adopts a segment;
the flags a resume takes; the command an interrupted run is told to resume it with."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from hiero_replay.config import Settings, load_settings
from hiero_replay.errors import CorruptFileError, ReplayInterrupted
from hiero_replay.model.plan import ReplayPlan
from hiero_replay.model.results import RunResult, SegmentResult
from hiero_replay.observe.events import RunObserver
from hiero_replay.run import run_replay
from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import LEDGER_ENV
from hiero_replay.states import read_state_metadata

CLI = [sys.executable, "-m", "hiero_replay"]


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> tuple[History, History]:
    """A history, and another one of the same shape and file names but other contents."""
    root = tmp_path_factory.mktemp("histories")
    shape = partial(write_history, bootstrap_round=10, cutover_round=61, target_round=120)
    return shape(root / "one"), shape(root / "other", seed=8)


PATHS = ("root", "events_dir", "blocks_dir", "bootstrap_state", "expected_state")


def moved(history: History, old: Path, new: Path) -> History:
    """``history`` with its paths under ``old`` given under ``new`` instead."""
    return replace(history, **{name: new / getattr(history, name).relative_to(old) for name in PATHS})


def fresh_copy(history: History, folder: Path) -> History:
    """A copy of ``history`` under ``folder`` that a test may change."""
    shutil.copytree(history.root, folder)
    return moved(history, history.root, folder)


def settings(history: History, work: Path | str, out: Path | str) -> Settings:
    """10-round segments to the history's target, not checked against the block stream (a changed
    file must be caught for what it is, not by a later mismatch)."""
    return load_settings(None, {
        "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
        "replay": {"bootstrap_state": str(history.bootstrap_state), "node_id": 3, "out": str(out), "segment_rounds": 10,
                   "target_round": history.target_round, "stream_proofs": False},
        "work_dir": str(work), "simulate": True,
    })  # fmt: skip


class InterruptAfter(RunObserver):
    """Interrupts the run once ``segments`` segments are verified, as a SIGTERM would."""

    def __init__(self, segments: int = 1) -> None:
        self.left = segments

    def segment_verified(self, *_: object) -> None:
        self.left -= 1
        if self.left == 0:
            raise ReplayInterrupted("Interrupted by the test.")


def interrupted_run(history: History, work: Path | str, out: Path | str) -> None:
    with pytest.raises(ReplayInterrupted):
        run_replay(settings(history, work, out), observer=InterruptAfter())


def cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def run_state(work: Path) -> str:
    shown = cli("status", "--json", "--work-dir", work)
    assert shown.returncode == 0, shown.stderr
    return str(json.loads(shown.stdout)["runs"][0]["state"])


def replace_blocks(history: History, other: History) -> list[str]:
    """Every block file of ``history`` overwritten in place by the file of the same name of ``other``."""
    names = sorted(path.name for path in history.blocks_dir.iterdir())
    for name in names:
        shutil.copyfile(other.blocks_dir / name, history.blocks_dir / name)
    return names


# stream files changed or gone since the plan --------------------------------------------------


def test_a_resume_refuses_stream_files_changed_since_the_run_was_planned_and_stays_resumable(
    histories: tuple[History, History], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, other = histories
    history = fresh_copy(one, tmp_path / "history")
    work, out, ledger = tmp_path / "work", tmp_path / "out", tmp_path / "ledger.txt"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    interrupted_run(history, work, out)
    applied = ledger.read_text()
    originals = tmp_path / "originals"
    shutil.copytree(history.blocks_dir, originals)
    names = replace_blocks(history, other)

    resumed = cli("run", "--resume", "--work-dir", work)

    assert resumed.returncode == 7, resumed.stderr
    assert "is not the copy verified when the run was planned" in resumed.stderr
    assert any(name in resumed.stderr for name in names)
    assert ledger.read_text() == applied  # refused before any backend started
    assert not out.exists()
    assert run_state(work) == "interrupted"  # not failed for good: it resumes once the files are back
    for name in names:
        shutil.copyfile(originals / name, history.blocks_dir / name)
    again = cli("run", "--resume", "--work-dir", work)
    assert again.returncode == 0, again.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash


def test_a_stream_file_changed_while_the_run_goes_on_is_refused_when_its_segment_is_staged(
    histories: tuple[History, History], tmp_path: Path
) -> None:
    one, other = histories
    history = fresh_copy(one, tmp_path / "history")
    out = tmp_path / "out"

    class ChangeBlocks(RunObserver):
        def __init__(self) -> None:
            self.names: list[str] = []

        def segment_verified(self, *_: object) -> None:
            self.names = self.names or replace_blocks(history, other)

    changing = ChangeBlocks()
    with pytest.raises(CorruptFileError) as raised:
        run_replay(settings(history, tmp_path / "work", out), observer=changing)
    assert raised.value.exit_code == 7
    assert raised.value.file in changing.names
    assert not out.exists()


def test_a_resume_whose_input_folder_is_missing_stays_resumable(histories: tuple[History, History], tmp_path: Path) -> None:
    history = fresh_copy(histories[0], tmp_path / "history")
    work, out = tmp_path / "work", tmp_path / "out"
    interrupted_run(history, work, out)
    away = tmp_path / "away"
    history.blocks_dir.rename(away)

    missing = cli("run", "--resume", "--work-dir", work)

    assert missing.returncode == 3, missing.stderr
    assert str(history.blocks_dir) in missing.stderr
    assert run_state(work) == "interrupted"
    away.rename(history.blocks_dir)
    resumed = cli("run", "--resume", "--work-dir", work)
    assert resumed.returncode == 0, resumed.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash


# paths relative to the folder the run was started from --------------------------------------


def test_a_run_started_with_relative_paths_resumes_from_another_folder_with_the_same_files(
    histories: tuple[History, History], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, other = histories
    here, there = tmp_path / "here", tmp_path / "there"
    history = fresh_copy(one, here / "history")
    fresh_copy(other, there / "history")  # the same relative paths, other files
    monkeypatch.chdir(here)
    relative = moved(history, here, Path())
    interrupted_run(relative, "work", "out")

    resumed = cli("run", "--resume", "--work-dir", here / "work", cwd=there)

    assert resumed.returncode == 0, resumed.stderr
    assert read_state_metadata(here / "out").hash == read_state_metadata(history.expected_state).hash
    assert not (there / "out").exists() and not (there / "work").exists()


# the rate of a resume that adopts a segment --------------------------------------------------


def _plan(rate: str) -> ReplayPlan:
    return ReplayPlan(
        run_id="r", run_dir=Path("/w/runs/r"), mode="auto", reason="", bootstrap_state=Path("/s"), bootstrap_round=10,
        bootstrap_hash="0" * 96, start_round=11, target_round=130, cutover_round=None, expected_hash=None, out=Path("/o"),
        rate=rate, sources={},
    )  # fmt: skip


def test_the_rate_of_a_resume_counts_an_adopted_segment_over_the_time_it_ran() -> None:
    """A segment of 100 rounds that ran 4 s before the resume and 1 s after it, then one of 20 rounds
    in 1 s: 120 rounds in 6 s, 20 rounds/s, not 120 rounds in the 2 s of the resumed invocation."""
    adopted = SegmentResult(1, "block-stream", 11, 110, 110, "a" * 96, seconds=5.0, consensus_seconds=None, before_resume=4.0)
    after = SegmentResult(2, "block-stream", 111, 130, 130, "b" * 96, seconds=1.0, consensus_seconds=None)
    result = RunResult(_plan("20 rounds/s"), [adopted, after], seconds=2.0)

    assert result.measured_seconds == 6.0
    assert result.rounds_per_second == 20.0
    assert result.achieved_rate() == 20.0 and not result.exceeded_rate
    assert result.to_json()["measured_seconds"] == 6.0


def _segments(work: Path) -> list[tuple[str, str, int | None]]:
    database = work / "runs.db"
    if not database.exists():
        return []
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return list(db.execute("SELECT backend, state, supervisor_pid FROM segments ORDER BY idx"))
    except sqlite3.OperationalError:  # not created yet
        return []


def test_a_resume_that_adopts_a_running_segment_reports_the_rate_the_rounds_were_replayed_at(
    histories: tuple[History, History], tmp_path: Path
) -> None:
    history = histories[0]
    work, out = tmp_path / "work", tmp_path / "out"
    first = subprocess.Popen(
        [*CLI, "run", "--simulate", "--events", str(history.events_dir), "--blocks", str(history.blocks_dir),
         "--bootstrap-state", str(history.bootstrap_state), "--node-id", "3", "--target-round", str(history.target_round),
         "--rate", "20 rounds/s", "--work-dir", str(work), "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:  # the block-stream segment (rounds 61..120, 3 s at the rate) started under its supervisor
        while not any(b == "block-stream" and s == "running" and pid for b, s, pid in _segments(work)):
            assert first.poll() is None, "the run ended before its block-stream segment was seen running"
            time.sleep(0.02)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    resumed = cli("run", "--resume", "--work-dir", work)

    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(next(work.glob("runs/*/result.json")).read_text())
    adopted = summary["segments"][-1]
    assert adopted["replayed"] and adopted["before_resume"] > 0
    assert summary["measured_seconds"] >= adopted["seconds"] - 0.01  # the rounds are counted over the time they took
    assert summary["rounds_per_second"] == pytest.approx(summary["rounds_replayed"] / summary["measured_seconds"], rel=0.01)
    assert summary["exceeded_rate"] is False
    assert "ABOVE the cap" not in resumed.stdout


# the flags a resume takes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "refused"),
    [
        (["--out", "elsewhere", "--rate", "5 rounds/s"], ["--out", "--rate"]),
        (["--target-round", "50", "--metrics-textfile", "m.prom"], ["--target-round"]),
        (["--simulate", "--no-stream-proofs"], ["--simulate", "--no-stream-proofs"]),
    ],
)
def test_a_resume_refuses_flags_that_would_change_the_recorded_settings(tmp_path: Path, flags: list[str], refused: list[str]) -> None:
    result = cli("run", "--resume", "--work-dir", tmp_path / "work", *flags)
    assert result.returncode == 2
    named = result.stderr.split("cannot change them")[0]
    assert sorted(flag for flag in named.replace(",", " ").split() if flag.startswith("--") and flag != "--resume") == sorted(refused)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "work").exists()


def test_a_resume_takes_the_work_dir_and_metrics_flags(tmp_path: Path) -> None:
    result = cli("run", "--resume", "--work-dir", tmp_path / "work", "--metrics-textfile", tmp_path / "metrics.prom")
    assert result.returncode == 2 and "No unfinished run to resume" in result.stderr


def test_a_run_id_without_resume_is_refused(histories: tuple[History, History], tmp_path: Path) -> None:
    history = histories[0]
    result = cli(
        "run", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir, "--bootstrap-state",
        history.bootstrap_state, "--node-id", "3", "--work-dir", tmp_path / "work", "--out", tmp_path / "out", "--run-id", "foo",
    )  # fmt: skip
    assert result.returncode == 2
    assert "--run-id" in result.stderr and "--resume" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "work").exists()


# the command an interrupted run is told to resume it with ---------------------------------------


def test_the_resume_command_an_interrupted_run_prints_works_as_it_is_from_another_folder(
    histories: tuple[History, History], tmp_path: Path
) -> None:
    history = histories[0]
    started_in, elsewhere = tmp_path / "started in", tmp_path / "elsewhere"
    started_in.mkdir()
    elsewhere.mkdir()
    (started_in / "replay config.toml").write_text('[pace]\nrate = "20 rounds/s"\n')
    env = {**os.environ}
    first = subprocess.Popen(
        [*CLI, "run", "--config", "replay config.toml", "--simulate", "--events", str(history.events_dir), "--blocks",
         str(history.blocks_dir), "--bootstrap-state", str(history.bootstrap_state), "--node-id", "3", "--target-round",
         str(history.target_round), "--segment-rounds", "10", "--work-dir", "my work", "--out", "out"],
        cwd=started_in, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    while not any(state == "verified" for _, state, _ in _segments(started_in / "my work")):
        assert first.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    first.send_signal(signal.SIGTERM)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 8, stderr

    command = shlex.split(stderr.split("Resume it with `", 1)[1].split("`", 1)[0])
    assert command[:3] == ["hiero-replay", "run", "--resume"]
    assert command[3:] == ["--work-dir", str(started_in / "my work"), "--config", str(started_in / "replay config.toml")]
    resumed = cli(*command[1:], cwd=elsewhere, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert read_state_metadata(started_in / "out").hash == read_state_metadata(history.expected_state).hash
