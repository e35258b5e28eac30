"""A job in a child process, and retries of transient failures.

The local and Dask executors run each job this way: whatever the job does (a crash, a runaway
backend), the process that runs the executor carries on, and the job's result is the file it
wrote, or, when it wrote none, a failure that says how its process ended. The Dask executor starts
a fresh interpreter per job (``python -m hiero_replay.history.worker``); the local one forks it from
a process that imported everything once (``history/forked.py``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from ..errors import InternalError, ReplayInterrupted
from ..model.history import TRANSIENT, JobResult
from .job import LOG_FILE, RESULT_FILE, write_json_atomically
from .jobs import JobSpec

SPEC_FILE = "spec.json"
WORKER = "hiero_replay.history.worker"
#: How long a job's process has to stop after SIGTERM (it stops its backend: up to 10 s) before SIGKILL.
STOP_GRACE_SECONDS = 20.0
#: How often a running job is looked at (stopped?).
POLL_SECONDS = 0.05


class JobProcess(Protocol):
    """What ``launch`` needs of a job's process (``subprocess.Popen`` has it): a negative code is a signal."""

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


#: Starts the job of a spec file, for a worker: its folder the working directory, its ``job.log`` the output.
StartJob = Callable[[Path, str], JobProcess]


def fresh_interpreter(spec_file: Path, worker: str) -> JobProcess:
    with open(spec_file.parent / LOG_FILE, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", WORKER, str(spec_file), worker],
            cwd=spec_file.parent, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def launch(spec: JobSpec, worker: str, *, stop: threading.Event | None = None, start: StartJob = fresh_interpreter) -> JobResult:
    """Run the job in a child process (``start`` makes it) and return its result; ``stop`` set: the
    job is stopped (exit 8)."""
    folder = Path(spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomically(folder / SPEC_FILE, spec.to_json())
    (folder / RESULT_FILE).unlink(missing_ok=True)
    started_at, began = time.time(), time.monotonic()
    process = start(folder / SPEC_FILE, worker)
    try:
        while process.poll() is None:
            if stop is not None and stop.is_set():
                _stop(process)
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(POLL_SECONDS)
    except BaseException:
        _stop(process)
        raise
    try:
        return JobResult.from_json(json.loads((folder / RESULT_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError):
        pass
    code = process.returncode
    assert code is not None
    exit_code = ReplayInterrupted.exit_code if code < 0 or code == ReplayInterrupted.exit_code else InternalError.exit_code
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited {code}"
    return spec.result(
        exit_code,
        worker=worker,
        started_at=started_at,
        seconds=time.monotonic() - began,
        message=f"The job's process {how} without writing its result; see {folder / LOG_FILE}.",
    )


def _stop(process: JobProcess) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def with_retries(run: Callable[[], JobResult], retries: int) -> JobResult:
    """Run a job again after a transient failure (exit 6, 7), at most ``retries`` times; never after
    a configuration error, missing input, gap or mismatch. The result counts every attempt."""
    attempts = 0
    while True:
        result = run()
        attempts += 1
        if result.exit_code not in TRANSIENT or attempts > retries:
            return replace(result, attempts=attempts)
