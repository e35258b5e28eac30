"""Job processes forked from one process that imported what a job needs (multiprocessing's
forkserver, preloaded with the job worker): a job starts in milliseconds instead of paying ~0.4 s
of imports, which on a busy machine delays every job that starts at the same time.

The forkserver is a fresh process (never a fork of the executor's threads). It outlives the
executor while jobs run, so a job watches the executor itself and stops when it is gone
(``worker._watch_executor``); the forkserver exits once the executor and its jobs have.
"""

from __future__ import annotations

import multiprocessing
import subprocess
from multiprocessing import forkserver
from multiprocessing.process import BaseProcess
from pathlib import Path

from .launch import WORKER, JobProcess
from .worker import run_forked


class ForkedJob:
    """A forked job's process, seen as ``launch`` sees a ``subprocess.Popen``."""

    def __init__(self, process: BaseProcess) -> None:
        self._process = process

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(str(self._process.name), timeout or 0.0)
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()


class ForkServer:
    """Starts the forkserver now, so that it imports while the backends are probed."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([WORKER])
        forkserver.ensure_running()

    def start(self, spec_file: Path, worker: str) -> JobProcess:
        process = self._context.Process(target=run_forked, args=(str(spec_file), worker), name=f"job {spec_file.parent.name}")
        process.start()
        return ForkedJob(process)
