"""A job in a process of its own: ``python -m hiero_replay.history.worker SPEC_FILE WORKER``, or
``... worker -``, started ahead of its job (the imports done while another job runs), which reads
``SPEC_FILE<TAB>WORKER`` from its standard input (nothing: it exits 0) and logs to the job's ``job.log``.

What the local and Dask executors start for each job: the job's failure stays in its process, and
the process exits with the job's exit code. SIGTERM stops it like Ctrl-C (backend stopped, exit 8),
and so does the death of the process that started it (a killed worker does not leave its job running).
"""

from __future__ import annotations

import json
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


def _read_job() -> list[str]:
    """A job handed over on standard input; its folder becomes the working directory and its log the output."""
    line = sys.stdin.readline().rstrip("\n")
    if not line:
        return []
    spec_file, _, worker = line.partition("\t")
    folder = Path(spec_file).parent
    os.chdir(folder)
    log = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
        os.dup2(log, stream.fileno())
    os.close(log)
    return [spec_file, worker]


def main(argv: list[str]) -> int:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupted)
    if argv == ["-"]:
        argv = _read_job()
        if not argv:
            return 0
    if len(argv) != 2:
        print("usage: python -m hiero_replay.history.worker SPEC_FILE WORKER | -", file=sys.stderr)
        return 2
    spec = JobSpec.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    configure_logging("json")
    return run_job(spec, argv[1]).exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
