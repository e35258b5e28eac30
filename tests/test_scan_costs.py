"""What listing and scanning cost, counted: names parsed once, and the memory a full scan keeps
per file (a million-block inspect holds a million of these records)."""

from __future__ import annotations

import gc
import gzip
import os
import tracemalloc
from pathlib import Path

import pytest

from hiero_replay.inventory import listing, load_stream_files
from hiero_replay.sources import local
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams.naming import block_file_name, parse_stream_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream, write_event_stream

START = 1_767_225_600 * 10**9
TINY = {"events_per_round": 1, "transactions_per_event": 1, "transaction_size": 16}
#: Bytes a full scan keeps per block file (name, size, the compact block record, its place in lists).
BYTES_PER_BLOCK = 900
#: Where a scan's records are allocated: our modules, and the unpickling of what workers send back
#: (threads other tests left running allocate elsewhere, and are not counted).
SITES = [tracemalloc.Filter(True, "*/hiero_replay/*"), tracemalloc.Filter(True, "*/multiprocessing/*")]


def write_blocks(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for block in write_block_stream(generate_rounds(1, count, start_time_ns=START, **TINY), rounds_per_block=1):
        (folder / block_file_name(block.number)).write_bytes(gzip.compress(block.data))
    return folder


def kept_by_scan(folder: Path) -> tuple[int, int]:
    """Bytes still allocated after a full scan of ``folder`` (its result alive), and its files."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(SITES)
        files = load_stream_files(LocalDirSource(folder), workers=2)
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(SITES)
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    assert not files.block_problems and all(f.block is not None for f in files.blocks)
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")), len(files.blocks)


def test_a_full_scan_keeps_a_bounded_number_of_bytes_per_file(tmp_path: Path) -> None:
    small, count_small = kept_by_scan(write_blocks(tmp_path / "small", 300))
    large, count_large = kept_by_scan(write_blocks(tmp_path / "large", 900))
    per_file = (large - small) / (count_large - count_small)  # the fixed part cancels out
    assert per_file <= BYTES_PER_BLOCK, per_file


def test_names_are_parsed_once_while_an_event_listing_looks_for_its_last_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = generate_rounds(1, 6000, start_time_ns=START, **TINY)  # 300 files of 20 rounds
    for written in write_event_stream(rounds):
        (tmp_path / written.name).write_bytes(written.data)
    parsed: list[str] = []
    real = parse_stream_file_name  # the function ``listing`` calls under that name

    def counting(key: str) -> object:
        parsed.append(key)
        return real(key)

    monkeypatch.setattr(listing, "parse_stream_file_name", counting)
    files = load_stream_files(LocalDirSource(tmp_path), rounds=(1, 250))
    assert files.events and len(parsed) == len(set(parsed))  # each name once
    assert len(parsed) < 300  # and the listing stopped past round 250, not at the end of the folder


def test_a_listing_from_a_key_examines_nothing_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"2026-01-01T00_{minute:02d}_00.000000000Z.evts" for minute in range(60)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inside.evts").write_bytes(b"x")
    examined: list[str] = []
    real_lstat = os.lstat  # ``local.os`` is this module

    def counting(path: str) -> object:
        examined.append(path)
        return real_lstat(path)

    monkeypatch.setattr(os, "lstat", counting)
    start = names[40].removesuffix(".evts")
    listed = [obj.key for obj in local.LocalDirSource(tmp_path).list(start)]
    assert listed == [*names[40:], "sub/inside.evts"]
    inside = [path for path in examined if path.startswith(f"{tmp_path}/")]
    assert len(inside) == len(listed) + 1  # each name listed, and the folder it is in: none of the 40 before
