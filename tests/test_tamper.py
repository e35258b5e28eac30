"""Tampered copies of real and synthetic streams: each fault is the right typed error, naming the file."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import TypeVar

import pytest

from hiero_replay.errors import ContinuityError, CorruptFileError, HashMismatchError, ReplayError
from hiero_replay.inventory import scan_source
from hiero_replay.model.inventory import Inventory
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams import messages

from .helpers import write_blocks, write_events

E = TypeVar("E", bound=ReplayError)


def _scan(folder: Path, **options: int) -> Inventory:
    return scan_source(LocalDirSource(folder), **options)


def _errors(inventory: Inventory, kind: type[E]) -> list[E]:
    return [p.error for p in inventory.problems if isinstance(p.error, kind)]


def _first_error(inventory: Inventory) -> ReplayError:
    error = inventory.first_error()
    assert error is not None, "no problem found"
    return error


@pytest.fixture
def schnorr(samples: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "blocks"
    shutil.copytree(samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR", folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


def _flip_inside_item(path: Path, field: str) -> None:
    """Flip one byte in the payload of the first item of ``field``, keeping the file well-formed."""
    block = messages.Block.FromString(gzip.decompress(path.read_bytes()))
    items = list(block.items)
    for index, raw in enumerate(items):
        if messages.BlockItem.FromString(raw).WhichOneof("item") == field:
            item = bytearray(raw)
            item[-1] ^= 0x01
            items[index] = bytes(item)
            break
    else:
        raise AssertionError(f"no {field} item")
    path.write_bytes(gzip.compress(messages.Block(items=items).SerializeToString()))


def test_flipped_byte_inside_an_item_breaks_the_next_link(schnorr: Path) -> None:
    _flip_inside_item(schnorr / "2.blk.gz", "state_changes")
    inventory = _scan(schnorr)
    assert inventory.hash_chain == "broken"
    [error] = _errors(inventory, HashMismatchError)
    assert error.file == "3.blk.gz"
    assert "block 3" in error.message and "block 2 (2.blk.gz" in error.message
    assert error.actual is not None and error.expected is not None
    assert error.actual.startswith("0facbf0e5d94d457")  # what block 3 says block 2's root is
    assert error.expected != error.actual and len(error.expected) == 96
    assert _first_error(inventory).exit_code == 5


def test_file_removed_from_the_middle_is_a_gap(schnorr: Path) -> None:
    (schnorr / "3.blk.gz").unlink()
    inventory = _scan(schnorr)
    errors = _errors(inventory, ContinuityError)
    assert "blocks 3..3" in errors[0].message and errors[0].file == "4.blk.gz"
    assert {"kind": "blocks", "first": 3, "last": 3, "after": "2.blk.gz", "before": "4.blk.gz"} in [g.to_json() for g in inventory.gaps]
    assert any(g.kind == "rounds" and (g.first, g.last) == (212, 246) for g in inventory.gaps)
    assert _first_error(inventory).exit_code == 4


def test_two_files_swapped_by_name(schnorr: Path) -> None:
    two, four = schnorr / "2.blk.gz", schnorr / "4.blk.gz"
    data_two, data_four = two.read_bytes(), four.read_bytes()
    two.write_bytes(data_four)
    four.write_bytes(data_two)
    inventory = _scan(schnorr)
    mismatches = [e for e in _errors(inventory, ContinuityError) if "its name says" in e.message]
    assert {e.file for e in mismatches} == {"2.blk.gz", "4.blk.gz"}
    assert "2.blk.gz holds block 4 but its name says block 2" in mismatches[0].message
    assert _first_error(inventory).exit_code == 4


def test_truncated_gzip_is_a_corrupt_file(schnorr: Path) -> None:
    path = schnorr / "1.blk.gz"
    path.write_bytes(path.read_bytes()[:-100])
    inventory = _scan(schnorr)
    [error] = _errors(inventory, CorruptFileError)
    assert error.file == "1.blk.gz" and "cannot decompress" in error.message
    assert inventory.hash_chain == "broken"
    # The unreadable block is not mistaken for a missing one.
    assert not [g for g in inventory.gaps if g.kind == "blocks"]
    assert _first_error(inventory).exit_code == 7


def test_wrong_root_of_all_previous_hashes(tmp_path: Path) -> None:
    paths = write_blocks(tmp_path / "b", 1, 20, rounds_per_block=5)
    block = messages.Block.FromString(gzip.decompress(paths[2].read_bytes()))
    items = list(block.items)
    footer = messages.BlockItem.FromString(items[-2])
    footer.block_footer.root_hash_of_all_block_hashes_tree = bytes(48)
    items[-2] = footer.SerializeToString()
    paths[2].write_bytes(gzip.compress(messages.Block(items=items).SerializeToString()))
    errors = _errors(_scan(tmp_path / "b"), HashMismatchError)
    assert any("root of all previous block hashes" in e.message and e.file == paths[2].name for e in errors)


def test_flipped_byte_in_an_event_breaks_its_running_hash(samples: Path, tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    for path in (samples / "events/v5-2021-consecutive").glob("*.evts"):
        data = bytearray(path.read_bytes())
        if path.name.startswith("2021-04-18T04_24"):
            data[5000] ^= 0x40  # inside an event's transactions
        (folder / path.name).write_bytes(bytes(data))
    inventory = _scan(folder)
    [error] = _errors(inventory, HashMismatchError)
    assert error.file == "2021-04-18T04_24_00.033462000Z.evts"
    assert error.expected is not None and error.expected.startswith("f829749d20d9f32d")
    assert inventory.hash_chain == "broken"


def test_event_file_removed_from_the_middle(tmp_path: Path) -> None:
    paths = write_events(tmp_path / "ev", 1, 100)
    assert len(paths) >= 4
    paths[2].unlink()
    inventory = _scan(tmp_path / "ev")
    [error] = [e for e in _errors(inventory, ContinuityError) if "Missing event stream file" in e.message]
    assert error.file == paths[3].name and paths[1].name in error.message
    assert {"kind": "event-files", "after": paths[1].name, "before": paths[3].name} in [g.to_json() for g in inventory.gaps]
    assert any(g.kind == "rounds" for g in inventory.gaps)
    assert _first_error(inventory).exit_code == 4


def test_event_files_swapped_by_name(tmp_path: Path) -> None:
    paths = write_events(tmp_path / "ev", 1, 100)
    first, second = paths[1].read_bytes(), paths[2].read_bytes()
    paths[1].write_bytes(second)
    paths[2].write_bytes(first)
    inventory = _scan(tmp_path / "ev")
    named = {e.file for e in _errors(inventory, ContinuityError) if "its name says" in e.message}
    assert named == {paths[1].name, paths[2].name}


def test_truncated_event_file(tmp_path: Path) -> None:
    paths = write_events(tmp_path / "ev", 1, 40)
    paths[-1].write_bytes(paths[-1].read_bytes()[:-30])
    [error] = _errors(_scan(tmp_path / "ev"), CorruptFileError)
    assert error.file == paths[-1].name and "end running hash" in error.message


def test_event_files_from_several_nodes_are_refused(tmp_path: Path) -> None:
    write_events(tmp_path / "all/events_0.0.3", 1, 10)
    write_events(tmp_path / "all/events_0.0.4", 1, 10, start_time_ns=2_000_000_000 * 10**9)
    inventory = _scan(tmp_path / "all")
    assert _first_error(inventory).exit_code == 2
    assert "events_0.0.3" in str(inventory.first_error())


def test_round_range_outside_the_data_is_a_gap(tmp_path: Path) -> None:
    write_blocks(tmp_path / "b", 1, 20)
    inventory = _scan(tmp_path / "b", from_round=15, to_round=30)
    assert [g.to_json() for g in inventory.gaps if g.kind == "rounds"] == [{"kind": "rounds", "first": 21, "last": 30}]
    assert _first_error(inventory).exit_code == 4
    assert _scan(tmp_path / "b", from_round=6, to_round=14).ok
