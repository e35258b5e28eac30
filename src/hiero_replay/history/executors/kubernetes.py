"""``--executor kubernetes``: what one pod of an Indexed Job does. It runs the job of its
``--job-index`` (``$(JOB_COMPLETION_INDEX)``) in this process, writes the result to ``--results``
(a mounted folder or a bucket prefix) and exits with the job's code, so the Job's
``podFailurePolicy`` retries transient failures and fails the index otherwise. A job whose verified
result is already there (same rounds and hashes) is not run again. ``--emit kubernetes`` writes the
Job (``history/manifest.py``); ``--collect`` reads the results back into the run store.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator, Sequence

from ...errors import ConfigError
from ...model.history import VERIFIED, JobResult
from ..job import run_job
from ..jobs import JobSpec
from ..results import ResultFile, ResultsLocation
from . import ExecutorOptions


def listing_digest(jobs: Sequence[JobSpec]) -> str:
    """The rounds of every job of a selection, in a few characters: pods that saw the same jobs agree."""
    return hashlib.sha256(json.dumps([list(spec.key) for spec in jobs]).encode()).hexdigest()[:12]


class KubernetesExecutor:
    name = "kubernetes"

    def __init__(self, options: ExecutorOptions) -> None:
        if options.results is None:
            raise ConfigError("--executor kubernetes (--job-index) needs --results: the folder or bucket prefix the pods write results to.")
        if options.job_index is None:
            raise ConfigError(
                "--executor kubernetes runs one job in a pod: pass --job-index (the pod's $(JOB_COMPLETION_INDEX)).",
                hint="To create the Indexed Job, use --emit kubernetes --image IMAGE.",
            )
        self.results = ResultsLocation(options.results, options.settings)
        self.job_index = options.job_index
        self.worker = f"pod:{os.environ.get('HOSTNAME') or socket.gethostname()}"

    def run(self, jobs: Sequence[JobSpec]) -> Iterator[JobResult]:
        if not 0 <= self.job_index < len(jobs):
            raise ConfigError(f"--job-index {self.job_index} is out of range: the selection holds {len(jobs)} job(s), 0..{len(jobs) - 1}.")
        spec = jobs[self.job_index]
        earlier = self.results.find(spec.history, spec.key)
        hashes = (spec.start.hash, spec.end.hash)
        if earlier is not None and earlier.result.outcome == VERIFIED and (earlier.result.from_hash, earlier.result.to_hash) == hashes:
            result = earlier.result.with_index(spec.index, reused=True)  # written again: this Job's listing counts it
        else:
            result = run_job(spec, self.worker)
        self.results.write(ResultFile(spec.history, spec.states, len(jobs), listing_digest(jobs), result))
        yield result

    def close(self) -> None:
        pass
