"""Segmentation: backend ranges cut into segments by size and by what the pace allows."""

from __future__ import annotations

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


def split_ranges(ranges: Sequence[BackendRange], segment_rounds: int) -> list[BackendRange]:
    """Cut each backend range into segments of ``segment_rounds`` (0 = one segment per backend)."""
    if segment_rounds <= 0:
        return list(ranges)
    pieces = []
    for whole in ranges:
        for first in range(whole.first, whole.last + 1, segment_rounds):
            pieces.append(BackendRange(whole.backend, first, min(first + segment_rounds - 1, whole.last)))
    return pieces


def pace_ranges(
    ranges: Sequence[BackendRange],
    rate: Rate,
    max_seconds: float,
    workload: Callable[[BackendRange], Workload],
    backends: Mapping[str, ReplayBackend],
) -> list[BackendRange]:
    """Cut segments so that none takes longer than ``max_seconds`` at ``rate``.

    A backend that paces rounds itself keeps its segments whole under a rate in rounds/s;
    everything else is only paced between segments, and must be cut to hold the pace.
    """
    if rate.is_unlimited:
        return list(ranges)
    pieces: list[BackendRange] = []
    for whole in ranges:
        if backends[whole.backend].paces_rounds and rate.unit == "rounds":
            pieces.append(whole)
            continue
        first = whole.first
        while first <= whole.last:
            low, high = first, whole.last  # the longest piece first..last within max_seconds
            while low < high:
                middle = (low + high + 1) // 2
                if rate.cost_seconds(workload(BackendRange(whole.backend, first, middle))) <= max_seconds:
                    low = middle
                else:
                    high = middle - 1
            pieces.append(BackendRange(whole.backend, first, low))
            first = low + 1
    return pieces
