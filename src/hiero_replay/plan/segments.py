"""Segmentation: backend ranges cut into segments by size and by what the pace allows."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..backends.base import ReplayBackend
from ..model.rate import Rate, Workload


@dataclass(frozen=True)
class BackendRange:
    """Rounds ``first..last`` for one backend: a segment to be."""

    backend: str
    first: int
    last: int


#: Where a backend's segments may end, by backend: only on these rounds (a block's last round), or,
#: for a backend missing here, on any round. A range's own last round is always allowed.
SegmentEnds = Mapping[str, Sequence[int]]


def _ends_within(whole: BackendRange, ends: SegmentEnds) -> Sequence[int]:
    """The rounds a segment of ``whole`` may end on, in order; the last one is ``whole.last``."""
    allowed = ends.get(whole.backend)
    if allowed is None:
        return range(whole.first, whole.last + 1)
    return [*allowed[bisect_left(allowed, whole.first) : bisect_left(allowed, whole.last)], whole.last]


def split_ranges(ranges: Sequence[BackendRange], segment_rounds: int, ends: SegmentEnds) -> list[BackendRange]:
    """Cut each backend range into segments of ``segment_rounds`` (0 = one segment per backend),
    each rounded up to the next round it may end on."""
    if segment_rounds <= 0:
        return list(ranges)
    pieces = []
    for whole in ranges:
        allowed = _ends_within(whole, ends)
        first = whole.first
        while first <= whole.last:
            last = allowed[bisect_left(allowed, min(first + segment_rounds - 1, whole.last))]
            pieces.append(BackendRange(whole.backend, first, last))
            first = last + 1
    return pieces


#: Where a backend cannot pace rounds, a range is cut into at least this many segments when the
#: shortest window allows: the burst of the last one then weighs little in the run's average.
MIN_PACED_SEGMENTS = 10


def pacing_window(cost_seconds: float, max_seconds: float, min_seconds: float) -> float:
    """The most work, in seconds at the rate, one segment of a range costing ``cost_seconds`` holds."""
    return min(max_seconds, max(min_seconds, cost_seconds / MIN_PACED_SEGMENTS))


def paced_by_segments(backend: ReplayBackend, rate: Rate) -> bool:
    """Must the orchestrator pace this backend by releasing segments (it cannot pace this rate
    itself)? A tool that paces rounds takes whole rounds per second (apply-blocks' ``--rate`` is an
    int, hiero-tools §1.4): a rate below 1 round/s is not one it can hold."""
    held_by_tool = backend.paces_rounds and rate.unit == "rounds" and rate.value >= 1
    return not rate.is_unlimited and not held_by_tool


def pace_ranges(
    ranges: Sequence[BackendRange],
    rate: Rate,
    windows: Mapping[str, float],
    workload: Callable[[BackendRange], Workload],
    backends: Mapping[str, ReplayBackend],
    ends: SegmentEnds,
) -> list[BackendRange]:
    """Cut segments so that none takes longer than its backend's pacing window (``windows``, seconds
    of work at ``rate``, see ``pacing_window``), where they may end; a piece that cannot end sooner
    is longer.

    A backend that paces rounds itself keeps its segments whole under a rate in rounds/s;
    everything else is only paced between segments, and must be cut to hold the pace.
    """
    if rate.is_unlimited:
        return list(ranges)
    pieces: list[BackendRange] = []
    for whole in ranges:
        if not paced_by_segments(backends[whole.backend], rate):
            pieces.append(whole)
            continue
        max_seconds = windows[whole.backend]
        allowed = _ends_within(whole, ends)
        first = whole.first
        while first <= whole.last:
            # The longest piece first..allowed[i] within max_seconds; at least the shortest one.
            low, high = bisect_left(allowed, first), len(allowed) - 1
            while low < high:
                middle = (low + high + 1) // 2
                if rate.cost_seconds(workload(BackendRange(whole.backend, first, allowed[middle]))) <= max_seconds:
                    low = middle
                else:
                    high = middle - 1
            pieces.append(BackendRange(whole.backend, first, allowed[low]))
            first = allowed[low] + 1
    return pieces


def pacing_warnings(
    ranges: Sequence[BackendRange],
    pieces: Sequence[BackendRange],
    rate: Rate,
    windows: Mapping[str, float],
    workload: Callable[[BackendRange], Workload],
    backends: Mapping[str, ReplayBackend],
) -> list[str]:
    """What the pace can and cannot promise, in words, for each backend paced by segments."""
    warnings = []
    for whole in ranges:
        backend = backends[whole.backend]
        if not paced_by_segments(backend, rate):
            if rate.unit == "rounds" and not rate.is_unlimited and rate.value != int(rate.value):
                held = rate.rounds_per_second(workload(whole))
                warnings.append(f"{backend.tool} takes whole rounds per second: it paces at --rate {held}, below {rate}")
            continue
        count = sum(1 for piece in pieces if piece.backend == whole.backend)
        cost = rate.cost_seconds(workload(whole))
        # apply-blocks paces each segment at the whole rounds/s nearest below the rate (at least 1); PCLI not at all
        within = "each at the whole rounds/s it can hold" if backend.paces_rounds else "each runs at full speed"
        if count == 1:
            warnings.append(
                f"{backend.tool}: rounds {whole.first}..{whole.last} ({cost:.1f} s of work at {rate}) fit in one pacing window, "
                f"so they run as one burst ({within}): the rate cannot hold (lower pace.min_segment_seconds to cut them finer)"
            )
        else:
            how = "cannot pace this rate itself" if backend.paces_rounds else "cannot pace rounds itself"
            warnings.append(
                f"{backend.tool} {how}: its {count} segments of at most {windows[whole.backend]:.1f} s of work "
                f"at {rate} are released on schedule, {within}, so the cap holds on average from segment "
                "to segment, not within one"
            )
    return warnings
