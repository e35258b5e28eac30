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
    config.write_text('[buckets]\nallow_http = true\nbilling_project = "replay-tests"\n')
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
        source = open_source("s3://hedera-states/bootstrap/10", BucketsConfig(allow_http=True), work_dir=tmp_path)
        first = download_folder(source, tmp_path / "states")
        assert (first / COMPLETE_MARKER).exists() and read_state_metadata(first).round == 10
        (first / COMPLETE_MARKER).unlink()
        (first / "stateMetadata.txt").write_text("ROUND: 999\nHASH: ab\n")  # a cut-off, inconsistent copy
        again = download_folder(source, tmp_path / "states")
        assert again == first and read_state_metadata(again).round == 10
        mtime = (again / COMPLETE_MARKER).stat().st_mtime
        assert download_folder(source, tmp_path / "states") == again
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
        name = parse_stream_file_name(path.name)
        assert name is not None and name.block_number is not None, path
        number = name.block_number
        seaweed.put("block-node", "blocks/" + nested_block_key(number), compress(gzip.decompress(path.read_bytes()), Compression.ZSTD))
    out = tmp_path / "out"
    result = run(
        tmp_path, bucket_env(seaweed, fake_gcs), "run", "--simulate", "--mode", "block-stream", "--blocks", "s3://block-node/blocks",
        "--bootstrap-state", str(history.bootstrap_state), "--expected-state", str(history.expected_state), "--node-id", "3",
        "--work-dir", str(tmp_path / "work"), "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash
    # apply-blocks reads only flat `<number>.blk[.gz]` names (nested `.blk.zstd` files fail to parse): the
    # state it reached proves the rewrite. The staged copies are gone once the run succeeded.
    assert not list((tmp_path / "work").glob("runs/*/segments/*/input"))


def env_only(**variables: str) -> dict[str, str]:
    """This process's environment without any bucket setting, plus ``variables``: what a user who
    configured nothing but the usual variables has."""
    cleared = ("AWS_", "HIERO_REPLAY_BUCKETS", "STORAGE_EMULATOR_HOST", "GOOGLE_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(cleared)}, **variables}


@pytest.fixture(scope="module")
def authenticated(tmp_path_factory: pytest.TempPathFactory, seaweed_with_credentials: SeaweedS3) -> History:
    """Blocks and a bootstrap state in a SeaweedFS bucket that only signed requests may read."""
    history = write_history(tmp_path_factory.mktemp("auth"), bootstrap_round=60, cutover_round=61, target_round=120, last_block_round=120)
    upload(seaweed_with_credentials, "replay-auth", history.blocks_dir, "mainnet/blocks/")
    upload(seaweed_with_credentials, "replay-auth", history.bootstrap_state, "mainnet/states/60/")
    return history


def test_an_s3_compatible_server_set_up_by_environment_variables_only(
    authenticated: History, tmp_path: Path, seaweed_with_credentials: SeaweedS3
) -> None:
    """AWS_ENDPOINT_URL, AWS_ALLOW_HTTP and the credentials, nothing else: a custom endpoint is
    addressed path-style, as SeaweedFS (and MinIO, Ceph, ...) serve it; the secret is never shown."""
    from .conftest import S3_CREDENTIALS

    key_id, secret = S3_CREDENTIALS
    env = env_only(
        AWS_ENDPOINT_URL=seaweed_with_credentials.endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret
    )
    work, out = tmp_path / "work", tmp_path / "out"
    blocks = "s3://replay-auth/mainnet/blocks"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
        assert secret not in result.stdout + result.stderr
        return result

    inspected = cli("inspect", "--json", blocks)
    assert inspected.returncode == 0, inspected.stderr
    report = json.loads(inspected.stdout)  # stdout is the JSON alone: log lines go to stderr
    assert report["hash_chain"] == "verified" and report["last_round"] >= 120
    replayed = cli(
        "run", "--simulate", "--mode", "block-stream", "--blocks", blocks, "--bootstrap-state", "s3://replay-auth/mainnet/states/60",
        "--expected-state", str(authenticated.expected_state), "--node-id", "3", "--work-dir", str(work), "--out", str(out),
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert read_state_metadata(out).hash == read_state_metadata(authenticated.expected_state).hash
    for path in [*work.rglob("*"), *out.rglob("*")]:  # logs, run store, status, cache, states
        assert not path.is_file() or secret.encode() not in path.read_bytes(), path

    wrong = env_only(
        AWS_ENDPOINT_URL=seaweed_with_credentials.endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY="wrong"
    )
    refused = subprocess.run([*CLI, "inspect", blocks], capture_output=True, text=True, env=wrong, timeout=300, cwd=tmp_path)
    assert refused.returncode == 7 and "403" in refused.stderr  # the credentials are what lets it in
    env.pop("AWS_ALLOW_HTTP")
    not_opted_in = cli("inspect", blocks)
    assert not_opted_in.returncode == 2 and "(AWS_ENDPOINT_URL) is plain HTTP" in not_opted_in.stderr
    assert "AWS_ALLOW_HTTP=true" in not_opted_in.stderr


def test_an_empty_listing_from_a_custom_endpoint_says_to_check_the_addressing(tmp_path: Path, seaweed: SeaweedS3) -> None:
    seaweed.create_bucket("replay-empty")
    seaweed.put("replay-empty", "elsewhere/x.blk.gz", b"x")
    env = env_only(AWS_ENDPOINT_URL=seaweed.endpoint, AWS_ALLOW_HTTP="true", AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    result = subprocess.run([*CLI, "inspect", "s3://replay-empty/blocks"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 3
    assert "No objects under s3://replay-empty/blocks" in result.stderr and 'try buckets.addressing = "virtual"' in result.stderr


def test_a_gcs_emulator_named_by_storage_emulator_host_needs_no_allow_http(remote: History, tmp_path: Path, fake_gcs: FakeGcs) -> None:
    env = env_only(STORAGE_EMULATOR_HOST=fake_gcs.endpoint.removeprefix("http://"))
    result = subprocess.run(
        [*CLI, "inspect", "--json", "gs://hedera-blocks/block-preview/testnet/0/0"], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hash_chain"] == "verified"
