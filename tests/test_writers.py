"""The writers' files read back exactly, chain like real ones, and no altered byte goes unnoticed."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.inventory import scan_source
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams import messages
from hiero_replay.streams.block_hash import EMPTY_HASH, Algorithm
from hiero_replay.streams.blocks import read_block
from hiero_replay.streams.events import read_event_file
from hiero_replay.streams.naming import Compression, block_file_name
from hiero_replay.streams.writers import (
    generate_rounds,
    write_block_stream,
    write_event_file,
    write_event_stream,
)

from .helpers import START_NS, write_blocks, write_events


def test_event_stream_round_trip() -> None:
    rounds = list(generate_rounds(10, 60, start_time_ns=START_NS, events_per_round=3))
    files = list(write_event_stream(rounds))
    assert len(files) == 3  # 60 rounds x 0.25 s = 15 s of 5 s windows
    parsed = [read_event_file(f.data, name=f.name) for f in files]
    events = [e for p in parsed for e in p.events]
    expected = [e for r in rounds for e in r.events]
    assert [(e.round_received, e.last_in_round, e.consensus_time_ns, e.consensus_order) for e in events] == [
        (e.round_received, e.last_in_round, e.consensus_time_ns, e.consensus_order) for e in expected
    ]
    assert all(p.running_hash_ok and p.class_versions == {2} for p in parsed)
    assert parsed[0].start_hash == bytes(48)
    for before, after in itertools.pairwise(parsed):
        assert after.start_hash == before.end_hash


def test_event_files_split_rounds_like_the_network(tmp_path: Path) -> None:
    # A 1.5 s round straddles the 5 s window: the round continues in the next file.
    paths = write_events(tmp_path, 1, 12, round_interval_ns=1_500_000_000, events_per_round=4)
    parsed = [read_event_file(p.read_bytes(), name=p.name) for p in paths]
    assert any(not p.last_round_complete for p in parsed[:-1])
    inventory = scan_source(LocalDirSource(tmp_path))
    assert inventory.ok and (inventory.first_round, inventory.last_round) == (1, 12)


def test_block_stream_round_trip() -> None:
    rounds = list(generate_rounds(1, 23, start_time_ns=START_NS))
    blocks = list(write_block_stream(rounds, rounds_per_block=5))
    assert [b.number for b in blocks] == [0, 1, 2, 3, 4]
    parsed = [read_block(b.data, name=str(b.number)) for b in blocks]
    assert [(p.first_round, p.last_round) for p in parsed] == [(1, 5), (6, 10), (11, 15), (16, 20), (21, 23)]
    assert all(p.hapi_version == (0, 78, 0) for p in parsed)
    assert parsed[0].footer is not None and parsed[0].footer.previous_block_root_hash == EMPTY_HASH
    for written, read, following in zip(blocks, parsed, parsed[1:], strict=False):
        assert following.footer is not None
        assert read.root_hashes[Algorithm.A4] == written.root_hash == following.footer.previous_block_root_hash
    assert parsed[0].timestamp_ns == START_NS


@pytest.mark.parametrize("compression", list(Compression))
def test_written_blocks_inspect_verified_in_every_compression(tmp_path: Path, compression: Compression) -> None:
    write_blocks(tmp_path, 1, 30, rounds_per_block=4, compression=compression)
    inventory = scan_source(LocalDirSource(tmp_path))
    assert inventory.ok and inventory.hash_chain == "verified"
    assert inventory.to_json()["last_block"] == 7


def test_every_flipped_byte_of_an_event_file_is_caught() -> None:
    rounds = list(generate_rounds(1, 2, start_time_ns=START_NS, events_per_round=2, transactions_per_event=1, transaction_size=16))
    written = write_event_file([e for r in rounds for e in r.events], bytes(48))
    missed = []
    for position in range(len(written.data)):
        data = bytearray(written.data)
        data[position] ^= 0x01
        try:
            parsed = read_event_file(bytes(data), name="x")
        except Exception:  # a typed CorruptFileError; anything else would fail below
            continue
        if parsed.running_hash_ok and parsed.start_hash == written.start_hash:
            missed.append(position)
    assert missed == []


def test_every_flipped_byte_of_a_chained_block_is_caught(tmp_path: Path) -> None:
    """Any byte of a block that has a successor breaks the inventory, except the proof's signature:
    proofs are not part of the root hash, and TSS signatures cannot be checked in Python."""
    rounds = list(generate_rounds(1, 2, start_time_ns=START_NS, events_per_round=1, transactions_per_event=1, transaction_size=8))
    first, second = write_block_stream(rounds, rounds_per_block=1)
    (tmp_path / block_file_name(1, Compression.NONE)).write_bytes(second.data)
    target = tmp_path / block_file_name(0, Compression.NONE)
    proof = messages.BlockItem.FromString(messages.Block.FromString(first.data).items[-1]).block_proof
    signature = proof.signed_block_proof.block_signature
    unsigned = range(first.data.rindex(signature), first.data.rindex(signature) + len(signature))
    missed = []
    for position in (p for p in range(len(first.data)) if p not in unsigned):
        data = bytearray(first.data)
        data[position] ^= 0x01
        target.write_bytes(bytes(data))
        if scan_source(LocalDirSource(tmp_path), workers=1).ok:
            missed.append(position)
    assert missed == []


def test_every_flipped_byte_of_a_last_compressed_block_is_caught(tmp_path: Path) -> None:
    rounds = list(generate_rounds(1, 1, start_time_ns=START_NS, events_per_round=1, transactions_per_event=1, transaction_size=8))
    [block] = write_block_stream(rounds, rounds_per_block=1)
    data = gzip.compress(block.data, mtime=0)
    target = tmp_path / block_file_name(0)
    missed = []
    # Flipping bit 0 of bytes 3..9 of the gzip header (FTEXT hint, mtime, extra flags, OS) changes no content.
    for position in [0, 1, 2, *range(10, len(data))]:
        changed = bytearray(data)
        changed[position] ^= 0x01
        target.write_bytes(bytes(changed))
        if scan_source(LocalDirSource(tmp_path), workers=1).ok:
            missed.append(position)
    assert missed == []


def test_accelerated_and_python_versions_agree() -> None:
    import os

    from hiero_replay.streams import block_hash

    values = [os.urandom(size) for size in (0, 1, 47, 48, 97, 128, 500, 4096)]
    for prefix in (b"", b"\x00", b"\x02"):
        assert block_hash._hash_each(prefix, values) == block_hash._python_hash_each(prefix, values)
    hashes = [os.urandom(48) for _ in range(37)]
    for count in (1, 2, 3, 7, 8, 16, 37):  # one perfect tree, and several folded right to left
        for prefix in (b"", b"\x02"):
            assert block_hash._fold(prefix, hashes[:count]) == block_hash._python_fold(prefix, hashes[:count])
        streaming = block_hash.StreamingTree()  # the same fold fed one hash at a time
        for value in hashes[:count]:
            streaming.add_hash(value)
        assert block_hash.fold_hashes(hashes[:count]) == streaming.root()
    # A footer's hash as read may be any length (damaged): folded all the same, never refused.
    odd = [b"short", *hashes[:4]]
    assert block_hash._fold_any(block_hash._NODE, odd) == block_hash._python_fold(block_hash._NODE, odd)
    items = [bytes([first]) + os.urandom(first % 7) for first in range(256)] * 2
    table = bytes(i % 5 for i in range(256))
    assert block_hash.group_by_first_byte(items, table) == block_hash._python_group(items, table)


def test_the_c_fold_is_the_one_used_and_refuses_what_is_not_a_list_of_hashes() -> None:
    """Where the accelerator is built (a compiler and OpenSSL headers), block hashing uses it."""
    accel = pytest.importorskip("hiero_replay.streams._accel")
    from hiero_replay.streams import block_hash

    assert block_hash._fold is accel.fold and block_hash._hash_each is accel.each
    # deliberately ill-typed (the last holds a str): Any lets it reach the C code as it is
    refusals: tuple[list[Any], ...] = ([], [b"short"], [bytes(48), "text"])
    for refused in refusals:
        with pytest.raises(ValueError):
            accel.fold(b"", refused)
