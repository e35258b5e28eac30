"""Conformance over the real samples: every value here is taken from the samples README."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from hiero_replay.inventory import scan_source
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams.block_hash import EMPTY_HASH, ZERO_HASH, Algorithm
from hiero_replay.streams.blocks import BlockFile, BlockFooter, read_block
from hiero_replay.streams.compression import decompress
from hiero_replay.streams.events import metadata_hash, read_event_file, read_event_signature
from hiero_replay.streams.naming import Compression, parse_stream_file_name
from hiero_replay.streams.timestamps import parse_consensus_time

# folder -> [(file, block number, first round, last round, computed root hash prefix)], algorithm, HAPI
BLOCK_SAMPLES: dict[str, tuple[Algorithm, tuple[int, int, int], list[tuple[str, int, int | None, int | None, str]]]] = {
    "hapi-0.69-block-0.0.3-blk": (
        Algorithm.A2,
        (0, 69, 0),
        [
            ("000000000000000000000000000000000000.blk", 0, 1, 1, "06317997ec5b83f4"),
            ("000000000000000000000000000000000001.blk", 1, 2, 4, "9236d0f81d914b94"),
            ("000000000000000000000000000000000002.blk", 2, 5, 39, "463240064cc24496"),
            ("000000000000000000000000000000000003.blk", 3, 40, 74, "035672e46827e597"),
            ("000000000000000000000000000000000004.blk", 4, 75, 109, "b45df47950a2bef4"),
            ("000000000000000000000000000000000005.blk", 5, 110, 144, "ec5e4ba2a31047af"),
            ("000000000000000000000000000000000006.blk", 6, 145, 179, "f279b6ed48174658"),
            ("000000000000000000000000000000000007.blk", 7, 180, 214, "47e443b40ceb46dd"),
            ("000000000000000000000000000000000008.blk", 8, 215, 249, "06c152316d22cafc"),
        ],
    ),
    "hapi-0.73-CN_0_73_TSS_WRAPS_LEGACY": (
        Algorithm.A3,
        (0, 73, 0),
        [
            ("0.blk.gz", 0, 2, 80, "3de47629fe289fc7"),
            ("1.blk.gz", 1, 81, 93, "a08777a11f74ec6c"),
            ("2.blk.gz", 2, 94, 104, "faa4dd0e83e9db48"),
            ("3.blk.gz", 3, 105, 113, "7e06bd1f69e149e3"),
            ("4.blk.gz", 4, 114, 123, "83181d7d40842495"),
        ],
    ),
    "hapi-0.78-CN_11_12_TSS_SCHNORR": (
        Algorithm.A4,
        (0, 78, 0),
        [
            ("0.blk.gz", 0, 1, 144, "85d7117a94f09115"),
            ("1.blk.gz", 1, 145, 176, "9799848eff342061"),
            ("2.blk.gz", 2, 177, 211, "0facbf0e5d94d457"),
            ("3.blk.gz", 3, 212, 246, "9d1ac9ba0c57558a"),
            ("4.blk.gz", 4, 247, 281, "e313796875ef1006"),
            ("5.blk.gz", 5, 282, 315, "1c417b370965dd85"),
        ],
    ),
    "hapi-0.78-WRB_SOLO_4N": (
        Algorithm.A4,
        (0, 78, 0),
        [
            ("0.blk.gz", 0, None, None, "cc2c7c849e986345"),
            ("1.blk.gz", 1, None, None, "8b70cecb8deabc57"),
            ("2.blk.gz", 2, None, None, "6cfb9066c335aebe"),
            ("3.blk.gz", 3, None, None, "6204e2c36e154b15"),
            ("4.blk.gz", 4, None, None, "32806f4d9977cf41"),
        ],
    ),
}


def _load_block(path: Path) -> BlockFile:
    name = parse_stream_file_name(path.name)
    compression = name.compression if name else Compression.GZIP
    return read_block(decompress(path.read_bytes(), compression, name=path.name), name=path.name)


def _footer(block: BlockFile) -> BlockFooter:
    assert block.footer is not None, f"block {block.number} has no footer"
    return block.footer


@pytest.mark.parametrize("folder", sorted(BLOCK_SAMPLES))
def test_block_samples_match_readme(samples: Path, folder: str) -> None:
    algorithm, hapi, expected = BLOCK_SAMPLES[folder]
    blocks = [_load_block(samples / "blocks" / folder / file) for file, *_ in expected]
    for block, (file, number, first_round, last_round, root_prefix) in zip(blocks, expected, strict=False):
        assert block.number == number, file
        assert block.hapi_version == hapi
        assert (block.first_round, block.last_round) == (first_round, last_round), file
        assert block.root_hashes[algorithm].hex().startswith(root_prefix), file
        assert block.footer is not None
    # Every link the README marks verified: footer(N+1).previous == computed root(N).
    for before, after in itertools.pairwise(blocks):
        assert _footer(after).previous_block_root_hash == before.root_hashes[algorithm]
    genesis = _footer(blocks[0]).previous_block_root_hash
    assert genesis == (ZERO_HASH if algorithm is Algorithm.A2 else EMPTY_HASH)


@pytest.mark.parametrize("folder", sorted(BLOCK_SAMPLES))
def test_block_sample_folders_inspect_verified(samples: Path, folder: str) -> None:
    inventory = scan_source(LocalDirSource(samples / "blocks" / folder))
    assert inventory.problems == []
    assert inventory.hash_chain == "verified"
    assert inventory.verified_links == len(BLOCK_SAMPLES[folder][2])  # N-1 links + genesis


def test_only_the_right_generation_chains(samples: Path) -> None:
    # A3 fails on the 0.78 fixtures and A4 fails on 0.73 (reference §3.5).
    old = [_load_block(samples / "blocks/hapi-0.73-CN_0_73_TSS_WRAPS_LEGACY" / f"{i}.blk.gz") for i in (0, 1)]
    new = [_load_block(samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR" / f"{i}.blk.gz") for i in (0, 1)]
    assert _footer(old[1]).previous_block_root_hash != old[0].root_hashes[Algorithm.A4]
    assert _footer(new[1]).previous_block_root_hash != new[0].root_hashes[Algorithm.A3]


def test_root_of_all_previous_block_hashes(samples: Path) -> None:
    # Verified by the inventory from block 0 on; a wrong value is reported (see test_tamper).
    for folder in ("hapi-0.73-CN_0_73_TSS_WRAPS_LEGACY", "hapi-0.78-CN_11_12_TSS_SCHNORR"):
        blocks = [_load_block(p) for p in sorted((samples / "blocks" / folder).iterdir())]
        assert _footer(blocks[0]).root_hash_of_all_block_hashes_tree == EMPTY_HASH


@pytest.mark.parametrize(
    ("file", "number", "hapi", "timestamp"),
    [
        ("0000000000000000000.blk.zstd", 0, (0, 44, 0), "2024-02-01T18:35:20.644859297Z"),
        ("v5-block.blk.gz", 26591040, (0, 11, 0), "2022-01-01T00:00:00.252365821Z"),
        ("v6-block.blk.gz", 82297471, (0, 63, 0), "2025-07-23T20:37:42.076472454Z"),
    ],
)
def test_wrapped_record_blocks_parse(samples: Path, file: str, number: int, hapi: tuple[int, int, int], timestamp: str) -> None:
    block = _load_block(samples / "blocks/wrb-single" / file)
    assert (block.number, block.hapi_version[:2]) == (number, hapi[:2])
    assert block.timestamp_ns == parse_consensus_time(timestamp)
    assert block.record_file is not None and block.record_file.contents_size > 0
    assert block.proofs == ("signed_record_file_proof",)
    assert block.rounds == ()


def test_v6_wrapped_record_file_is_the_record_file(samples: Path) -> None:
    # v6-block wraps records/example-v6/...rcd byte for byte: contents == .rcd minus its 4-byte version.
    record = (samples / "records/example-v6/2025-07-23T20_37_42.076472454Z.rcd").read_bytes()
    block = _load_block(samples / "blocks/wrb-single/v6-block.blk.gz")
    assert block.record_file is not None
    assert block.record_file.contents_size == len(record) - 4


EVENT_SAMPLES = [
    # file, events, class version, first round, last round, first order, last order, start, end, last round complete
    ("v5-2021-consecutive/2021-04-18T04_23_37.200170000Z.evts", 435, 1, 1, 435, 0, 434, "0000000000000000", "647f6adefdfe86f1", True),
    (
        "v5-2021-consecutive/2021-04-18T04_24_00.033462000Z.evts",
        1144,
        1,
        436,
        1579,
        435,
        1578,
        "647f6adefdfe86f1",
        "f829749d20d9f32d",
        True,
    ),
    (
        "v5-2025-testnet-pbj/2025-01-10T00_00_00.016538241Z.events",
        532,
        2,
        80964504,
        80964518,
        3589687134,
        3589687665,
        "07435f35b3f5f4c3",
        "1f2c711d4a935330",
        False,
    ),
    (
        "v5-2025-testnet-pbj/2025-02-14T00_00_00.005716199Z.evts",
        622,
        2,
        89312227,
        89312242,
        3929245467,
        3929246088,
        "dcac5fc4ec36b0a5",
        "1bed92082d9255ee",
        False,
    ),
]


@pytest.mark.parametrize("sample", EVENT_SAMPLES, ids=[s[0].split("/")[1] for s in EVENT_SAMPLES])
def test_event_samples_match_readme(samples: Path, sample: tuple[str, int, int, int, int, int, int, str, str, bool]) -> None:
    file, count, version, first, last, first_order, last_order, start, end, complete = sample
    parsed = read_event_file((samples / "events" / file).read_bytes(), name=file)
    assert len(parsed.events) == count
    assert parsed.class_versions == {version}
    assert (parsed.first_round, parsed.last_round) == (first, last)
    assert (parsed.events[0].consensus_order, parsed.events[-1].consensus_order) == (first_order, last_order)
    assert parsed.start_hash.hex().startswith(start) and parsed.end_hash.hex().startswith(end)
    assert parsed.running_hash_ok
    assert parsed.last_round_complete is complete
    # The file is named after its first event's consensus time.
    stamp = Path(file).name.split("Z.")[0].replace("_", ":") + "Z"
    assert parsed.events[0].consensus_time_ns == parse_consensus_time(stamp)


def test_2021_pair_is_continuous_and_signed(samples: Path) -> None:
    folder = samples / "events/v5-2021-consecutive"
    inventory = scan_source(LocalDirSource(folder))
    assert inventory.problems == [] and inventory.hash_chain == "verified"
    assert (inventory.first_round, inventory.last_round) == (1, 1579)
    first = (folder / "2021-04-18T04_23_37.200170000Z.evts").read_bytes()
    parsed = read_event_file(first, name="first")
    signature = read_event_signature((folder / "2021-04-18T04_23_37.200170000Z.evts_sig").read_bytes(), name="sig")
    assert signature.file_hash == hashlib.sha384(first).digest()
    assert signature.metadata_hash == metadata_hash(parsed.start_hash, parsed.end_hash)


def test_signature_files_agree_across_nodes(samples: Path) -> None:
    folder = samples / "events/sigs-only-2023-4nodes"
    by_name: dict[str, set[tuple[bytes, bytes]]] = {}
    for path in sorted(folder.glob("events_*/*.evts_sig")):
        signature = read_event_signature(path.read_bytes(), name=path.name)
        by_name.setdefault(path.name, set()).add((signature.file_hash, signature.metadata_hash))
    assert len(by_name) == 3
    assert all(len(hashes) == 1 for hashes in by_name.values())
    hashes = {name: next(iter(v))[0].hex()[:16] for name, v in by_name.items()}
    assert hashes["2023-09-19T19_34_21.602803000Z.evts_sig"] == "feaedbca8feada56"
