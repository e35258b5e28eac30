"""A round range in a local folder of blocks is found by name: probes and block reads are counted,
never the clock. A folder of a million block names is a test double of the directory lookup;
the real folder source is checked on small folders, against a full listing."""

from __future__ import annotations

import builtins
import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiero_replay.inventory import load_stream_files, scan_source
from hiero_replay.inventory.probing import probe_block_range
from hiero_replay.sources.base import SourceFeatures, SourceObject
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams.naming import Compression, block_file_name, nested_block_key, parse_stream_file_name
from hiero_replay.streams.writers import BlockStreamWriter, generate_rounds, write_block_stream

START = 1_767_225_600 * 10**9
TINY = {"events_per_round": 1, "transactions_per_event": 1, "transaction_size": 16}


class NamedFolder:
    """A folder of ``count`` blocks ``%036d.blk.gz`` from ``first`` on, block n holding rounds
    ``per_block * (n - first) + 1`` on: only looked up by name, and never listed."""

    kind = "local"
    url = "test:named-folder"
    features = SourceFeatures(cpu_bound_reads=True, positioned_listing=False, read_attempts=1, local=True, probe_by_name=True)
    retries = 0

    def __init__(self, count: int, *, first: int = 0, per_block: int = 1, missing: frozenset[int] = frozenset()) -> None:
        self.count, self.first, self.per_block, self.missing = count, first, per_block, missing
        self.probes: list[str] = []
        self.reads: list[str] = []

    def _number(self, key: str) -> int | None:
        name = parse_stream_file_name(key)
        if name is None or name.block_number is None or key != block_file_name(name.block_number):
            return None
        number = name.block_number
        return number if self.first <= number < self.first + self.count and number not in self.missing else None

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        raise AssertionError("the folder was listed")

    def sample(self, folder: str = "", limit: int = 64) -> builtins.list[tuple[str, bool]]:  # ``list`` is the method above
        middle = self.first + self.count // 3
        return [(block_file_name(n), False) for n in range(middle, min(middle + limit, self.first + self.count))]

    def probe(self, key: str) -> SourceObject | None:
        self.probes.append(key)
        return None if self._number(key) is None else SourceObject(key, 100)

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        self.reads.append(key)
        number = self._number(key)
        assert number is not None
        first_round = self.per_block * (number - self.first) + 1
        rounds = list(generate_rounds(first_round, self.per_block, start_time_ns=START, **TINY))
        return gzip.compress(BlockStreamWriter(first_number=number).write(rounds).data)

    def remember(self, key: str, data: bytes) -> None:
        pass

    def fetch(self, key: str) -> Path:
        raise AssertionError("not fetched")


def test_a_100_round_range_of_a_million_blocks_takes_a_few_probes() -> None:
    folder = NamedFolder(1_000_000, first=80_000_000)
    found = probe_block_range(folder, 999_801, 999_900)  # rounds of blocks 80,999,800..80,999,899
    assert found is not None
    # From the block before the range to the block after it, whose footer proves the state after round 999,900.
    assert [name.block_number for name, _ in found] == list(range(80_999_799, 80_999_901))
    own = {block_file_name(n) for n in range(80_999_799, 80_999_901)}
    search_probes = [key for key in folder.probes if key not in own]
    search_reads = len(folder.reads)
    assert len(search_probes) + search_reads <= 40, (search_probes, folder.reads)
    assert len(folder.probes) - len(search_probes) == len(own)  # each of its own blocks looked up once


@pytest.mark.parametrize("per_block", [1, 3])
@pytest.mark.parametrize("first", [0, 5, 999_900])
def test_ranges_anywhere_in_a_large_folder_stay_logarithmic(per_block: int, first: int) -> None:
    folder = NamedFolder(1_000_000, first=first, per_block=per_block)
    total_rounds = 1_000_000 * per_block
    for first_round in (2, 10_000, total_rounds // 2, total_rounds - 300):
        folder.probes.clear()
        folder.reads.clear()
        found = probe_block_range(folder, first_round, first_round + 99)
        holding = first + (first_round - 1) // per_block
        if holding == first > 0:  # the folder's first block: a listing must tell whether it is
            assert found is None
            continue
        assert found is not None, first_round
        numbers = [name.block_number for name, _ in found]
        last_holding = first + (first_round + 98) // per_block
        assert numbers[0] == max(0, holding - 1) and numbers[-1] in (last_holding, last_holding + 1)
        assert numbers[-1] == last_holding + 1 or last_holding == first + 999_999  # the block after, where there is one
        assert len(folder.probes) - len(numbers) + len(folder.reads) <= 40


def test_what_cannot_be_proven_without_a_listing_is_left_to_the_listing() -> None:
    assert probe_block_range(NamedFolder(1000, first=500), 1, 10) is None  # starts with the folder: it may start earlier
    assert probe_block_range(NamedFolder(1000), 990, 1010) is None  # runs past the last block
    assert probe_block_range(NamedFolder(1000), 2000, 2010) is None  # after the last block
    assert probe_block_range(NamedFolder(1000, missing=frozenset({450})), 400, 500) is None  # a gap inside
    assert probe_block_range(NamedFolder(1000, missing=frozenset({800})), 400, 500) is not None  # a gap elsewhere


def write_folder(folder: Path, blocks: int, *, nested: bool = False, rounds_per_block: int = 2) -> None:
    rounds = generate_rounds(1, blocks * rounds_per_block, start_time_ns=START, **TINY)
    for block in write_block_stream(rounds, rounds_per_block=rounds_per_block):
        key = nested_block_key(block.number, Compression.GZIP) if nested else block_file_name(block.number)
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(block.data))


@pytest.mark.parametrize("nested", [False, True])
def test_a_local_folder_range_by_name_equals_the_listing(tmp_path: Path, nested: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    write_folder(tmp_path, 300, nested=nested)
    source = LocalDirSource(tmp_path)
    monkeypatch.setattr(source, "list", lambda start_after=None: pytest.fail("listed"))
    probed = scan_source(source, from_round=201, to_round=260)
    listed = scan_source(LocalDirSource(tmp_path), from_round=201, to_round=260)
    assert probed.ok and probed.hash_chain == "verified"
    assert [f.key for f in probed.block_files] == [f.key for f in listed.block_files]
    assert source.probes <= 40 + len(probed.block_files)


def test_a_link_out_of_the_folder_at_a_probed_name_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "blocks"
    folder.mkdir()
    write_folder(folder, 100, rounds_per_block=1)
    outside = tmp_path / "outside.blk.gz"
    (folder / block_file_name(50)).rename(outside)
    (folder / block_file_name(50)).symlink_to(outside)
    source = LocalDirSource(folder)
    files = load_stream_files(source, rounds=(40, 60))  # the range needs block 50: the listing decides
    assert block_file_name(50) not in [f.key for f in files.blocks]
    assert any(entry.key == block_file_name(50) and "outside the folder" in entry.reason for entry in files.ignored)
    assert source.probe(block_file_name(50)) == SourceObject(
        block_file_name(50), 0, skipped=f"a symbolic link to {outside}, outside the folder (not followed)"
    )
    os.mkfifo(folder / "fifo.blk.gz")
    assert source.probe("fifo.blk.gz") == SourceObject("fifo.blk.gz", 0, skipped="a FIFO")
    assert source.probe("../outside.blk.gz") is None
