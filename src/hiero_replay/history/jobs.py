"""The jobs of a history: consecutive saved states, each pair one replay, and what a job needs to run
anywhere (a worker process, a Dask worker, a Kubernetes pod): its specification as JSON."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from ..model.history import JobResult, SavedState, outcome_of
from ..sources.registry import is_bucket_url


@dataclass(frozen=True)
class Selection:
    """Which part of the history: jobs whose states lie in ``from_round..to_round``, the newest ``last_jobs`` of them."""

    from_round: int | None = None
    to_round: int | None = None
    last_jobs: int | None = None

    def __post_init__(self) -> None:
        if self.from_round is not None and self.to_round is not None and self.from_round > self.to_round:
            raise ConfigError(f"--from-round {self.from_round} is after --to-round {self.to_round}.", hint="Swap them.")

    def pick(self, states: list[SavedState]) -> list[tuple[SavedState, SavedState]]:
        chosen = [
            state
            for state in states
            if (self.from_round is None or state.round >= self.from_round) and (self.to_round is None or state.round <= self.to_round)
        ]
        pairs = list(itertools.pairwise(chosen))
        if self.last_jobs is not None:
            pairs = pairs[-self.last_jobs :] if self.last_jobs > 0 else []
        if not pairs:
            held = f"{len(states)} saved state(s), rounds {states[0].round}..{states[-1].round}" if states else "no saved state"
            raise ConfigError(
                f"No job to verify: a job needs two consecutive saved states in the selected rounds ({held}, {len(chosen)} selected).",
                hint="Widen --from-round/--to-round, or point --states at a folder with more saved states.",
            )
        return pairs


def absolute(location: str | None) -> str | None:
    """A local path made absolute (jobs run in other folders and processes); bucket URLs as they are."""
    if location is None or is_bucket_url(location):
        return location
    return str(Path(location).absolute())


def history_id(states: str, settings: Settings) -> str:
    """The same states and streams give the same id: a rerun of the same command finds its jobs."""
    identity = {
        "states": absolute(states),
        "events": absolute(settings.source.events),
        "blocks": absolute(settings.source.blocks),
        "node_id": settings.replay.node_id,
        "mode": settings.replay.mode,
        "cutover_round": settings.replay.cutover_round,
    }
    return "history-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class JobSpec:
    """Everything a job needs, wherever it runs."""

    history: str
    index: int
    start: SavedState
    end: SavedState
    #: The replay's settings as JSON: bootstrap and expected state, output and work folder set.
    settings: dict[str, Any]
    folder: str
    keep_states: bool = False
    #: Where the history's saved states are (``--states``).
    states: str = ""
    #: The backends' capability probes, made once for all jobs (the work directory's ``probes.json``).
    probes: dict[str, Any] | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.start.round, self.end.round)

    @property
    def name(self) -> str:
        return f"job {self.index} (rounds {self.start.round}..{self.end.round})"

    def result(
        self,
        exit_code: int,
        *,
        worker: str | None,
        started_at: float,
        seconds: float,
        message: str | None = None,
        first_divergent_block: int | None = None,
    ) -> JobResult:
        """What this job gave: its outcome from its exit code, finished now."""
        return JobResult(
            index=self.index,
            from_round=self.start.round,
            to_round=self.end.round,
            from_hash=self.start.hash,
            to_hash=self.end.hash,
            outcome=outcome_of(exit_code),
            exit_code=exit_code,
            worker=worker,
            seconds=seconds,
            first_divergent_block=first_divergent_block,
            message=message,
            started_at=started_at,
            finished_at=time.time(),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "index": self.index,
            "start": self.start.to_json(),
            "end": self.end.to_json(),
            "settings": self.settings,
            "folder": self.folder,
            "keep_states": self.keep_states,
            "states": self.states,
            "probes": self.probes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        return cls(
            str(data["history"]),
            int(data["index"]),
            SavedState.from_json(data["start"]),
            SavedState.from_json(data["end"]),
            dict(data["settings"]),
            str(data["folder"]),
            bool(data.get("keep_states", False)),
            str(data.get("states", "")),
            data.get("probes"),
        )


def job_settings(settings: Settings, start: SavedState, end: SavedState, folder: Path) -> dict[str, Any]:
    """A normal replay from ``start`` to ``end`` in ``folder``: its own work folder and output; no
    metrics endpoint or file (jobs run side by side)."""
    data = settings.model_dump(mode="json")
    data["work_dir"] = str(folder / "work")
    data["source"] = {key: absolute(value) for key, value in data["source"].items()}
    data["replay"].update(
        bootstrap_state=start.location, expected_state=end.location, out=str(folder / "out"), target_round=None, expected_hash=None
    )
    data["metrics"].update(port=None, textfile=None, pushgateway=None)
    return data


def job_specs(
    history: str, states: str, pairs: list[tuple[SavedState, SavedState]], settings: Settings, job_root: Path, *, keep_states: bool = False
) -> list[JobSpec]:
    specs = []
    for index, (start, end) in enumerate(pairs):
        folder = job_root.absolute() / history / f"{start.round}-{end.round}"
        specs.append(JobSpec(history, index, start, end, job_settings(settings, start, end, folder), str(folder), keep_states, states))
    return specs
