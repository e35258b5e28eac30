"""Consensus times as integer nanoseconds since the epoch (``datetime`` stops at microseconds).

Stream files can carry any 64-bit seconds value, so formatting is pure integer arithmetic that works
for every integer (``time.gmtime`` fails past the platform's ``time_t``), and the readers accept
only the instants an ISO-8601 name with a four-digit year can express (``checked_time``).
"""

from __future__ import annotations

import re

_NANOS = 1_000_000_000
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z", re.ASCII)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range of protobuf's Timestamp and of the
#: ``YYYY-MM-DD`` names files are given. No real stream file comes anywhere near either end.
MIN_SECONDS = -62_135_596_800
MAX_SECONDS = 253_402_300_799


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, any year)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """The inverse of ``_days_from_civil``."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def parse_consensus_time(text: str) -> int:
    """``2021-04-18T04:23:37.200170000Z`` -> nanoseconds since the epoch (UTC).

    Raises ``ValueError`` for anything that is not a real instant (``2021-02-30``, ``25:61:61``, year 0).
    """
    match = _ISO.fullmatch(text)
    if not match:
        raise ValueError(f"not an ISO-8601 UTC instant: {text!r}")
    year, month, day, hour, minute, second = map(int, match.groups()[:6])
    days_in_month = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1] if 1 <= month <= 12 else 0
    if not (year >= 1 and 1 <= day <= days_in_month and hour < 24 and minute < 60 and second < 60):
        raise ValueError(f"not a valid date and time: {text!r}")
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return seconds * _NANOS + int((match.group(7) or "0").ljust(9, "0"))


def format_consensus_time(nanos: int) -> str:
    """Nanoseconds since the epoch -> ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ``.

    Never raises: outside years 0000-9999 the year is written as ISO 8601's expanded form, with a
    sign and as many digits as it needs (``+100000000000-01-01T...``), as Java's ``Instant`` does.
    """
    seconds, fraction = divmod(nanos, _NANOS)
    days, second_of_day = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    year_text = f"{year:04d}" if 0 <= year <= 9999 else f"{year:+05d}"
    return f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction:09d}Z"


def from_seconds_nanos(seconds: int, nanos: int) -> int:
    return seconds * _NANOS + nanos


def checked_time(seconds: int, nanos: int, what: str) -> int:
    """``from_seconds_nanos`` for a time read from a file: ``ValueError`` unless it is an instant
    between years 1 and 9999 with nanos in ``[0, 10^9)`` (what the network writes)."""
    if not (MIN_SECONDS <= seconds <= MAX_SECONDS and 0 <= nanos < _NANOS):
        raise ValueError(f"{what} is out of range ({seconds} s, {nanos} ns)")
    return seconds * _NANOS + nanos
