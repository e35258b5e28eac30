"""What a run produced: each verified segment's state and timings, and the run's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .plan import ReplayPlan


def rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


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
    seconds: float = 0.0
    paced_seconds: float = 0.0
    #: Bucket requests retried and damaged downloads fetched again, by source URL.
    source_retries: dict[str, int] = field(default_factory=dict)

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
    def rounds_per_second(self) -> float:
        return self.rounds / self.seconds if self.seconds > 0 else float("inf")

    @property
    def consensus_speed(self) -> float | None:
        spans = [s.consensus_seconds for s in self.segments]
        if self.seconds <= 0 or not spans:
            return None
        total = 0.0
        for span in spans:
            if span is None:
                return None
            total += span
        return total / self.seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.plan.run_id,
            "out": str(self.plan.out),
            "final_round": self.final_round,
            "final_hash": self.final_hash,
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
            "paced_seconds": round(self.paced_seconds, 3),
            "rounds_per_second": round(self.rounds_per_second, 3),
            "consensus_speed": rounded(self.consensus_speed),
            "rate": self.plan.rate,
            "source_retries": self.source_retries,
            "segments": [segment.to_json() for segment in self.segments],
        }
