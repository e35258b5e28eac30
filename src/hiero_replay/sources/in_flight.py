"""How many requests to keep in flight: adapted to what the bucket answers.

A real bucket answers a small GET in tens of milliseconds, so the number of requests in flight
decides the throughput until bandwidth, the server or this machine's CPU runs out. The limit
starts at ``start`` (``buckets.download_workers``) and doubles after each measuring period (as
many completions as requests in flight) whose throughput grew by at least ``GROWTH`` over the
period before, up to ``cap`` (``buckets.max_requests_in_flight``); an increase that brings less
is undone, and the limit stays. Throttling (429, 503) halves it and stops the growth for a few
periods: the server said it has had enough.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: An increase must bring this much more throughput to be kept going.
GROWTH = 1.15
#: After throttling, this many periods pass before growth is tried again.
COOL_DOWN_PERIODS = 8


@dataclass
class InFlightLimit:
    start: int
    cap: int
    clock: Callable[[], float] = time.monotonic
    #: Every value the limit took, in order (for logs, benches and tests).
    history: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = max(1, self.start)
        self.cap = max(self.start, self.cap)
        self.limit = self.start
        self.history.append(self.limit)
        self._lock = threading.Lock()
        self._growing = self.cap > self.start
        self._cool_down = 0
        self._period_started = self.clock()
        self._period_done = 0
        self._previous_rate = 0.0
        self._previous_limit = self.limit

    def _set(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self.history.append(limit)

    def completed(self, *, throttled: bool = False) -> None:
        """One request finished (``throttled``: it met a 429 or 503 on the way)."""
        with self._lock:
            if throttled:
                self._set(max(1, self.limit // 2))
                self._previous_limit = self.limit
                self._growing = self.cap > self.limit
                self._cool_down = COOL_DOWN_PERIODS
                self._previous_rate = 0.0
                self._new_period()
                return
            self._period_done += 1
            if self._period_done < self.limit:  # a period: as many completions as requests in flight
                return
            elapsed = max(self.clock() - self._period_started, 1e-9)
            rate = self._period_done / elapsed
            if self._cool_down > 0:
                self._cool_down -= 1
                rate = 0.0 if self._cool_down == 0 else rate  # then an increase is tried again
            elif self._growing and rate >= self._previous_rate * GROWTH:
                self._previous_limit = self.limit
                self._set(min(self.cap, self.limit * 2))
                self._growing = self.limit < self.cap
            elif self._growing:  # the last increase did not pay: back to where it was, and stay
                self._growing = False
                self._set(self._previous_limit)
            self._previous_rate = rate
            self._new_period()

    def _new_period(self) -> None:
        self._period_started = self.clock()
        self._period_done = 0
