"""Run one backend process: argument vector only, output streamed into our log line by line,
progress parsed, timeout enforced, and the whole process group stopped (SIGTERM, then SIGKILL)
when the run is interrupted or times out."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from typing import Callable, IO

from ..errors import BackendError
from .base import Invocation, ReplayBackend

STOP_GRACE_SECONDS = 10.0
_TAIL = 60


def _pump(stream: IO[str], name: str, lines: "queue.Queue[tuple[str, str | None]]") -> None:
    for line in stream:
        lines.put((name, line.rstrip("\n")))
    lines.put((name, None))


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the child's process group (pcli.sh starts java under it), SIGKILL after ``grace``."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_backend(
    backend: ReplayBackend,
    invocation: Invocation,
    *,
    on_line: Callable[[str, str], None],
    on_round: Callable[[int], None] | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run the backend for one segment; return on exit 0, raise the typed error otherwise."""
    argv = backend.argv(invocation)
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
            env=env,
        )
    except OSError as error:
        raise BackendError(
            f"Cannot start the {backend.name} backend ({argv[0]}): {error.strerror or error}.",
            hint=f"Set backends.{backend.name.replace('-', '_')}.command to the tool's launcher, or pass --simulate for a rehearsal.",
        ) from error
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, "stdout", lines), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "stderr", lines), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    tail: deque[str] = deque(maxlen=_TAIL)
    deadline = time.monotonic() + backend.timeout if backend.timeout else None
    open_streams = 2
    try:
        while open_streams:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                stop_process_group(process)
                raise BackendError(
                    f"The {backend.name} backend did not finish within its timeout of {backend.timeout:g} s "
                    f"(segment target round {invocation.target_round}); it was stopped.",
                    hint=f"Raise backends.{backend.name.replace('-', '_')}.timeout, or use smaller segments (segment_rounds).",
                )
            try:
                stream, line = lines.get(timeout=min(remaining, 0.5) if remaining is not None else 0.5)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
                continue
            tail.append(line)
            on_line(stream, line)
            if on_round is not None:
                applied = backend.progress_round(line)
                if applied is not None:
                    on_round(applied)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            exit_code = process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            stop_process_group(process)
            raise BackendError(
                f"The {backend.name} backend closed its output but did not exit within its timeout of {backend.timeout:g} s; it was stopped."
            ) from None
    except BaseException:
        stop_process_group(process)
        raise
    if exit_code != 0:
        raise backend.failure(exit_code, list(tail))
