"""``--executor dask``: each job is a task on a Dask cluster (``--scheduler tcp://HOST:PORT`` or a
scheduler file), run by a worker in a child process of its own.

Dask retries a task that raises, so a job raises only when it failed transiently (exit 6, 7): those
are retried ``--retries`` times, a configuration error, missing input, gap or mismatch never. A
worker that dies mid-job has its job rerun on another worker by the scheduler; the job resumes in
its folder from its last checkpoint when the workers share that folder. Each result names the
worker that ran it. The workers need hiero-replay installed and the sources reachable (bucket URLs,
or paths on a shared volume); ``--job-root`` is where the jobs' folders are, as the workers see it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...errors import BackendError, ConfigError
from ...model.history import TRANSIENT, JobResult
from ..jobs import JobSpec
from ..launch import launch
from . import ExecutorOptions

try:
    import distributed
except ImportError as missing:  # pragma: no cover - the extra is not installed
    raise ConfigError(
        f"--executor dask needs Dask's distributed package ({missing}).", hint="Install it with: pip install 'hiero-replay[dask]'."
    ) from None

#: Dask's API, untyped for mypy: its functions carry no annotations.
dask: Any = distributed


class ExecutorError(BackendError):
    """The cluster cannot be reached or lost a job (exit 6: a retry may help)."""

    kind = "executor"


class TransientJobFailure(Exception):
    """Raised by a task whose job failed transiently, so that Dask retries it; carries the result."""


def run_on_worker(spec_json: dict[str, Any]) -> dict[str, Any]:
    """The task: run the job in a child process of this worker; raise on a transient failure."""
    spec = JobSpec.from_json(spec_json)
    result = launch(spec, dask.get_worker().address)
    if result.exit_code in TRANSIENT:
        raise TransientJobFailure(result.to_json())
    return result.to_json()


def _connect(scheduler: str) -> Any:
    """A client of the scheduler; how long it tries is Dask's ``distributed.comm.timeouts.connect``
    (30 s unless configured, e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s``)."""
    try:
        if "://" not in scheduler and Path(scheduler).is_file():
            return dask.Client(scheduler_file=scheduler)
        return dask.Client(scheduler)
    except (OSError, TimeoutError, ValueError) as error:
        raise ExecutorError(
            f"Cannot reach the Dask scheduler {scheduler}: {error}.",
            hint="Check --scheduler (tcp://HOST:PORT or a scheduler file) and that the scheduler is running.",
        ) from error


class DaskExecutor:
    name = "dask"

    def __init__(self, options: ExecutorOptions) -> None:
        if not options.scheduler:
            raise ConfigError("--executor dask needs --scheduler tcp://HOST:PORT (or a scheduler file).")
        self.scheduler = options.scheduler
        self.retries = options.retries
        self.client = _connect(options.scheduler)

    def run(self, jobs: Sequence[JobSpec]) -> Iterator[JobResult]:
        submitted = time.time()
        futures = {
            self.client.submit(
                run_on_worker, spec.to_json(), key=f"hiero-replay-{spec.history}-{spec.start.round}-{spec.end.round}-{uuid.uuid4().hex[:8]}",
                retries=self.retries, pure=False,
            ): spec
            for spec in jobs
        }  # fmt: skip
        try:
            for future in dask.as_completed(futures):
                yield self._result(future, futures[future], submitted)
        finally:
            self.client.cancel(list(futures))

    def _result(self, future: Any, spec: JobSpec, submitted: float) -> JobResult:
        try:
            return JobResult.from_json(future.result())
        except TransientJobFailure as failure:
            result = JobResult.from_json(failure.args[0])
            return JobResult.from_json({**result.to_json(), "attempts": self.retries + 1})
        except dask.KilledWorker as error:
            message = f"Dask gave up on the job: the workers running it died ({error})."
        except Exception as error:  # noqa: BLE001 - whatever the cluster says, the job failed and the others go on
            message = f"Dask could not run the job: {type(error).__name__}: {error}."
        return spec.result(ExecutorError.exit_code, worker=None, started_at=submitted, seconds=time.time() - submitted, message=message)

    def close(self) -> None:
        self.client.close()
