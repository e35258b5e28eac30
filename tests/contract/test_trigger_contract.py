"""The ``Trigger`` contract, run against every trigger kind: fires strictly after the moment asked,
in increasing order, in UTC, and on a grid that does not depend on when the scheduler started
(restarts and catch-up rely on it)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hiero_replay.errors import ConfigError
from hiero_replay.schedule.triggers import CronTrigger, IntervalTrigger, Trigger, fires_between

TRIGGERS: dict[str, Callable[[], Trigger]] = {
    "cron-utc": lambda: CronTrigger("*/15 * * * *"),
    "cron-zone": lambda: CronTrigger("30 2 * * *", "Europe/Zurich"),  # crosses DST changes
    "interval": lambda: IntervalTrigger(timedelta(minutes=15)),
    "interval-odd": lambda: IntervalTrigger(timedelta(seconds=7)),
}
MOMENTS = [
    datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
    datetime(2026, 1, 1, 12, 7, 3, 500000, tzinfo=UTC),
]


@pytest.fixture(params=list(TRIGGERS))
def trigger(request: pytest.FixtureRequest) -> Trigger:
    return TRIGGERS[request.param]()


@pytest.mark.parametrize("after", MOMENTS)
def test_fires_strictly_after_in_increasing_order_in_utc(trigger: Trigger, after: datetime) -> None:
    fires = list(itertools.islice(trigger.fires(after), 50))
    assert fires[0] > after
    assert all(a < b for a, b in itertools.pairwise(fires))
    assert all(f.utcoffset() == timedelta(0) for f in fires)


@pytest.mark.parametrize("after", MOMENTS)
def test_the_grid_does_not_depend_on_when_it_is_asked(trigger: Trigger, after: datetime) -> None:
    fires = list(itertools.islice(trigger.fires(after), 20))
    for index, fire in enumerate(fires[:-1]):
        assert list(itertools.islice(trigger.fires(fire), 20 - index - 1)) == fires[index + 1 :]
        halfway = fire + (fires[index + 1] - fire) / 2
        assert next(trigger.fires(halfway)) == fires[index + 1]


def test_fires_between_two_moments_are_the_fires_in_that_span(trigger: Trigger) -> None:
    start = MOMENTS[2]
    fires = list(itertools.islice(trigger.fires(start), 10))
    assert list(fires_between(trigger, start, fires[-1])) == fires
    assert list(fires_between(trigger, start, start)) == []


def test_invalid_triggers_are_configuration_errors() -> None:
    builds: tuple[Callable[[], Trigger], ...] = (lambda: CronTrigger("every day"), lambda: CronTrigger("0 9 * * *", "Mars/Olympus"))
    for build in builds:
        with pytest.raises(ConfigError):
            build()
