"""The ``ReplaySource`` contract, run against every provider: a local folder, a real S3-compatible
server (SeaweedFS) and a real GCS emulator (fake-gcs-server), both on 127.0.0.1.

A new provider (one module and one registry line) is done when it passes this suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hiero_replay.errors import MissingInputError, ReplayError
from hiero_replay.inventory import scan_source
from hiero_replay.sources.folders import COMPLETE_MARKER, download_folder
from hiero_replay.sources.registry import PROVIDERS

from ..buckets import Bucket, make_bucket
from ..helpers import write_blocks, write_events

#: Every provider the suite runs against, by the URL scheme it is registered under ("" = a local path).
KINDS = {"": "local", "s3": "s3", "gs": "gcs"}


def test_the_suite_covers_every_registered_provider() -> None:
    assert set(KINDS) - {""} == set(PROVIDERS)


@pytest.fixture(params=list(KINDS.values()))
def bucket(request: pytest.FixtureRequest, tmp_path: Path) -> Bucket:
    seaweed = request.getfixturevalue("seaweed") if request.param == "s3" else None
    fake_gcs = request.getfixturevalue("fake_gcs") if request.param == "gcs" else None
    return make_bucket(request.param, tmp_path, seaweed, fake_gcs)


def test_list_read_fetch(bucket: Bucket, tmp_path: Path) -> None:
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 20, rounds_per_block=5)[0].parent, "blocks/")
    bucket.put("blocks/000000000000000000000000000000000004.mf", b"")
    source = bucket.source()
    listed = {obj.key: obj.size for obj in source.list()}
    assert set(listed) == {*keys, "blocks/000000000000000000000000000000000004.mf"}
    local = {p.name: p for p in (tmp_path / "b").iterdir()}
    for key in keys:
        data = local[key.rsplit("/", 1)[1]].read_bytes()
        assert listed[key] == len(data)
        assert source.read(key) == data
        assert source.fetch(key).read_bytes() == data


def test_listing_after_a_key_holds_exactly_the_keys_after_it(bucket: Bucket, tmp_path: Path) -> None:
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 30, rounds_per_block=5)[0].parent, "blocks/")
    source = bucket.source()
    for start_after in (keys[0], keys[2], keys[-1], "blocks/0000", "a", "zzz"):  # keys, a prefix of keys, none
        after = [obj.key for obj in source.list(start_after=start_after)]
        assert sorted(after) == [key for key in sorted(keys) if key > start_after], start_after


def test_keys_are_relative_with_slashes(bucket: Bucket) -> None:
    bucket.put("a/b/c/000000000000000000000000000000000001.blk", b"x")
    assert [obj.key for obj in bucket.source().list()] == ["a/b/c/000000000000000000000000000000000001.blk"]


def test_a_missing_object_is_a_typed_error(bucket: Bucket) -> None:
    bucket.put("blocks/000000000000000000000000000000000000.blk", b"x")
    source = bucket.source()
    with pytest.raises(MissingInputError):
        source.read("blocks/000000000000000000000000000000000009.blk.gz")
    with pytest.raises(ReplayError):
        source.fetch("blocks/000000000000000000000000000000000009.blk.gz")


def test_features_are_declared_consistently(bucket: Bucket) -> None:
    bucket.put("x", b"1")
    source = bucket.source()
    features = source.features
    assert features.read_attempts >= 1
    assert features.local == (bucket.kind == "local")
    assert not features.local or features.read_attempts == 1  # a local file is what it is
    assert features.positioned_listing != features.local  # buckets list from a key; a folder is walked
    assert source.kind == {"local": "local", "s3": "s3", "gcs": "gcs"}[bucket.kind]
    assert source.retries == 0
    assert "@" not in source.url and "secret" not in source.url.lower()


def test_a_remembered_copy_is_what_fetch_returns(bucket: Bucket, tmp_path: Path) -> None:
    [path] = write_blocks(tmp_path / "b", 1, 5, rounds_per_block=5)
    bucket.put("000000000000000000000000000000000000.blk.gz", path.read_bytes())
    source = bucket.source()
    data = source.read("000000000000000000000000000000000000.blk.gz")
    source.remember("000000000000000000000000000000000000.blk.gz", data)
    assert source.fetch("000000000000000000000000000000000000.blk.gz").read_bytes() == data


def test_a_folder_is_copied_once_through_the_protocol(bucket: Bucket, tmp_path: Path) -> None:
    bucket.put("stateMetadata.txt", b"ROUND: 10\nHASH: " + b"ab" * 48 + b"\n")
    bucket.put("data/state/state.bin", b"\x01\x02")
    source = bucket.source()
    if source.features.local:
        return  # used in place: nothing to copy
    copy = download_folder(source, tmp_path / "states")
    assert (copy / "stateMetadata.txt").read_bytes().startswith(b"ROUND: 10")
    assert (copy / "data" / "state" / "state.bin").read_bytes() == b"\x01\x02"
    assert (copy / COMPLETE_MARKER).exists()
    assert download_folder(source, tmp_path / "states") == copy


def test_inventory_over_the_source(bucket: Bucket, tmp_path: Path) -> None:
    bucket.upload_folder(write_events(tmp_path / "e", 1, 60)[0].parent, "events_0.0.3/")
    inventory = scan_source(bucket.source(), workers=8)
    assert inventory.ok and inventory.hash_chain == "verified"
    assert (inventory.first_round, inventory.last_round) == (1, 60)


def test_a_missing_object_in_the_middle_is_a_gap(bucket: Bucket, tmp_path: Path) -> None:
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 40, rounds_per_block=5)[0].parent)
    bucket.delete(keys[3])
    inventory = scan_source(bucket.source(), workers=8)
    error = inventory.first_error()
    assert error is not None and error.exit_code == 4
    assert next(g.to_json() for g in inventory.gaps if g.kind == "blocks")["first"] == 3
