"""A job in a process of its own: ``python -m hiero_replay.history.worker SPEC_FILE WORKER``.

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
from .job import run_job
from .jobs import JobSpec

PARENT_POLL_SECONDS = 0.5


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    raise ReplayInterrupted(f"Interrupted by {signal.Signals(signum).name}; the backend was stopped.", hint="Rerun the job.")


def _watch_parent(parent: int) -> None:
    """Stop this job (SIGTERM to itself) when the process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m hiero_replay.history.worker SPEC_FILE WORKER", file=sys.stderr)
        return 2
    spec = JobSpec.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    configure_logging("json")
    signal.signal(signal.SIGTERM, _interrupted)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    return run_job(spec, argv[1]).exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
