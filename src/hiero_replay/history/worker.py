"""A job in a process of its own: ``python -m hiero_replay.history.worker SPEC_FILE WORKER`` (a fresh
interpreter, what the Dask executor starts), or ``run_forked`` in a process forked from one that
imported everything already (what the local executor starts, ``history/forked.py``).

The job's failure stays in its process, and the process exits with the job's exit code. SIGTERM
stops it like Ctrl-C (backend stopped, exit 8), and so does the death of the process that started
it (a killed worker does not leave its job running).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from ..errors import ReplayInterrupted
from ..logs import configure_logging
from .job import LOG_FILE, run_job
from .jobs import JobSpec

PARENT_POLL_SECONDS = 0.5


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    raise ReplayInterrupted(f"Interrupted by {signal.Signals(signum).name}; the backend was stopped.", hint="Rerun the job.")


def _watch_parent(parent: int) -> None:
    """Stop this job (SIGTERM to itself) when the process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_executor() -> None:
    """Forked: stop this job when the executor that asked for it is gone. Its parent, the
    forkserver, outlives the executor while jobs run; the executor's end of the pipe that started
    the job closes with it, and that is waited on (no poll)."""
    executor = multiprocessing.parent_process()
    if executor is None:  # not started through multiprocessing: nothing to watch
        return
    multiprocessing.connection.wait([executor.sentinel])
    os.kill(os.getpid(), signal.SIGTERM)


def run_forked(spec_file: str, worker: str) -> None:
    """The job of ``spec_file`` in this forked process: its folder the working directory, its log the output."""
    folder = Path(spec_file).parent
    os.chdir(folder)
    log = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
        os.dup2(log, stream.fileno())
    os.close(log)
    threading.Thread(target=_watch_executor, daemon=True).start()
    sys.exit(_run(Path(spec_file), worker))


def _run(spec_file: Path, worker: str) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    spec = JobSpec.from_json(json.loads(spec_file.read_text(encoding="utf-8")))
    configure_logging("json")
    return run_job(spec, worker).exit_code


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m hiero_replay.history.worker SPEC_FILE WORKER", file=sys.stderr)
        return 2
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    return _run(Path(argv[0]), argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
