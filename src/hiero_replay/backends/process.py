"""Run one backend process: argument vector only, never a shell.

The backend runs under a detached supervisor (``supervisor.py``) that records its output and its
exit code in the segment's folder; this side follows that record: output lines go into our log,
progress lines are parsed, the timeout is enforced, and the whole process group is stopped
(SIGTERM, then SIGKILL) when the run is interrupted or times out. After a crash of the
orchestrator, ``follow_backend`` adopts a supervisor that is still running or has finished.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackendError, ReplayError
from ..model.plan import Invocation
from .base import ReplayBackend

STOP_GRACE_SECONDS = 10.0
#: While a backend runs, its log is read (progress, displays) this often; its end is seen at once.
POLL_SECONDS = 0.1
#: The supervisor, run by its path: ``-I -S`` skips ``site`` and the environment (it needs neither).
SUPERVISOR = Path(__file__).with_name("supervisor.py")
_SUPERVISOR_MARKS = (str(SUPERVISOR).encode(), b"hiero_replay.backends.supervisor")
_TAIL = 60
#: Lines of each of the tool's own log files shown with a failure.
TOOL_LOG_LINES = 10


@dataclass(frozen=True)
class SupervisorFiles:
    """Where a segment's supervisor keeps the backend's output and exit code; ``folder`` is also the
    backend's working directory, where a tool's own log files land."""

    folder: Path
    log: Path
    status: Path

    @classmethod
    def in_folder(cls, folder: Path) -> SupervisorFiles:
        return cls(folder, folder / "backend.log", folder / "backend.status")

    def exit_code(self) -> int | None:
        try:
            return int(json.loads(self.status.read_text(encoding="utf-8"))["exit_code"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # written atomically: a torn file cannot appear; treat as absent

    def clear(self) -> None:
        for path in (self.log, self.status):
            path.unlink(missing_ok=True)


def _is_supervisor(pid: int, files: SupervisorFiles) -> bool:
    """Is ``pid`` a live supervisor for these files (not a recycled pid)?"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(files.status).encode() in cmdline and any(mark in cmdline for mark in _SUPERVISOR_MARKS)


def find_supervisor(files: SupervisorFiles) -> int | None:
    """The live supervisor of these files, if any (its pid may never have been recorded)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_supervisor(int(entry.name), files):
            return int(entry.name)
    return None


def stop_process_group(pid: int, alive: Callable[[], bool], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the supervisor's process group (the backend is in it), SIGKILL after ``grace``."""
    if pid <= 0:
        return  # no process of ours to stop (and never our own group)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        if not alive():
            return


def start_backend(backend: ReplayBackend, invocation: Invocation, files: SupervisorFiles) -> subprocess.Popen[bytes]:
    """Start the backend under its supervisor, in the segment's folder as working directory."""
    files.clear()
    files.folder.mkdir(parents=True, exist_ok=True)
    argv = backend.argv(invocation)
    return subprocess.Popen(
        [sys.executable, "-I", "-S", str(SUPERVISOR), str(files.status), str(files.log), "--", *argv],
        cwd=files.folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class _ExitWatch:
    """Waits for the supervisor to end, or for ``seconds`` at most: on its pidfd (Linux), so the
    end is seen the moment it happens; by sleeping where there is none."""

    def __init__(self, pid: int) -> None:
        self.descriptor: int | None = None
        self._poll = select.poll()  # not select(): a descriptor past 1023 is fine
        if pid > 0 and hasattr(os, "pidfd_open"):
            try:
                self.descriptor = os.pidfd_open(pid)
            except OSError:
                self.descriptor = None
            else:
                self._poll.register(self.descriptor, select.POLLIN)

    def wait(self, seconds: float) -> None:
        if self.descriptor is None:
            time.sleep(seconds)
        else:
            self._poll.poll(seconds * 1000)

    def close(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


class _LogTail:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def lines(self) -> list[tuple[str, str]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        result = []
        for raw in complete:
            text = raw.decode("utf-8", errors="replace")
            tag, _, line = text.partition(" ")
            result.append(("stderr" if tag == "E" else "stdout", line))
        return result


def follow_backend(
    backend: ReplayBackend,
    files: SupervisorFiles,
    pid: int,
    *,
    started_at: float,
    rounds: tuple[int, int],
    on_line: Callable[[str, str], None],
    on_round: Callable[[int], None] | None = None,
    on_tick: Callable[[], None] | None = None,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Follow a supervised backend until it ends; return on exit 0, raise the typed error otherwise.

    ``started_at`` is the wall-clock start (the timeout counts from it, across an adoption);
    ``rounds`` the segment's first and last round (progress lines may be percentages of them);
    ``on_tick`` is called while waiting, so displays can move; ``process`` is given when this
    orchestrator started the supervisor itself.
    """

    def alive() -> bool:
        return process.poll() is None if process is not None else _is_supervisor(pid, files)

    tail = _LogTail(files.log)
    recent: deque[str] = deque(maxlen=_TAIL)

    def drain() -> None:
        for stream, line in tail.lines():
            recent.append(line)
            on_line(stream, line)
            if on_round is not None:
                applied = backend.progress_round(line, *rounds)
                if applied is not None:
                    on_round(applied)

    deadline = started_at + backend.timeout if backend.timeout else None
    watch = _ExitWatch(pid)
    try:
        while True:
            drain()
            exit_code = files.exit_code()
            if exit_code is not None:
                break
            if not alive():
                drain()
                exit_code = files.exit_code()
                if exit_code is not None:
                    break
                raise BackendError(
                    f"The {backend.name} backend was stopped from outside before it finished (no exit status recorded).",
                    hint="Rerun or resume the run.",
                )
            if deadline is not None and time.time() > deadline:
                stop_process_group(pid, alive)
                raise BackendError(
                    f"The {backend.name} backend did not finish within its timeout of {backend.timeout:g} s; it was stopped.",
                    hint=f"Raise backends.{backend.name.replace('-', '_')}.timeout, or use smaller segments (segment_rounds).",
                )
            if on_tick is not None:
                on_tick()
            watch.wait(POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline - time.time())))
        drain()
    except BaseException:
        stop_process_group(pid, alive)
        raise
    finally:
        watch.close()
        if process is not None and process.poll() is None and files.exit_code() is not None:
            process.wait(timeout=5)
    if exit_code == 127 and any("cannot start" in line for line in recent):
        raise BackendError(
            f"Cannot start the {backend.name} backend: {recent[-1]}.",
            hint=f"Set backends.{backend.name.replace('-', '_')}.command to the tool's launcher, or pass --simulate for a rehearsal.",
        )
    if exit_code != 0:
        raise _with_tool_logs(backend.failure(exit_code, list(recent)), backend, files.folder)


def _with_tool_logs(error: ReplayError, backend: ReplayBackend, folder: Path) -> ReplayError:
    """The failure, with the last lines of the log files the tool wrote into its working directory."""
    for name in backend.log_files:
        lines = _last_lines(folder / name, TOOL_LOG_LINES)
        if lines:
            shown = "\n".join(f"  | {line}" for line in lines)
            error.message = f"{error.message.rstrip()}\nLast lines of {folder / name}:\n{shown}\n"
    return error


def _last_lines(path: Path, count: int) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-count:]
