"""The due-time pacer: segments are released on a monotonic clock, never ahead of the rate."""

from __future__ import annotations

import time
from typing import Protocol

from ..model.rate import Rate, Workload


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


#: The longest single ``time.sleep`` (it refuses more than the platform's time_t holds, about 292
#: years): a longer wait, which a slow rate over a long segment can ask for, sleeps in pieces.
LONGEST_SLEEP_SECONDS = 86_400.0


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, LONGEST_SLEEP_SECONDS))


class Pacer:
    """Releases segments at due times on a monotonic clock, never ahead of the rate.

    Segment i+1 is released no earlier than segment i's release plus its cost. A segment that
    finishes late does not earn credit: the next one is not released early to catch up, so the
    replay never bursts above the cap to make up for lost time.
    """

    def __init__(self, rate: Rate, clock: Clock | None = None) -> None:
        self.rate = rate
        self.clock = clock or SystemClock()
        self._next_release: float | None = None
        self.waited_seconds = 0.0
        #: When the last segment was released: seconds after the first release, on the pacer's clock.
        self.last_release = 0.0
        self._first_release: float | None = None

    def release(self, work: Workload) -> float:
        """Wait until ``work`` may start; return the seconds waited."""
        now = self.clock.monotonic()
        waited = 0.0
        if self._next_release is not None and now < self._next_release:
            waited = self._next_release - now
            self.clock.sleep(waited)
            now = self._next_release
        self._next_release = now + self.rate.cost_seconds(work)
        if self._first_release is None:
            self._first_release = now
        self.last_release = now - self._first_release
        self.waited_seconds += waited
        return waited
