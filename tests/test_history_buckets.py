"""verify-history with its saved states in a bucket (S3 on SeaweedFS, GCS on fake-gcs-server, both on
127.0.0.1), run locally and as Kubernetes pods whose results go to a prefix of the same bucket, then
collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from .buckets import make_bucket
from .history_helpers import make_history, outcomes, run_cli, summary_of
from .object_servers import FakeGcs, FaultProxy, GcsXmlUploads, SeaweedS3


@pytest.mark.parametrize("kind", ["s3", "gcs"])
def test_states_and_results_in_a_bucket(
    request: pytest.FixtureRequest, tmp_path: Path, seaweed: SeaweedS3, fake_gcs: FakeGcs, kind: str
) -> None:
    made = make_history(tmp_path / "data")
    assert made.saved_dir is not None
    bucket = make_bucket(kind, tmp_path, seaweed, fake_gcs)
    bucket.upload_folder(made.saved_dir)
    endpoint = str(bucket.options.endpoint)
    if kind == "gcs":  # the pods write their results with the XML API's PUT, which the emulator lacks
        proxy = FaultProxy(endpoint, adapter=GcsXmlUploads())
        request.addfinalizer(proxy.stop)
        endpoint = proxy.endpoint
    env = {"HIERO_REPLAY_BUCKETS__ENDPOINT": endpoint, "HIERO_REPLAY_BUCKETS__ALLOW_HTTP": "true"}
    if kind == "s3":
        env["HIERO_REPLAY_BUCKETS__PATH_STYLE"] = "true"
    flags = ["--simulate", "--events", str(made.events_dir), "--blocks", str(made.blocks_dir), "--node-id", "3"]
    flags += ["--states", bucket.url, "--from-round", "30", "--to-round", "50"]
    expected = [(0, 30, 40, "verified", 0), (1, 40, 50, "verified", 0)]

    local = run_cli(["verify-history", *flags, "--work-dir", str(tmp_path / "local"), "--json"], env=env)
    assert local.returncode == 0, local.stderr[-3000:]
    assert outcomes(summary_of(local)) == expected

    results = bucket.url.rsplit("/", 1)[0] + "/results"
    for index in range(2):
        pod = run_cli(
            ["verify-history", *flags, "--work-dir", str(tmp_path / f"pod-{index}"), "--job-index", str(index), "--results", results],
            env=env,
        )
        assert pod.returncode == 0, pod.stderr[-3000:]
    collected = run_cli(["verify-history", "--collect", results, "--work-dir", str(tmp_path / "collect"), "--json"], env=env)
    assert collected.returncode == 0, collected.stderr[-3000:]
    summary = summary_of(collected)
    assert outcomes(summary) == expected and summary["states"] == bucket.url
    status = run_cli(["status", "--work-dir", str(tmp_path / "collect")])
    assert f"history {summary['history']}  succeeded    kubernetes  jobs 2/2 verified  exit 0" in status.stdout
