"""Replays through the CLI with bucket sources: events and states in S3, blocks in GCS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata

from .object_servers import FakeGcs, SeaweedS3

CLI = [sys.executable, "-m", "hiero_replay"]


def upload(server: SeaweedS3 | FakeGcs, bucket: str, folder: Path, prefix: str) -> None:
    server.create_bucket(bucket)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        server.put(bucket, prefix + path.relative_to(folder).as_posix(), path.read_bytes())


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, seaweed: SeaweedS3, fake_gcs: FakeGcs) -> History:
    history = write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=120)
    upload(seaweed, "hedera-events", history.events_dir, "eventsStreams/events_0.0.3/")
    upload(seaweed, "hedera-states", history.bootstrap_state.parent.parent, "")
    upload(fake_gcs, "hedera-blocks", history.blocks_dir, "block-preview/testnet/0/0/")
    return history


def bucket_env(seaweed: SeaweedS3, fake_gcs: FakeGcs) -> dict[str, str]:
    return {**os.environ, "AWS_ENDPOINT_URL": seaweed.endpoint, "STORAGE_EMULATOR_HOST": fake_gcs.endpoint}


def run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "buckets.toml"
    config.write_text('[buckets]\nallow_http = true\npath_style = true\nbilling_project = "replay-tests"\n')
    return subprocess.run([*CLI, *args, "--config", str(config)], capture_output=True, text=True, env=env, timeout=300)


def test_event_stream_replay_from_s3(remote: History, tmp_path: Path, seaweed: SeaweedS3, fake_gcs: FakeGcs) -> None:
    out = tmp_path / "out"
    result = run(
        tmp_path, bucket_env(seaweed, fake_gcs), "run", "--simulate", "--mode", "event-stream",
        "--events", "s3://hedera-events/eventsStreams/events_0.0.3", "--bootstrap-state", "s3://hedera-states/bootstrap/10",
        "--node-id", "3", "--target-round", "60", "--work-dir", str(tmp_path / "work"), "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 60
    [states] = (tmp_path / "work" / "cache" / "states").iterdir()
    assert (next(states.iterdir()) / ".download-complete").exists()


def test_auto_replay_across_the_cutover_from_s3_and_gcs(remote: History, tmp_path: Path, seaweed: SeaweedS3, fake_gcs: FakeGcs) -> None:
    out = tmp_path / "out"
    env = bucket_env(seaweed, fake_gcs)
    args = [
        "--simulate", "--events", "s3://hedera-events/eventsStreams/events_0.0.3",
        "--blocks", "gs://hedera-blocks/block-preview/testnet/0/0", "--bootstrap-state", "s3://hedera-states/bootstrap/10",
        "--expected-state", "s3://hedera-states/reference/120", "--node-id", "3", "--segment-rounds", "30",
        "--work-dir", str(tmp_path / "work"), "--out", str(out),
    ]  # fmt: skip
    inspected = run(tmp_path, env, "inspect", "--json", "gs://hedera-blocks/block-preview/testnet/0/0")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["hash_chain"] == "verified"
    planned = run(tmp_path, env, "plan", "--json", *args)
    assert planned.returncode == 0, planned.stderr
    assert [s["backend"] for s in json.loads(planned.stdout)["segments"]] == [
        "event-stream",
        "event-stream",
        "block-stream",
        "block-stream",
    ]
    result = run(tmp_path, env, "run", *args)
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == read_state_metadata(remote.expected_state).hash
    status = json.loads((tmp_path / "work" / "status.json").read_text())
    assert status["source_type"] == "gcs" and status["state"] == "succeeded"


def test_a_half_downloaded_state_is_never_used(remote: History, tmp_path: Path, seaweed: SeaweedS3, fake_gcs: FakeGcs) -> None:
    from hiero_replay.config import BucketsConfig
    from hiero_replay.sources.folders import COMPLETE_MARKER, download_folder
    from hiero_replay.sources.registry import open_source

    os.environ["AWS_ENDPOINT_URL"] = seaweed.endpoint
    try:
        source = open_source("s3://hedera-states/bootstrap/10", BucketsConfig(allow_http=True, path_style=True), work_dir=tmp_path)
        first = download_folder(source, tmp_path / "states")  # type: ignore[arg-type]
        assert (first / COMPLETE_MARKER).exists() and read_state_metadata(first).round == 10
        (first / COMPLETE_MARKER).unlink()
        (first / "stateMetadata.txt").write_text("ROUND: 999\nHASH: ab\n")  # a cut-off, inconsistent copy
        again = download_folder(source, tmp_path / "states")  # type: ignore[arg-type]
        assert again == first and read_state_metadata(again).round == 10
        mtime = (again / COMPLETE_MARKER).stat().st_mtime
        assert download_folder(source, tmp_path / "states") == again  # type: ignore[arg-type]
        assert (again / COMPLETE_MARKER).stat().st_mtime == mtime  # reused, not downloaded again
    finally:
        del os.environ["AWS_ENDPOINT_URL"]


def test_nested_zstd_bucket_layout_replays_through_apply_blocks(tmp_path: Path, seaweed: SeaweedS3, fake_gcs: FakeGcs) -> None:
    """Block-node buckets hold AAAA/BBBB/CCCC/DDDD/EEE.blk.zstd; apply-blocks reads only flat raw or
    gzip names, so staging rewrites them."""
    import gzip

    from hiero_replay.streams.compression import compress
    from hiero_replay.streams.naming import Compression, nested_block_key, parse_stream_file_name

    history = write_history(tmp_path / "history", bootstrap_round=60, cutover_round=61, target_round=120, last_block_round=120)
    seaweed.create_bucket("block-node")
    for path in history.blocks_dir.iterdir():
        number = parse_stream_file_name(path.name).block_number  # type: ignore[union-attr]
        seaweed.put("block-node", "blocks/" + nested_block_key(number), compress(gzip.decompress(path.read_bytes()), Compression.ZSTD))
    out = tmp_path / "out"
    result = run(
        tmp_path, bucket_env(seaweed, fake_gcs), "run", "--simulate", "--mode", "block-stream", "--blocks", "s3://block-node/blocks",
        "--bootstrap-state", str(history.bootstrap_state), "--expected-state", str(history.expected_state), "--node-id", "3",
        "--work-dir", str(tmp_path / "work"), "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash
    staged = sorted(p.name for p in (tmp_path / "work").glob("runs/*/segments/*/input/*"))
    assert staged and all(name.endswith(".blk") and len(name) == 40 for name in staged)
