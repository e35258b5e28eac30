from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from hiero_replay.streams.naming import (
    Compression,
    FileKind,
    StreamFileName,
    block_file_name,
    block_key_positioner,
    event_file_name,
    nested_block_key,
    parse_stream_file_name,
)
from hiero_replay.streams.timestamps import format_consensus_time, parse_consensus_time


def parsed(key: str) -> StreamFileName:
    """``parse_stream_file_name`` of a key that is a stream file's name."""
    name = parse_stream_file_name(key)
    assert name is not None, key
    return name


@pytest.mark.parametrize(
    ("key", "number", "compression"),
    [
        ("000000000000000000000000000000382065.blk.gz", 382065, Compression.GZIP),
        ("000000000000000000000000000000000007.blk", 7, Compression.NONE),
        ("0000000000108273182.blk.zstd", 108273182, Compression.ZSTD),
        ("blocks/0000/0000/0010/8273/182.blk.zstd", 108273182, Compression.ZSTD),
        ("0000/0000/0000/0000/001.blk.zstd", 1, Compression.ZSTD),
        ("0000/0000/0002/6591/040.blk.zstd", 26591040, Compression.ZSTD),
        ("3.blk.gz", 3, Compression.GZIP),
        # A three-digit name outside the nested layout is just a number.
        ("block-0.0.3/123.blk.gz", 123, Compression.GZIP),
    ],
)
def test_block_names(key: str, number: int, compression: Compression) -> None:
    name = parse_stream_file_name(key)
    assert name is not None and name.kind is FileKind.BLOCK
    assert (name.block_number, name.compression) == (number, compression)


@pytest.mark.parametrize(
    "key",
    [
        "000000000000000000000000000000000007.mf",
        "000000000000000000000000000000000007.pnd",
        "000000000000000000000000000000000007.pnd.gz",
        "000000000000000000000000000000000007.pnd.json",
        "000000000000000000000000000000000007.blk.tmp",
        "v6-block.blk.gz",
        "README.md",
        "2025-01-10T00_00_00.016538241Z.events",
        "2021-04-18T04_23_37.200170000Z.rcd",
        "2021-04-18T04_23_37.200170000Z.evts_sig.gz",
    ],
)
def test_non_stream_files_are_ignored(key: str) -> None:
    assert parse_stream_file_name(key) is None


def test_event_names_with_six_and_nine_digit_fractions() -> None:
    nine = parse_stream_file_name("events_0.0.3/2021-04-18T04_24_00.033462000Z.evts")
    six = parse_stream_file_name("events_0.0.3/2020-04-11T00_12_00.025035Z.evts.gz")
    sig = parse_stream_file_name("2021-04-18T04_24_00.033462000Z.evts_sig")
    assert nine is not None and nine.kind is FileKind.EVENTS and nine.fraction_digits == 9
    assert nine.consensus_time_ns == parse_consensus_time("2021-04-18T04:24:00.033462000Z")
    assert six is not None and six.compression is Compression.GZIP and six.fraction_digits == 6
    assert six.consensus_time_ns == parse_consensus_time("2020-04-11T00:12:00.025035Z")
    assert sig is not None and sig.kind is FileKind.EVENT_SIGNATURE


def test_ordering_is_numeric_not_lexicographic() -> None:
    keys = ["10.blk.gz", "9.blk.gz", "0000/0000/0000/0000/100.blk.zstd", "0000000000000000011.blk"]
    names = sorted((parsed(k) for k in keys), key=lambda n: n.sort_key)
    assert [n.block_number for n in names] == [9, 10, 11, 100]


def test_mixed_fraction_widths_order_by_time() -> None:
    # As strings "…00.5Z" would sort after "…00.25Z"; as times it is the other way round.
    late = parse_stream_file_name("2020-04-11T00_12_00.5Z.evts")
    early = parse_stream_file_name("2020-04-11T00_12_00.250000000Z.evts")
    assert early is not None and late is not None
    assert early.sort_key < late.sort_key


def test_name_writers_round_trip() -> None:
    assert block_file_name(5) == "000000000000000000000000000000000005.blk.gz"
    assert block_file_name(5, Compression.ZSTD, digits=19) == "0000000000000000005.blk.zstd"
    assert nested_block_key(108273182) == "0000/0000/0010/8273/182.blk.zstd"
    assert parsed(nested_block_key(108273182)).block_number == 108273182
    nanos = parse_consensus_time("2025-02-14T00:00:00.005716199Z")
    assert event_file_name(nanos) == "2025-02-14T00_00_00.005716199Z.evts"
    assert format_consensus_time(nanos) == "2025-02-14T00:00:00.005716199Z"


@pytest.mark.parametrize(
    "key_of",
    [
        lambda n: f"blocks/{block_file_name(n)}",
        lambda n: block_file_name(n, Compression.ZSTD, digits=19),
        lambda n: f"streams/{nested_block_key(n)}",
    ],
    ids=["flat-36", "flat-19", "nested-4/4/4/4/3"],
)
def test_block_positions_sort_between_lower_blocks_and_their_own(key_of: Callable[[int], str]) -> None:
    rng = random.Random(7)
    position = block_key_positioner(parsed(key_of(5)))
    assert position is not None
    for _ in range(500):
        lower, number = sorted(rng.sample(range(10**12), 2))
        key = position(number)
        assert key is not None and key_of(lower) < key < key_of(number)


def test_names_that_are_not_fixed_width_cannot_be_positioned() -> None:
    assert block_key_positioner(parsed("blocks/12.blk.gz")) is None
    nineteen = block_key_positioner(parsed(nested_block_key(12)))
    assert nineteen is not None and nineteen(10**19 - 1) is not None and nineteen(10**19) is None
