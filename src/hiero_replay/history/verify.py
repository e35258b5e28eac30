"""A history verified: its saved states listed, paired into jobs, the jobs already verified reused,
the rest run on an executor, every result recorded in the run store as it arrives."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..backends.probe import read_probes
from ..backends.registry import create_backends
from ..config import Settings
from ..errors import ReplayError, ReplayInterrupted
from ..logs import get_logger
from ..model.history import OUTCOMES, HistoryRecord, JobResult, SavedState, worst_exit_code
from ..plan.inputs import probe_backends, stream_locations
from .executors import Executor
from .jobs import JobSpec, Selection, absolute, history_id, job_specs
from .states import discover_states
from .store import HistoryStore


@dataclass(frozen=True)
class HistoryPlan:
    history: str
    states_location: str
    states: list[SavedState]
    jobs: list[JobSpec]

    def to_json(self, verified: dict[tuple[int, int, str, str], JobResult] | None = None) -> dict[str, Any]:
        """What ``--dry-run --json`` prints: every job, its states, and whether it would run."""
        known = verified or {}
        return {
            "history": self.history,
            "states": self.states_location,
            "saved_states": len(self.states),
            "jobs": [
                {
                    "index": spec.index,
                    "from_round": spec.start.round,
                    "to_round": spec.end.round,
                    "from_state": spec.start.location,
                    "to_state": spec.end.location,
                    "from_hash": spec.start.hash,
                    "to_hash": spec.end.hash,
                    "folder": spec.folder,
                    "already_verified": (spec.start.round, spec.end.round, spec.start.hash, spec.end.hash) in known,
                }
                for spec in self.jobs
            ],
        }


def plan_history(
    settings: Settings, states: str, selection: Selection, *, job_root: Path | None = None, keep_states: bool = False
) -> HistoryPlan:
    location = absolute(states) or states
    identity = history_id(location, settings)
    saved = discover_states(location, settings)
    root = job_root if job_root is not None else settings.work_dir / "history"
    specs = job_specs(identity, location, selection.pick(saved), settings, root, keep_states=keep_states)
    return HistoryPlan(identity, location, saved, specs)


def with_probes(plan: HistoryPlan, settings: Settings) -> HistoryPlan:
    """Probe the backends once, here, and hand every job the result: a job does not start each tool
    to learn what it supports (a JVM start per job). A job on a machine whose tools differ (other
    files, other modification times) finds no matching entry and probes for itself."""
    kinds = {kind for kind, location in stream_locations(settings).items() if location}
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    probe_backends(settings, create_backends(settings.backends.of, simulate=settings.simulate), kinds)
    probes = read_probes(settings.work_dir)
    return replace(plan, jobs=[replace(spec, probes=probes) for spec in plan.jobs]) if probes else plan


#: What ``--json`` prints of each job.
JOB_FIELDS = (
    "index", "from_round", "to_round", "outcome", "exit_code", "worker", "seconds", "first_divergent_block",
    "rounds_per_second", "attempts", "reused", "message",
)  # fmt: skip


@dataclass
class Summary:
    history: str
    states: str
    executor: str
    jobs: list[JobResult]
    seconds: float = 0.0
    #: Jobs of the selection that no result came back for (an Indexed Job's pods that never ran).
    missing: list[int] = field(default_factory=list)
    missing_code: int = 3

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(job.outcome for job in self.jobs)
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def exit_code(self) -> int:
        return worst_exit_code([job.exit_code for job in self.jobs] + ([self.missing_code] if self.missing else []))

    def to_json(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "states": self.states,
            "executor": self.executor,
            "jobs": [{key: job.to_json()[key] for key in JOB_FIELDS} for job in self.jobs],
            **self.counts,
            "reused": sum(job.reused for job in self.jobs),
            "missing": self.missing,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
        }


def verify(plan: HistoryPlan, executor: Executor, store: HistoryStore) -> Summary:
    """Run the jobs not verified before (same rounds, same hashes), record each result once."""
    log = get_logger()
    started = time.monotonic()
    store.begin(plan.history, states=plan.states_location, executor=executor.name, spec=plan.to_json())
    verified = store.verified(plan.history)
    results: dict[tuple[int, int], JobResult] = {}
    to_run = []
    for spec in plan.jobs:
        earlier = verified.get((spec.start.round, spec.end.round, spec.start.hash, spec.end.hash))
        if earlier is not None:
            results[spec.key] = earlier.with_index(spec.index, reused=True)
        else:
            to_run.append(spec)
    log.info("history planned", history=plan.history, jobs=len(plan.jobs), reused=len(results), to_run=len(to_run), executor=executor.name)
    index = {spec.key: spec.index for spec in plan.jobs}
    exit_code = 70
    try:
        for result in executor.run(to_run):
            result = result.with_index(index[result.key])
            store.record(plan.history, result)
            results[result.key] = result
            log.info(
                "job finished", job=result.index, rounds=f"{result.from_round}..{result.to_round}", outcome=result.outcome,
                exit_code=result.exit_code, worker=result.worker, seconds=round(result.seconds, 2),
            )  # fmt: skip
        summary = Summary(plan.history, plan.states_location, executor.name, [results[spec.key] for spec in plan.jobs])
        exit_code = summary.exit_code
    except ReplayError as error:
        exit_code = error.exit_code
        raise
    except KeyboardInterrupt:
        exit_code = ReplayInterrupted.exit_code
        raise
    finally:
        store.finish(plan.history, exit_code)
    summary.seconds = time.monotonic() - started
    return summary


def summary_of(record: HistoryRecord, jobs: list[JobResult]) -> Summary:
    return Summary(record.id, record.states, record.executor, jobs)
