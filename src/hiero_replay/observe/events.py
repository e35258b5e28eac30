"""What a run reports as it moves. Every layer reports through a ``RunObserver``; the metrics,
the status file and the progress display are observers, and ``Observers`` fans out to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import ReplayError
    from ..model.plan import ReplayPlan, Segment
    from ..model.results import RunResult, SegmentResult


class RunObserver:
    """No-op defaults: an observer overrides what it cares about."""

    def run_opened(self, run_id: str) -> None:
        """The run is recorded; its plan is being made (it may fail before ``run_started``)."""

    def run_started(self, plan: ReplayPlan, source_types: dict[str, str]) -> None: ...

    def segment_started(self, segment: Segment) -> None: ...

    def fetched(self, source_type: str, files: int, size: int, seconds: float, ok: bool) -> None: ...

    def source_retried(self, source_type: str, retries: int) -> None: ...

    def paced(self, seconds: float) -> None: ...

    def round_applied(self, round_number: int) -> None: ...

    def tick(self) -> None:
        """Called while a backend runs, between its progress lines."""

    def segment_verified(self, segment: Segment, result: SegmentResult, consensus_time_ns: int | None) -> None: ...

    def run_finished(self, result: RunResult) -> None: ...

    def run_failed(self, error: ReplayError) -> None: ...

    def run_skipped(self, reason: str) -> None:
        """The run found nothing new to replay (a follower that is up to date): not a failure."""

    def schedule_missed(self, fires: int) -> None: ...


class Observers(RunObserver):
    """Every event, to each observer in turn."""

    def __init__(self, *observers: RunObserver) -> None:
        self.observers = list(observers)

    def run_opened(self, run_id: str) -> None:
        for observer in self.observers:
            observer.run_opened(run_id)

    def run_started(self, plan: ReplayPlan, source_types: dict[str, str]) -> None:
        for observer in self.observers:
            observer.run_started(plan, source_types)

    def segment_started(self, segment: Segment) -> None:
        for observer in self.observers:
            observer.segment_started(segment)

    def fetched(self, source_type: str, files: int, size: int, seconds: float, ok: bool) -> None:
        for observer in self.observers:
            observer.fetched(source_type, files, size, seconds, ok)

    def source_retried(self, source_type: str, retries: int) -> None:
        for observer in self.observers:
            observer.source_retried(source_type, retries)

    def paced(self, seconds: float) -> None:
        for observer in self.observers:
            observer.paced(seconds)

    def round_applied(self, round_number: int) -> None:
        for observer in self.observers:
            observer.round_applied(round_number)

    def tick(self) -> None:
        for observer in self.observers:
            observer.tick()

    def segment_verified(self, segment: Segment, result: SegmentResult, consensus_time_ns: int | None) -> None:
        for observer in self.observers:
            observer.segment_verified(segment, result, consensus_time_ns)

    def run_finished(self, result: RunResult) -> None:
        for observer in self.observers:
            observer.run_finished(result)

    def run_failed(self, error: ReplayError) -> None:
        for observer in self.observers:
            observer.run_failed(error)

    def run_skipped(self, reason: str) -> None:
        for observer in self.observers:
            observer.run_skipped(reason)

    def schedule_missed(self, fires: int) -> None:
        for observer in self.observers:
            observer.schedule_missed(fires)


def rate_and_eta(done: int, remaining: int, elapsed: float) -> tuple[float | None, float | None]:
    """Rounds per second so far, and the seconds left at that rate (``None`` until a round is done)."""
    if elapsed <= 0 or done <= 0:
        return None, None
    rate = done / elapsed
    return rate, remaining / rate
