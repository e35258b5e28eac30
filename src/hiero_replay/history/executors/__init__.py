"""Executors run a history's jobs: ``local`` (processes on this machine), ``dask`` (a Dask cluster),
``kubernetes`` (one job in a pod of an Indexed Job, its result written to a results location).

An executor is one module here with one class implementing ``Executor``, and one line in
``EXECUTORS``; ``--executor`` takes these names, and only the chosen module is imported (Dask is
imported only when it is used). ``tests/contract/test_executor_contract.py`` runs against every one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ...errors import ConfigError

if TYPE_CHECKING:
    from ...config import Settings
    from ...model.history import JobResult
    from ..jobs import JobSpec

#: ``--executor`` name -> "module:class".
EXECUTORS: dict[str, str] = {
    "local": "hiero_replay.history.executors.local:LocalExecutor",
    "dask": "hiero_replay.history.executors.dask:DaskExecutor",
    "kubernetes": "hiero_replay.history.executors.kubernetes:KubernetesExecutor",
}


@dataclass(frozen=True)
class ExecutorOptions:
    settings: Settings
    #: Jobs at a time (local processes; the Indexed Job's parallelism).
    workers: int = 1
    #: Runs again of a job that failed transiently (exit 6, 7).
    retries: int = 2
    #: Dask: ``tcp://host:port`` of the scheduler, or a scheduler file.
    scheduler: str | None = None
    #: Kubernetes: where each pod writes its job's result (a folder or a bucket prefix).
    results: str | None = None
    #: Kubernetes: the job this pod runs (its ``JOB_COMPLETION_INDEX``).
    job_index: int | None = None


class Executor(Protocol):
    name: str

    def run(self, jobs: Sequence[JobSpec]) -> Iterator[JobResult]:
        """Run the jobs; yield each one's final result (after its retries) once, as it finishes."""
        ...

    def close(self) -> None:
        """Release what the executor holds (a cluster connection)."""
        ...


def names() -> list[str]:
    return list(EXECUTORS)


def create_executor(name: str, options: ExecutorOptions) -> Executor:
    if name not in EXECUTORS:
        raise ConfigError(f"Unknown executor {name!r}: use one of {', '.join(EXECUTORS)}.")
    module, _, attribute = EXECUTORS[name].partition(":")
    factory = getattr(importlib.import_module(module), attribute)
    executor: Executor = factory(options)
    return executor
