"""What a run produced: each verified segment's state and timings, and the run's totals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .plan import ReplayPlan


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


#: Consensus time per round above this is not a stretch of one network's history (two streams of
#: different years mixed, a state's time wrong): "times consensus" is not shown for it.
MAX_CONSENSUS_SECONDS_PER_ROUND = 600.0
#: An achieved rate this much above the configured one counts as exceeding it.
RATE_TOLERANCE = 1.05


def coherent_consensus_seconds(before_ns: int | None, after_ns: int | None, rounds: int) -> float | None:
    """The consensus time a stretch of ``rounds`` rounds covered, when the two times make sense for it."""
    if before_ns is None or after_ns is None or after_ns < before_ns:
        return None
    seconds = (after_ns - before_ns) / 1e9
    return seconds if seconds <= rounds * MAX_CONSENSUS_SECONDS_PER_ROUND else None


@dataclass(frozen=True)
class SegmentResult:
    index: int
    backend: str
    first_round: int
    last_round: int
    round: int
    hash: str
    seconds: float
    consensus_seconds: float | None
    #: Applied by this invocation (``False``: verified before a resume, kept).
    replayed: bool = True
    files: int = 0
    #: When the pacer released the segment (seconds after it released the first, on its monotonic
    #: clock), and how long it held it back.
    released_after: float | None = None
    paced_seconds: float = 0.0
    #: How the state was proven (``model.plan.PROVEN_BY``), and the hash it was proven against.
    verified_by: str = "none"
    expected_hash: str | None = None
    #: Seconds it had been running before this invocation began (a segment a resume adopted).
    before_resume: float = 0.0

    @property
    def rounds(self) -> int:
        return self.last_round - self.first_round + 1

    @property
    def rounds_per_second(self) -> float:
        return self.rounds / self.seconds if self.seconds > 0 else float("inf")

    @property
    def consensus_speed(self) -> float | None:
        """Times faster than the network produced these rounds (1.0 = real time)."""
        if self.consensus_seconds is None or self.seconds <= 0:
            return None
        return self.consensus_seconds / self.seconds

    def to_json(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "seconds": round(self.seconds, 3),
            "rounds_per_second": round(self.rounds_per_second, 3),
            "consensus_speed": rounded(self.consensus_speed),
        }


@dataclass
class RunResult:
    plan: ReplayPlan
    segments: list[SegmentResult] = field(default_factory=list)
    #: Wall time of this invocation (a resumed run: since it resumed).
    seconds: float = 0.0
    paced_seconds: float = 0.0
    #: Bucket requests retried and damaged downloads fetched again, by source URL.
    source_retries: dict[str, int] = field(default_factory=dict)
    #: How a run that did not succeed ended: outcome, kind, exit code, message (and divergence).
    failure: dict[str, Any] | None = None

    @property
    def final_round(self) -> int:
        return self.segments[-1].round

    @property
    def final_hash(self) -> str:
        return self.segments[-1].hash

    @property
    def rounds(self) -> int:
        return sum(s.rounds for s in self.segments)

    @property
    def replayed(self) -> list[SegmentResult]:
        """The segments this invocation applied (a resume keeps the others)."""
        return [s for s in self.segments if s.replayed]

    @property
    def rounds_replayed(self) -> int:
        return sum(s.rounds for s in self.replayed)

    @property
    def measured_seconds(self) -> float:
        """The wall time the replayed rounds took: this invocation's, and, for a segment a resume
        adopted, the time it had been running before."""
        return self.seconds + sum(s.before_resume for s in self.replayed)

    @property
    def rounds_per_second(self) -> float:
        """Rounds this invocation replayed, over the time they took."""
        return self.rounds_replayed / self.measured_seconds if self.measured_seconds > 0 else float("inf")

    @property
    def consensus_speed(self) -> float | None:
        """Consensus time replayed per wall second, when every replayed segment's times are coherent."""
        spans = [s.consensus_seconds for s in self.replayed]
        if self.measured_seconds <= 0 or not spans or any(span is None for span in spans):
            return None
        return sum(span for span in spans if span is not None) / self.measured_seconds

    def achieved_rate(self) -> float | None:
        """The rate achieved, in the configured rate's own unit (``None`` when unlimited or not measurable)."""
        rate = self.plan.pace
        if rate.unit == "rounds":
            return self.rounds_per_second
        if rate.unit in ("blocks", "files"):
            return sum(s.files for s in self.replayed) / self.measured_seconds if self.measured_seconds > 0 else None
        if rate.unit == "consensus":
            return self.consensus_speed
        return None

    @property
    def exceeded_rate(self) -> bool:
        achieved = self.achieved_rate()
        return achieved is not None and achieved > self.plan.pace.value * RATE_TOLERANCE

    def to_json(self) -> dict[str, Any]:
        achieved = self.achieved_rate()
        failure = self.failure or {}
        divergence = failure.get("divergence") or {}
        return {
            "run_id": self.plan.run_id,
            "outcome": failure.get("outcome", "succeeded"),
            "error": {key: value for key, value in failure.items() if key not in ("outcome", "divergence")} or None,
            "first_divergent_block": divergence.get("first_block"),
            "divergence": divergence or None,
            "out": str(self.plan.out),
            "final_round": None if self.failure else self.final_round,
            "final_hash": None if self.failure else self.final_hash,
            "verified_by": dict(Counter(segment.verified_by for segment in self.segments)),
            "rounds": self.rounds,
            "rounds_replayed": self.rounds_replayed,
            "seconds": round(self.seconds, 3),
            "measured_seconds": round(self.measured_seconds, 3),
            "paced_seconds": round(self.paced_seconds, 3),
            "rounds_per_second": round(self.rounds_per_second, 3),
            "consensus_speed": rounded(self.consensus_speed),
            "rate": self.plan.rate,
            "achieved_rate": rounded(achieved),
            "exceeded_rate": self.exceeded_rate,
            "warnings": list(self.plan.warnings),
            "source_retries": self.source_retries,
            "segments": [segment.to_json() for segment in self.segments],
        }
