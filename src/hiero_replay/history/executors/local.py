"""``--executor local``: ``--workers N`` jobs at a time on this machine, each in its own process
and its own work folder; transient failures (exit 6, 7) are retried ``--retries`` times. Each slot
starts its next job's process while the current job runs, so a job starts with its imports done."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from queue import SimpleQueue

from ...model.history import JobResult
from ..jobs import JobSpec
from ..launch import launch, release, spare_process, with_retries
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
        self._left = 0
        self._lock = threading.Lock()
        # The first jobs' processes start now, importing while the history is planned and probed.
        self._cwd = options.settings.work_dir.absolute()
        self._cwd.mkdir(parents=True, exist_ok=True)
        self._spares: dict[int, subprocess.Popen[bytes]] = {slot: spare_process(self._cwd) for slot in range(self.workers)}

    def _attempt(self, spec: JobSpec, worker: str, slot: int) -> JobResult:
        with self._lock:
            spare = self._spares.pop(slot, None)
            self._left -= 1

        def prepare_next() -> None:
            """The job is replaying: the slot's next job's process starts now, its imports done by the time it is needed."""
            with self._lock:
                if self._left > 0 and not self._stop.is_set() and slot not in self._spares:
                    self._spares[slot] = spare_process(self._cwd)

        return launch(spec, worker, stop=self._stop, spare=spare, started=prepare_next)

    def _run_one(self, spec: JobSpec) -> JobResult:
        slot = self._slots.get()
        try:
            worker = f"local:{socket.gethostname()}/{slot}"
            return with_retries(lambda: self._attempt(spec, worker, slot), self.retries)
        finally:
            self._slots.put(slot)

    def run(self, jobs: Sequence[JobSpec]) -> Iterator[JobResult]:
        self._left = len(jobs)
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
            with self._lock:
                for spare in self._spares.values():
                    release(spare)
                self._spares.clear()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for spare in self._spares.values():
                release(spare)
            self._spares.clear()
