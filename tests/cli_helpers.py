"""Running ``hiero-replay`` as a user does: a real process, with a simulated history's inputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hiero_replay.simulate.history import History

CLI = [sys.executable, "-m", "hiero_replay"]
StrPath = str | os.PathLike[str]


def cli(*args: StrPath, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def replay_args(history: History, tmp_path: Path, *extra: StrPath, node_id: int | None = 3) -> list[StrPath]:
    """A simulated replay of ``history`` with its work directory in ``tmp_path``, then ``extra``."""
    node = ["--node-id", str(node_id)] if node_id is not None else []
    return [
        "--simulate",
        "--events", history.events_dir,
        "--blocks", history.blocks_dir,
        "--bootstrap-state", history.bootstrap_state,
        *node,
        "--work-dir", tmp_path / "work",
        *extra,
    ]  # fmt: skip
