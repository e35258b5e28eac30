"""Where hiero-replay writes. An ``--out`` that appears while a run goes on is not replaced: the
verified state is kept beside it, and the error says where."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata

CLI = [sys.executable, "-m", "hiero_replay"]


def cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *(arg if isinstance(arg, str) else str(arg) for arg in args)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A history of its own for each test: a failing test must not damage another's inputs."""
    return write_history(tmp_path / "history", saved_every=50)


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its content."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def saved_110(history: History) -> Path:
    """The saved state of round 110, where the block stream already runs."""
    [state] = [state for state in history.saved_states if state.name == "110"]
    return state


def quick(history: History, *extra: object) -> list[object]:
    """A short block-stream run from the saved state of round 110 to round 150."""
    return [
        "run", "--simulate", "--mode", "block-stream", "--blocks", history.blocks_dir, "--events", history.events_dir,
        "--bootstrap-state", saved_110(history), "--node-id", "3", "--target-round", "150", *extra,
    ]  # fmt: skip


#: A backend that lets another process create ``--out`` while it replays (before it writes its
#: output): the block-stream simulator, run after making the folder named by OUT_APPEARS.
APPEARING = (
    "import os, runpy, sys\n"
    "if '--target-round' in sys.argv:\n"
    "    os.makedirs(os.environ['OUT_APPEARS'], exist_ok=True)\n"
    "runpy.run_module('hiero_replay.simulate.validator', run_name='__main__')\n"
)


@pytest.mark.parametrize("appears", ["empty-folder", "folder-with-a-file"])
def test_an_out_that_appears_during_the_run_is_not_replaced_and_the_state_is_kept_visibly(
    appears: str, history: History, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = tmp_path / "backends.toml"
    config.write_text(f"[backends.block_stream]\ncommand = {json.dumps([sys.executable, '-c', APPEARING])}\n")
    args = quick(history, "--work-dir", tmp_path / "work", "--out", out, "--config", config)
    args.remove("--simulate")  # the block-stream command is the wrapper above
    env = {**os.environ, "OUT_APPEARS": str(out)}
    if appears == "folder-with-a-file":
        env["OUT_APPEARS"] = str(out / "theirs")

    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)

    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    [kept] = [path for path in tmp_path.iterdir() if path.name.endswith("-final-state")]
    assert f"The output {out} appeared while the run went on" in result.stderr and str(kept) in result.stderr
    assert read_state_metadata(kept).round == 150  # the verified state, in full
    assert [path.name for path in out.rglob("*")] == ([] if appears == "empty-folder" else ["theirs"])  # theirs, untouched
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]
    status = json.loads(cli("status", "--json", "--work-dir", tmp_path / "work").stdout)
    assert status["runs"][0]["state"] == "failed" and status["runs"][0]["exit_code"] == 2
