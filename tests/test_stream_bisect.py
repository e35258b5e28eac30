"""The divergence bisect and the bootstrap check at their edges, with the simulators on synthetic
histories (blocks of 10 rounds from the cutover, footers from the simulated transition): an
interruption mid-search, a start state nothing proves, ``--out`` on another file system, a folder
that starts with the first replayed block, and the escape hatch for a tool of another era."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.inventory import load_stream_files
from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import DIVERGE_ENV, ROUND_SECONDS_ENV, write_state_directory
from hiero_replay.sources.local import LocalDirSource

CLI = [sys.executable, "-m", "hiero_replay"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=160)


@pytest.fixture(scope="module")
def block_state(history: History) -> Path:
    """The state after round 60, where the block stream starts: its HASH is what block 0's footer carries."""
    first = load_stream_files(LocalDirSource(history.blocks_dir)).blocks[0]
    assert first.block is not None and first.block.footer is not None and first.first_round == 61
    state = history.root / "saved" / "blocks-start" / "60"
    write_state_directory(
        state, round_number=60, state_hash=first.block.footer.start_of_block_state_root_hash.hex(), node_id=3, consensus_time_ns=None
    )
    return state


def _args(history: History, tmp_path: Path, *extra: object) -> list[str]:
    args = ["run", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir, "--bootstrap-state",
            history.bootstrap_state, "--target-round", "160", "--node-id", "3", "--work-dir", tmp_path / "work",
            "--out", tmp_path / "out", *extra]  # fmt: skip
    return [*CLI, *map(str, args)]


def _run(history: History, tmp_path: Path, *extra: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_args(history, tmp_path, *extra), capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


def _result(tmp_path: Path) -> dict[str, Any]:
    [result] = (tmp_path / "work" / "runs").glob("*/result.json")
    summary: dict[str, Any] = json.loads(result.read_text())
    return summary


def test_an_interrupted_bisect_exits_8_and_resume_finishes_the_search(history: History, block_state: Path, tmp_path: Path) -> None:
    env = {**os.environ, DIVERGE_ENV: "125", ROUND_SECONDS_ENV: "0.02"}  # round 125: block 6 (121..130)
    process = subprocess.Popen(
        _args(history, tmp_path, "--mode", "block-stream", "--bootstrap-state", block_state),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and not list((tmp_path / "work").glob("runs/*/segments/*/bisect/01")):
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 8, stderr
    resumed = subprocess.run(
        [*CLI, "run", "--resume", "--work-dir", str(tmp_path / "work")], capture_output=True, text=True, env=env, timeout=300
    )
    assert resumed.returncode == 5, resumed.stderr
    assert _result(tmp_path)["first_divergent_block"] == 6
    assert "diverges from the block stream at block 6 (rounds 121..130)" in resumed.stderr


def test_a_start_state_nothing_proves_is_said_and_no_block_is_blamed(history: History, tmp_path: Path) -> None:
    """The fault is in the event rounds (30): the block segment starts from a state no footer proves,
    and every step differs, so the divergence may lie before the blocks."""
    result = _run(history, tmp_path, env={DIVERGE_ENV: "30"})
    assert result.returncode == 5, result.stderr
    summary = _result(tmp_path)
    assert summary["first_divergent_block"] is None and summary["divergence"]["start_proven"] is False
    assert "at or before block 0 (rounds 61..70)" in result.stderr and "not proven by the stream" in result.stderr
    [events] = [s for s in summary["segments"] if s["backend"] == "event-stream"]
    assert events["verified_by"] == "none"
    assert summary["divergence"]["runs"] <= math.ceil(math.log2(10))
    shown = subprocess.run([*CLI, "status", "--work-dir", str(tmp_path / "work")], capture_output=True, text=True, timeout=60)
    current = shown.stdout.splitlines()[1]
    assert current.startswith("current: run") and " failed, " in current and "ETA" not in current and "rounds/s" not in current


def test_a_mismatched_state_is_kept_when_out_is_on_another_file_system(history: History, block_state: Path, tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to put --out on")
    out = shm / f"hiero-replay-test-{os.getpid()}-{tmp_path.name}"
    out.mkdir()
    try:
        result = _run(history, tmp_path, "--mode", "block-stream", "--bootstrap-state", block_state, "--out", out / "160",
                      env={DIVERGE_ENV: "125"})  # fmt: skip
        assert result.returncode == 5, result.stderr
        assert list((tmp_path / "work").glob("runs/*/mismatched-state-segment-1/stateMetadata.txt"))
        assert not out.exists() or not any(out.iterdir())
        assert _result(tmp_path)["first_divergent_block"] == 6
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_a_wrong_bootstrap_is_refused_from_a_folder_that_starts_with_the_first_replayed_block(history: History, tmp_path: Path) -> None:
    blocks = tmp_path / "blocks"
    shutil.copytree(history.blocks_dir, blocks)
    for number in range(5):  # blocks 0..4 (rounds 61..110) are gone: block 5 starts right after round 110
        next(blocks.glob(f"{number:036d}.blk*")).unlink()
    wrong = tmp_path / "wrong" / "110"
    write_state_directory(wrong, round_number=110, state_hash="ab" * 48, node_id=3, consensus_time_ns=None)
    result = _run(history, tmp_path, "--mode", "block-stream", "--blocks", blocks, "--bootstrap-state", wrong)
    assert result.returncode == 5, result.stderr
    assert "is not the state block 5 starts from" in result.stderr
    assert not list((tmp_path / "work").rglob("backend.status"))


def test_no_stream_proofs_is_an_escape_hatch_for_a_tool_of_another_era(history: History, tmp_path: Path) -> None:
    result = _run(history, tmp_path, "--no-stream-proofs", "--segment-rounds", "40")
    assert result.returncode == 0, result.stderr
    segments = _result(tmp_path)["segments"]
    assert [s["verified_by"] for s in segments if s["backend"] == "block-stream"] == ["none", "none", "none"]
    plan = json.loads(next((tmp_path / "work" / "runs").glob("*/plan.json")).read_text())
    assert all("--expected-hash" not in s["argv"] for s in plan["segments"])
    assert "not checked against the stream (--no-stream-proofs)" in plan["segments"][-1]["proof"]["reason"]
