"""Replay rates: parsing and the units they are expressed in."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Literal, Protocol

RateUnit = Literal["unlimited", "rounds", "blocks", "files", "consensus"]
_PER_SECOND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(rounds?|blocks?|files?)\s*/\s*s\s*$")
_MULTIPLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*x\s*$")


@dataclass(frozen=True)
class Rate:
    """``unlimited``, a count per second (rounds, blocks, files) or a multiple of consensus time."""

    unit: RateUnit
    value: float = math.inf

    @classmethod
    def unlimited(cls) -> "Rate":
        return cls("unlimited")

    @classmethod
    def parse(cls, text: str) -> "Rate":
        if text.strip().lower() == "unlimited":
            return cls.unlimited()
        per_second = _PER_SECOND.match(text.lower())
        multiple = _MULTIPLE.match(text.lower())
        if per_second:
            value, unit = float(per_second.group(1)), per_second.group(2).rstrip("s") + "s"
        elif multiple:
            value, unit = float(multiple.group(1)), "consensus"
        else:
            raise ValueError(
                f"rate {text!r} is not one of: unlimited, 'N rounds/s', 'N blocks/s', 'N files/s', 'Nx' (times consensus time)"
            )
        if value <= 0:
            raise ValueError(f"rate {text!r} must be greater than zero")
        return cls(unit, value)  # type: ignore[arg-type]

    @property
    def is_unlimited(self) -> bool:
        return self.unit == "unlimited"

    def apply_blocks_rate(self, work: "Workload") -> int | None:
        """The ``--rate`` (whole rounds per second) that paces ``work`` inside apply-blocks."""
        if self.is_unlimited:
            return None
        if self.unit == "rounds":
            return max(1, math.floor(self.value))
        seconds = cost_seconds(self, work)
        return max(1, math.floor(work.rounds / seconds)) if seconds > 0 else None

    def __str__(self) -> str:
        if self.is_unlimited:
            return "unlimited"
        value = f"{self.value:g}"
        return f"{value}x" if self.unit == "consensus" else f"{value} {self.unit}/s"


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Workload:
    """What a stretch of replay holds, in every unit a rate can be given in."""

    rounds: int
    files: int
    consensus_seconds: float | None


def cost_seconds(rate: Rate, work: Workload) -> float:
    """How long ``work`` may take at ``rate`` (0 when unlimited or the unit cannot be measured)."""
    if rate.is_unlimited:
        return 0.0
    if rate.unit == "rounds":
        return work.rounds / rate.value
    if rate.unit in ("files", "blocks"):
        return work.files / rate.value
    return (work.consensus_seconds or 0.0) / rate.value


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

    def release(self, work: Workload) -> float:
        """Wait until ``work`` may start; return the seconds waited."""
        now = self.clock.monotonic()
        waited = 0.0
        if self._next_release is not None and now < self._next_release:
            waited = self._next_release - now
            self.clock.sleep(waited)
            now = self._next_release
        self._next_release = now + cost_seconds(self.rate, work)
        self.waited_seconds += waited
        return waited
