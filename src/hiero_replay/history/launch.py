"""A job in a child process (``python -m hiero_replay.history.worker``), and retries of transient failures.

The local and Dask executors run each job this way: whatever the job does (a crash, a runaway
backend), the process that runs the executor carries on, and the job's result is the file it
wrote, or, when it wrote none, a failure that says how its process ended.
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

from ..errors import InternalError, ReplayInterrupted
from ..model.history import TRANSIENT, JobResult, outcome_of
from .job import ATTEMPTS_FILE, LOG_FILE, RESULT_FILE, write_json_atomically
from .jobs import JobSpec

SPEC_FILE = "spec.json"
WORKER = "hiero_replay.history.worker"
#: How long a job's process has to stop after SIGTERM (it stops its backend: up to 10 s) before SIGKILL.
STOP_GRACE_SECONDS = 20.0
#: How often a running job is looked at (stopped? started replaying?).
POLL_SECONDS = 0.05


def spare_process(cwd: Path) -> subprocess.Popen[bytes]:
    """A job process started ahead of its job: it imports what a job needs, then waits for one on its input."""
    return subprocess.Popen(
        [sys.executable, "-m", WORKER, "-"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def release(spare: subprocess.Popen[bytes]) -> None:
    """A spare process no job needs: its input closed, it exits."""
    if spare.stdin is not None:
        spare.stdin.close()
    try:
        spare.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        spare.kill()
        spare.wait()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def launch(
    spec: JobSpec,
    worker: str,
    *,
    stop: threading.Event | None = None,
    spare: subprocess.Popen[bytes] | None = None,
    started: Callable[[], None] | None = None,
) -> JobResult:
    """Run the job in a child process (``spare``, when one waits) and return its result; ``stop`` set:
    the job is stopped (exit 8); ``started`` is called once the job's process is past its imports and
    replaying (what it notes in ``attempts.jsonl``)."""
    folder = Path(spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    noted = _size(folder / ATTEMPTS_FILE)
    write_json_atomically(folder / SPEC_FILE, spec.to_json())
    (folder / RESULT_FILE).unlink(missing_ok=True)
    started_at, began = time.time(), time.monotonic()
    with open(folder / LOG_FILE, "ab") as log:
        process: subprocess.Popen[bytes] | None = None
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            try:
                spare.stdin.write(f"{folder / SPEC_FILE}\t{worker}\n".encode())
                spare.stdin.close()
                process = spare
            except OSError:  # the spare died: a process of its own for this job
                spare.kill()
                spare.wait()
        if process is None:
            argv = [sys.executable, "-m", WORKER, str(folder / SPEC_FILE), worker]
            process = subprocess.Popen(argv, cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            while process.poll() is None:
                if started is not None and _size(folder / ATTEMPTS_FILE) > noted:
                    started()
                    started = None
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
    except (OSError, ValueError, TypeError):
        pass
    code = process.returncode
    exit_code = ReplayInterrupted.exit_code if code < 0 or code == ReplayInterrupted.exit_code else InternalError.exit_code
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited {code}"
    return JobResult(
        index=spec.index,
        from_round=spec.start.round,
        to_round=spec.end.round,
        from_hash=spec.start.hash,
        to_hash=spec.end.hash,
        outcome=outcome_of(exit_code),
        exit_code=exit_code,
        worker=worker,
        seconds=time.monotonic() - began,
        message=f"The job's process {how} without writing its result; see {folder / LOG_FILE}.",
        started_at=started_at,
        finished_at=time.time(),
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
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
