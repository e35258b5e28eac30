"""What the report's sections read: one run, its segments, and the figures derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple

from ...store import RunRecord, SegmentRecord

FAILED_STATES = ("failed", "interrupted")


def iso_utc(timestamp: float | None) -> str:
    """ISO 8601 in UTC to the second: ``2026-01-01T00:00:00Z``."""
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def figure(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def rounds_of(segment: SegmentRecord) -> int:
    return segment.last_round - segment.first_round + 1


def rounds_per_second(segment: SegmentRecord) -> float | None:
    return rounds_of(segment) / segment.seconds if segment.seconds else None


def consensus_speed(segment: SegmentRecord) -> float | None:
    """How many times faster than the network produced them the segment's rounds were applied."""
    return segment.consensus_seconds / segment.seconds if segment.consensus_seconds and segment.seconds else None


def staging_megabytes_per_second(segment: SegmentRecord) -> float | None:
    return (segment.fetched_bytes or 0) / 1e6 / segment.fetch_seconds if segment.fetch_seconds else None


def mode_text(plan: dict[str, Any]) -> str:
    """The backend choice in one phrase; the plan's reason usually starts with the mode already."""
    mode, reason = str(plan["mode"]), str(plan.get("reason") or "")
    if not reason or reason == f"mode {mode}":
        return mode
    return reason if reason.startswith(f"{mode}:") else f"{mode}: {reason}"


class Verified(NamedTuple):
    """A verified segment with the times and round it recorded."""

    segment: SegmentRecord
    started_at: float
    finished_at: float
    round: int


@dataclass(frozen=True)
class ReportData:
    run: RunRecord
    segments: list[SegmentRecord]

    @property
    def plan(self) -> dict[str, Any]:
        return self.run.plan

    @property
    def failed(self) -> bool:
        return self.run.state in FAILED_STATES

    @cached_property
    def ended_at(self) -> float:
        """When the run finished, or (still running) the last time one of its segments moved."""
        times = [t for s in self.segments for t in (s.started_at, s.finished_at) if t is not None]
        return self.run.finished_at or max(times, default=self.run.started_at)

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended_at - self.run.started_at)

    def elapsed(self, timestamp: float) -> float:
        return timestamp - self.run.started_at

    @cached_property
    def verified(self) -> list[Verified]:
        return [
            Verified(s, s.started_at, s.finished_at, s.round)
            for s in self.segments
            if s.state == "verified" and s.started_at is not None and s.finished_at is not None and s.round is not None
        ]

    @property
    def rounds_applied(self) -> int:
        return sum(rounds_of(v.segment) for v in self.verified)

    @cached_property
    def failing_segment(self) -> SegmentRecord | None:
        """The segment the run failed in: the one recorded as failed, else the first it did not verify."""
        if not self.failed:
            return None
        failed = [s for s in self.segments if s.state == "failed"]
        unfinished = [s for s in self.segments if s.state != "verified"]
        return next(iter(failed or unfinished), None)

    @property
    def failure_label(self) -> str:
        segment = self.failing_segment
        return f"segment {segment.idx} {self.run.state}" if segment else f"run {self.run.state}"

    @property
    def last_good_round(self) -> int:
        """The round of the newest verified state: where a resume would continue from."""
        return max((v.round for v in self.verified), default=int(self.plan["bootstrap_round"]))

    @property
    def crosses_cutover(self) -> bool:
        cutover = self.plan.get("cutover_round")
        return cutover is not None and self.plan["start_round"] < cutover <= self.plan["target_round"]

    @property
    def backends(self) -> list[str]:
        """The backends of the run's segments, in the order they first appear."""
        return list(dict.fromkeys(s.backend for s in self.segments))
