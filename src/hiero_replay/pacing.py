"""Replay rates: parsing and the units they are expressed in."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

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

    def apply_blocks_rounds_per_second(self) -> int | None:
        """The ``--rate`` apply-blocks takes (whole rounds per second), when the rate is in rounds."""
        if self.unit != "rounds":
            return None
        return max(1, math.floor(self.value))

    def __str__(self) -> str:
        if self.is_unlimited:
            return "unlimited"
        value = f"{self.value:g}"
        return f"{value}x" if self.unit == "consensus" else f"{value} {self.unit}/s"
