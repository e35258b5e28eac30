"""A verified history: saved states, the jobs between consecutive ones, and what each job gave (no I/O)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from .checked import DamagedRecord, Timestamp, checked

VERIFIED, MISMATCH, GAP, FAILED = "verified", "mismatch", "gap", "failed"
OUTCOMES = (VERIFIED, MISMATCH, GAP, FAILED)

#: Exit codes of failed jobs, worst first: what ``verify-history`` exits with when jobs fail (a hash
#: mismatch before a gap before what a person must fix, before what a retry may fix).
SEVERITY = (5, 4, 3, 2, 70, 10, 11, 9, 6, 7, 8)
#: Exit codes a job is retried on (infrastructure: the backend, the source): never 2, 3, 4, 5.
TRANSIENT = frozenset({6, 7})


def outcome_of(exit_code: int) -> str:
    return {0: VERIFIED, 5: MISMATCH, 4: GAP}.get(exit_code, FAILED)


def worst_exit_code(codes: list[int]) -> int:
    """0 when every code is 0, else the worst of them by ``SEVERITY`` (codes not listed come last)."""
    failed = [code for code in codes if code != 0]
    if not failed:
        return 0
    return min(failed, key=lambda code: (SEVERITY.index(code) if code in SEVERITY else len(SEVERITY), code))


@dataclass(frozen=True)
class SavedState:
    """One saved round directory: its ROUND and HASH, and where it is (a local path or a bucket URL)."""

    round: int
    hash: str
    location: str
    consensus_timestamp: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SavedState:
        return cls(int(data["round"]), str(data["hash"]), str(data["location"]), data.get("consensus_timestamp"))


@dataclass(frozen=True)
class JobResult:
    """What one job gave: the replay from ``from_round``'s state to ``to_round``'s, verified or not."""

    index: int
    from_round: int
    to_round: int
    from_hash: str
    to_hash: str
    outcome: str
    exit_code: int
    worker: str | None
    seconds: float
    first_divergent_block: int | None = None
    message: str | None = None
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    attempts: int = 1
    #: Verified by an earlier invocation and not run again.
    reused: bool = False

    @property
    def key(self) -> tuple[int, int]:
        return (self.from_round, self.to_round)

    @property
    def rounds(self) -> int:
        return self.to_round - self.from_round

    @property
    def rounds_per_second(self) -> float | None:
        return self.rounds / self.seconds if self.outcome == VERIFIED and self.seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        rate = self.rounds_per_second
        data["rounds_per_second"] = None if rate is None else round(rate, 3)
        return data

    @classmethod
    def from_json(cls, data: object) -> JobResult:
        """A result read back (a pod's result file, a row of the run store): ``DamagedRecord`` unless
        each value is of its type and the outcome is the one its exit code gives."""
        result = checked(cls, data)
        if result.outcome != outcome_of(result.exit_code):
            raise DamagedRecord(
                f"outcome {result.outcome!r} is not what exit code {result.exit_code} gives ({outcome_of(result.exit_code)})"
            )
        return result

    def with_index(self, index: int, *, reused: bool | None = None) -> JobResult:
        return replace(self, index=index, reused=self.reused if reused is None else reused)


@dataclass(frozen=True)
class HistoryRecord:
    """One ``verify-history`` of a set of saved states and streams, as the run store keeps it."""

    id: str
    state: Literal["running", "succeeded", "failed", "interrupted"]
    started_at: Timestamp
    finished_at: Timestamp | None
    states: str
    executor: str
    spec: dict[str, Any]
    exit_code: int | None
