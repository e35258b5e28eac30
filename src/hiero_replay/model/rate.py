"""Replay rates: parsing, the units they are expressed in, and what a stretch of replay costs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

RateUnit = Literal["unlimited", "rounds", "blocks", "files", "consensus"]
_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
_PER_SECOND = re.compile(rf"^\s*{_NUMBER}\s*(rounds?|blocks?|files?)\s*/\s*s\s*$")
_MULTIPLE = re.compile(rf"^\s*{_NUMBER}\s*x\s*$")
_BARE = re.compile(rf"^\s*{_NUMBER}\s*$")
#: The slowest rate accepted: one round, block, file or consensus second every 11.6 days.
MIN_RATE = 0.000001
#: The fastest rate accepted (well below apply-blocks' ``--rate`` int, whose largest value means unlimited).
MAX_RATE = 1_000_000_000.0
#: apply-blocks' ``--rate`` is a Java int; its largest value means no limiter (hiero-tools §1.4).
MAX_TOOL_ROUNDS_PER_SECOND = 2**31 - 1


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
        """``text`` as written in a flag, a variable or the configuration; ``str`` of a rate reads back as itself."""
        lowered = text.strip().lower()
        if lowered == "unlimited":
            return cls.unlimited()
        unit: str | None
        if per_second := _PER_SECOND.match(lowered):
            number, unit = per_second.group(1), per_second.group(2).rstrip("s") + "s"
        elif multiple := _MULTIPLE.match(lowered):
            number, unit = multiple.group(1), "consensus"
        elif bare := _BARE.match(lowered):
            number, unit = bare.group(1), None
        else:
            raise ValueError(
                f"rate {text!r} is not one of: unlimited, 'N rounds/s', 'N blocks/s', 'N files/s', 'Nx' (times consensus time)"
            )
        value = float(number)
        if value <= 0:
            raise ValueError(f"rate {text!r} must be a number greater than zero")
        if not MIN_RATE <= value <= MAX_RATE:
            raise ValueError(
                f"rate {text!r} is out of range: from {plain_number(MIN_RATE)} to {plain_number(MAX_RATE)} "
                "(per second, or times consensus time)"
            )
        if unit is None:
            shown = number.lstrip("+")
            raise ValueError(f'rate {text!r} has no unit: write "{shown} rounds/s" (or "{shown} blocks/s", "{shown} files/s", "{shown}x")')
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
        return min(MAX_TOOL_ROUNDS_PER_SECOND, max(1, math.floor(work.rounds / seconds))) if seconds > 0 else None

    def __str__(self) -> str:
        if self.is_unlimited:
            return "unlimited"
        value = plain_number(self.value)
        return f"{value}x" if self.unit == "consensus" else f"{value} {self.unit}/s"


def plain_number(value: float) -> str:
    """The shortest decimal that reads back as ``value``, without an exponent (``1000000``, ``0.00001``)."""
    return format(Decimal(repr(value)), "f").removesuffix(".0")
