"""Triggers: when scheduled runs fire (a cron expression in a time zone, or a fixed interval)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import ScheduleConfig


class Trigger(Protocol):
    def fires(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``after``, in order."""
        ...


class CronTrigger:
    def __init__(self, expression: str, zone: str = "UTC") -> None:
        try:
            self.zone = ZoneInfo(zone)
            CronSim(expression, datetime.now(self.zone))
        except (CronSimError, ValueError, KeyError) as error:
            raise ConfigError(f"schedule.cron {expression!r} (time zone {zone}) is not valid: {error}.") from error
        self.expression = expression

    def fires(self, after: datetime) -> Iterator[datetime]:
        for moment in CronSim(self.expression, after.astimezone(self.zone)):
            yield moment.astimezone(UTC)


class IntervalTrigger:
    """Every ``interval``, aligned to the epoch so restarts keep the same grid."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval.total_seconds()

    def fires(self, after: datetime) -> Iterator[datetime]:
        step = int(after.timestamp() // self.interval) + 1
        while True:
            yield datetime.fromtimestamp(step * self.interval, UTC)
            step += 1


def fires_between(trigger: Trigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """The fires after ``start`` up to and including ``end``."""
    for moment in trigger.fires(start):
        if moment > end:
            return
        yield moment


def trigger_from(schedule: ScheduleConfig) -> Trigger:
    if schedule.cron is not None:
        return CronTrigger(schedule.cron, schedule.timezone)
    if schedule.interval is not None:
        return IntervalTrigger(schedule.interval)
    raise ConfigError("Nothing to schedule: set schedule.cron or schedule.interval.", hint="See `hiero-replay config schema`.")
