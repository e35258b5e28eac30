"""The per-segment supervisor: tiny (its imports are counted), faithful (lines and exit codes), and
followed without a timer: the orchestrator sees its end on a pidfd, not by polling."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.backends import process
from hiero_replay.backends.process import SUPERVISOR, SupervisorFiles, follow_backend, start_backend
from hiero_replay.errors import BackendError, ReplayError

#: What the supervisor may import beyond the interpreter's own start-up (``-I -S``: no ``site``).
HEAVY = {"pydantic", "rich", "obstore", "click", "hiero_replay", "subprocess", "threading", "json", "pathlib"}


def imported_by_supervisor(tmp_path: Path) -> set[str]:
    baseline = subprocess.run([sys.executable, "-I", "-S", "-X", "importtime", "-c", "pass"], capture_output=True, text=True)
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", str(SUPERVISOR), str(tmp_path / "s"), str(tmp_path / "l"), "--", "true"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr

    def modules(stderr: str) -> set[str]:
        return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:") and "|" in line}

    return modules(run.stderr) - modules(baseline.stderr) - {"package"}


def test_supervisor_imports_nothing_heavy(tmp_path: Path) -> None:
    added = imported_by_supervisor(tmp_path)
    assert not {name.split(".")[0] for name in added} & HEAVY, added
    assert {name.split(".")[0] for name in added} <= set(sys.stdlib_module_names), added
    assert len(added) <= 30, sorted(added)  # os, select, signal and what they need


class StubBackend:
    """Just what ``start_backend`` and ``follow_backend`` use of a backend."""

    name = "stub"
    timeout: float | None = None
    log_files: tuple[str, ...] = ()

    def __init__(self, script: str) -> None:
        self.script = script

    def argv(self, invocation: object) -> list[str]:
        return ["sh", "-c", self.script]

    def progress_round(self, line: str, first: int, last: int) -> int | None:
        return int(line.split()[1]) if line.startswith("round ") else None

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        return BackendError(f"exit {exit_code}: {' / '.join(tail)}")


def run_stub(tmp_path: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], list[int], list[bool]]:
    """Run ``script`` under the supervisor and follow it with a one-hour poll interval: only the
    pidfd can end the wait. Returns the lines, the rounds and, for each wait, whether it ended
    because the supervisor ended."""
    monkeypatch.setattr(process, "POLL_SECONDS", 3600.0)
    woken: list[bool] = []
    real_poll = select.poll

    class CountingPoll:
        def __init__(self) -> None:
            self.inner = real_poll()

        def register(self, *args: Any) -> None:
            self.inner.register(*args)

        def poll(self, *args: Any) -> Any:
            ready = self.inner.poll(*args)
            woken.append(bool(ready))
            return ready

    def no_sleep(_: float) -> None:
        raise AssertionError("the follow loop slept instead of waiting on the supervisor")

    # the modules ``process`` uses (``process.select`` and ``process.time`` are these objects)
    monkeypatch.setattr(select, "poll", CountingPoll)
    monkeypatch.setattr(time, "sleep", no_sleep)
    backend: Any = StubBackend(script)
    files = SupervisorFiles.in_folder(tmp_path / "segment")
    started = start_backend(backend, None, files)  # type: ignore[arg-type]
    lines: list[tuple[str, str]] = []
    rounds: list[int] = []
    try:
        follow_backend(
            backend, files, started.pid, started_at=time.time(), rounds=(1, 9), on_line=lambda s, t: lines.append((s, t)),
            on_round=rounds.append, process=started,
        )  # fmt: skip
    finally:
        started.wait(timeout=30)
    return lines, rounds, woken


def test_lines_rounds_and_end_are_seen_without_a_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines, rounds, woken = run_stub(tmp_path, "sleep 0.2; echo 'round 4'; printf 'no newline'; echo warn >&2", monkeypatch)
    assert ("stdout", "round 4") in lines and ("stdout", "no newline") in lines and ("stderr", "warn") in lines
    assert rounds == [4]
    assert woken and woken[-1] is True  # the last wait ended on the supervisor's exit, not a timeout
    assert woken.count(False) == 0
    assert json.loads((tmp_path / "segment" / "backend.status").read_text()) == {"exit_code": 0}


def test_exit_code_and_tail_reach_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendError, match="exit 3: one / two"):
        run_stub(tmp_path, "echo one; echo two >&2; exit 3", monkeypatch)


def test_a_backend_that_cannot_start_is_recorded_as_127(tmp_path: Path) -> None:
    status, log = tmp_path / "status", tmp_path / "log"
    run = subprocess.run([sys.executable, "-I", "-S", str(SUPERVISOR), str(status), str(log), "--", str(tmp_path / "missing")])
    assert run.returncode == 127
    assert json.loads(status.read_text()) == {"exit_code": 127}
    assert log.read_text().startswith("E cannot start ")


def test_a_backend_killed_by_a_signal_is_recorded_as_minus_the_signal(tmp_path: Path) -> None:
    status = tmp_path / "status"
    subprocess.run([sys.executable, "-I", "-S", str(SUPERVISOR), str(status), str(tmp_path / "log"), "--", "sh", "-c", "kill -9 $$"])
    assert json.loads(status.read_text()) == {"exit_code": -9}


def test_a_replay_from_local_folders_never_loads_the_object_store_client() -> None:
    """The fixed cost of a run: obstore is loaded only when a bucket URL is opened."""
    code = "import sys, hiero_replay.run.replay, hiero_replay.inventory; print('obstore' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
