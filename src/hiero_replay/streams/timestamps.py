"""Consensus times as integer nanoseconds since the epoch (``datetime`` stops at microseconds)."""

from __future__ import annotations

import calendar
import re
import time

_NANOS = 1_000_000_000
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")


def parse_consensus_time(text: str) -> int:
    """``2021-04-18T04:23:37.200170000Z`` -> nanoseconds since the epoch (UTC)."""
    match = _ISO.match(text)
    if not match:
        raise ValueError(f"not an ISO-8601 UTC instant: {text!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second)))
    return seconds * _NANOS + int((fraction or "0").ljust(9, "0"))


def format_consensus_time(nanos: int) -> str:
    """Nanoseconds since the epoch -> ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``."""
    seconds, fraction = divmod(nanos, _NANOS)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def from_seconds_nanos(seconds: int, nanos: int) -> int:
    return seconds * _NANOS + nanos
