"""``--executor local``: ``--workers N`` jobs at a time on this machine, each in its own process
(forked from one that imported what a job needs, ``history/forked.py``) and its own work folder;
transient failures (exit 6, 7) are retried ``--retries`` times."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from queue import SimpleQueue

from ...model.history import JobResult
from ..forked import ForkServer
from ..jobs import JobSpec
from ..launch import launch, with_retries
from . import ExecutorOptions


class LocalExecutor:
    name = "local"

    def __init__(self, options: ExecutorOptions) -> None:
        self.workers = max(1, options.workers)
        self.retries = options.retries
        self._stop = threading.Event()
        self._slots: SimpleQueue[int] = SimpleQueue()
        for slot in range(self.workers):
            self._slots.put(slot)
        self._forks = ForkServer()

    def _attempt(self, spec: JobSpec, worker: str) -> JobResult:
        return launch(spec, worker, stop=self._stop, start=self._forks.start)

    def _run_one(self, spec: JobSpec) -> JobResult:
        slot = self._slots.get()
        try:
            worker = f"local:{socket.gethostname()}/{slot}"
            return with_retries(lambda: self._attempt(spec, worker), self.retries)
        finally:
            self._slots.put(slot)

    def run(self, jobs: Sequence[JobSpec]) -> Iterator[JobResult]:
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="job")
        pending: set[Future[JobResult]] = {pool.submit(self._run_one, spec) for spec in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            # Interrupted (or the caller stopped reading): stop the jobs still running, start no other.
            self._stop.set()
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)

    def close(self) -> None:
        self._stop.set()
