"""Consensus time by round, from what the stream files state."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from ..model.files import StreamFile


class Timeline:
    """Consensus time by round, interpolated between what the files state (first and last event
    of an event file, the first round of a block)."""

    def __init__(self, files: Sequence[StreamFile]) -> None:
        points: dict[int, int] = {}
        for f in files:
            if f.first_round is not None and f.first_time_ns is not None:
                points.setdefault(f.first_round, f.first_time_ns)
            if f.events is not None:
                points[f.events.last_round] = f.events.last_time_ns
        self._rounds = sorted(points)
        self._times = [points[r] for r in self._rounds]

    def time_ns(self, round_number: int) -> int | None:
        rounds, times = self._rounds, self._times
        if len(rounds) < 2:
            return times[0] if rounds else None
        index = min(max(bisect.bisect_left(rounds, round_number), 1), len(rounds) - 1)
        r0, r1, t0, t1 = rounds[index - 1], rounds[index], times[index - 1], times[index]
        return t0 + (t1 - t0) * (round_number - r0) // (r1 - r0)

    def last_round_within(self, first: int, last: int, seconds: float) -> int:
        """The last round up to ``last`` that reached consensus at most ``seconds`` after round ``first - 1``."""
        start = self.time_ns(first - 1)
        if start is None:
            return last
        limit = start + int(seconds * 1e9)
        low, high = first - 1, last
        while low < high:
            middle = (low + high + 1) // 2
            if (self.time_ns(middle) or 0) <= limit:
                low = middle
            else:
                high = middle - 1
        return low

    def span_seconds(self, first: int, last: int) -> float | None:
        """Consensus time from the end of round ``first - 1`` to the end of round ``last``."""
        start, end = self.time_ns(first - 1), self.time_ns(last)
        return None if start is None or end is None else max(0, end - start) / 1e9
