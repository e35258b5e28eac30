"""Replay rates: parsing, the units they are expressed in, and what a stretch of replay costs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, cast

RateUnit = Literal["unlimited", "rounds", "blocks", "files", "consensus"]
_PER_SECOND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(rounds?|blocks?|files?)\s*/\s*s\s*$")
_MULTIPLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*x\s*$")


@dataclass(frozen=True)
class Workload:
    """What a stretch of replay holds, in every unit a rate can be given in."""

    rounds: int
    files: int
    consensus_seconds: float | None


@dataclass(frozen=True)
class Rate:
    """``unlimited``, a count per second (rounds, blocks, files) or a multiple of consensus time."""

    unit: RateUnit
    value: float = math.inf

    @classmethod
    def unlimited(cls) -> Rate:
        return cls("unlimited")

    @classmethod
    def parse(cls, text: str) -> Rate:
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
        if value <= 0 or not math.isfinite(value):
            raise ValueError(f"rate {text!r} must be a finite number greater than zero")
        return cls(cast(RateUnit, unit), value)

    @property
    def is_unlimited(self) -> bool:
        return self.unit == "unlimited"

    def cost_seconds(self, work: Workload) -> float:
        """How long ``work`` may take at this rate (0 when unlimited or the unit cannot be measured)."""
        if self.unit == "rounds":
            return work.rounds / self.value
        if self.unit in ("files", "blocks"):
            return work.files / self.value
        if self.unit == "consensus":
            return (work.consensus_seconds or 0.0) / self.value
        return 0.0

    def rounds_per_second(self, work: Workload) -> int | None:
        """The whole rounds per second that pace ``work`` at this rate (for a tool that paces rounds)."""
        if self.is_unlimited:
            return None
        if self.unit == "rounds":
            return max(1, math.floor(self.value))
        seconds = self.cost_seconds(work)
        return max(1, math.floor(work.rounds / seconds)) if seconds > 0 else None

    def __str__(self) -> str:
        if self.is_unlimited:
            return "unlimited"
        value = f"{self.value:g}"
        return f"{value}x" if self.unit == "consensus" else f"{value} {self.unit}/s"
