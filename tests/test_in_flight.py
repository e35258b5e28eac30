"""Requests in flight adapt: they grow while throughput grows (a latency-bound bucket), stop
where it no longer does, and halve on throttling. Checked with a clock of our own, then through
the fault proxy's latency fault and its 503s, by counting requests in flight (never timing)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiero_replay.sources.in_flight import COOL_DOWN_PERIODS, InFlightLimit
from hiero_replay.sources.read_ahead import ReadAhead

from .buckets import make_bucket
from .object_servers import Fault, FaultProxy, SeaweedS3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drive(limit: InFlightLimit, clock: Clock, periods: int, seconds_per_request: float, *, ceiling: float = float("inf")) -> None:
    """Complete requests as a server would: ``limit`` at a time, each taking ``seconds_per_request``
    (throughput = limit / latency), up to ``ceiling`` requests per second."""
    for _ in range(periods):
        in_flight = limit.limit
        rate = min(in_flight / seconds_per_request, ceiling)
        for _ in range(in_flight):
            clock.now += 1 / rate
            limit.completed()


def test_latency_bound_throughput_grows_the_limit_to_its_cap() -> None:
    clock = Clock()
    limit = InFlightLimit(start=32, cap=256, clock=clock)
    drive(limit, clock, periods=12, seconds_per_request=0.05)
    assert limit.history == [32, 64, 128, 256]


def test_growth_stops_where_throughput_stops_growing() -> None:
    clock = Clock()
    limit = InFlightLimit(start=32, cap=256, clock=clock)
    drive(limit, clock, periods=12, seconds_per_request=0.05, ceiling=1000)  # CPU or bandwidth bound: 1,000/s
    assert limit.history == [32, 64, 128, 64]  # 640/s at 32, 1,000/s at 64 and at 128: back to 64


def test_a_fixed_limit_never_moves() -> None:
    clock = Clock()
    limit = InFlightLimit(start=32, cap=32, clock=clock)
    drive(limit, clock, periods=12, seconds_per_request=0.05)
    assert limit.history == [32]


def test_throttling_halves_the_limit_and_growth_waits() -> None:
    clock = Clock()
    limit = InFlightLimit(start=32, cap=256, clock=clock)
    drive(limit, clock, periods=2, seconds_per_request=0.05)
    assert limit.limit == 128
    limit.completed(throttled=True)
    limit.completed(throttled=True)
    assert limit.limit == 32
    drive(limit, clock, periods=COOL_DOWN_PERIODS, seconds_per_request=0.05)
    assert limit.limit == 32  # cooling down
    drive(limit, clock, periods=6, seconds_per_request=0.05)
    assert limit.limit > 32  # then it grows again


_objects = itertools.count()


@pytest.fixture
def proxy(seaweed: SeaweedS3) -> Iterator[FaultProxy]:
    proxy = FaultProxy(seaweed.endpoint)
    yield proxy
    proxy.stop()


def small_objects(tmp_path: Path, seaweed: SeaweedS3, proxy: FaultProxy, count: int, **options: object) -> tuple[object, list[str]]:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=proxy.endpoint, **options)
    keys = [f"object-{next(_objects)}-{index:04d}" for index in range(count)]
    for key in keys:
        bucket.put(key, key.encode() * 20)
    return bucket.source(), keys


def test_the_latency_fault_holds_every_request(tmp_path: Path, seaweed: SeaweedS3, proxy: FaultProxy) -> None:
    source, keys = small_objects(tmp_path, seaweed, proxy, 16)
    proxy.latency, proxy.jitter = 0.3, 0.05
    with ReadAhead(source, keys, workers=16) as ahead:  # type: ignore[arg-type]
        assert [ahead.read(key) for key in keys] == [key.encode() * 20 for key in keys]
    assert proxy.peak_in_flight == 16  # each held long enough for all 16 to be answered at once


def test_requests_in_flight_grow_under_latency(tmp_path: Path, seaweed: SeaweedS3, proxy: FaultProxy) -> None:
    source, keys = small_objects(tmp_path, seaweed, proxy, 600, max_requests_in_flight=64)
    proxy.latency, proxy.jitter = 0.25, 0.02
    with ReadAhead(source, keys, workers=8) as ahead:  # type: ignore[arg-type]
        for key in keys:
            ahead.read(key)
    assert ahead.limit.history[:2] == [8, 16] and max(ahead.limit.history) > 16
    assert ahead.peak_in_flight > 16 and proxy.peak_in_flight > 16


def test_requests_in_flight_shrink_on_503(tmp_path: Path, seaweed: SeaweedS3, proxy: FaultProxy) -> None:
    source, keys = small_objects(tmp_path, seaweed, proxy, 120, max_requests_in_flight=64, retries=6)
    proxy.faults.append(Fault("status:503", "object-", times=6, method="GET"))
    with ReadAhead(source, keys, workers=32) as ahead:  # type: ignore[arg-type]
        assert [ahead.read(key) for key in keys] == [key.encode() * 20 for key in keys]
    assert source.throttled >= 1  # type: ignore[attr-defined]
    assert min(ahead.limit.history) < 32
