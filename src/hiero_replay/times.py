"""Wall-clock moments as text: ISO 8601 UTC to the millisecond, the one format status, results,
the run list and reports show (``2026-11-29T19:46:26.123Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
