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

    def schedule_missed(self, fires: int) -> None: ...


class Observers(RunObserver):
    def __init__(self, *observers: RunObserver) -> None:
        self.observers = [o for o in observers if o is not None]

    def __getattribute__(self, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("_") or name == "observers" or not hasattr(RunObserver, name):
            return object.__getattribute__(self, name)
        observers = object.__getattribute__(self, "observers")

        def fan_out(*args, **kwargs):  # type: ignore[no-untyped-def]
            for observer in observers:
                getattr(observer, name)(*args, **kwargs)

        return fan_out


def rate_and_eta(done: int, remaining: int, elapsed: float) -> tuple[float | None, float | None]:
    """Rounds per second so far, and the seconds left at that rate (``None`` until a round is done)."""
    if elapsed <= 0 or done <= 0:
        return None, None
    rate = done / elapsed
    return rate, remaining / rate
