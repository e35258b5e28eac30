"""S3 addressing as the ecosystem does it (virtual-hosted on AWS, path-style elsewhere), the
deprecated ``path_style`` alias, and what an empty listing from a custom endpoint says."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiero_replay.config import BucketsConfig, load_settings
from hiero_replay.errors import ConfigError, MissingInputError
from hiero_replay.sources import endpoints
from hiero_replay.sources.endpoints import Endpoint, bucket_endpoint, virtual_hosted
from hiero_replay.sources.registry import open_source

from .buckets import make_bucket
from .log_capture import captured_logs
from .object_servers import FakeGcs, SeaweedS3

VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AWS_ALLOW_HTTP", "STORAGE_EMULATOR_HOST")


@pytest.fixture(autouse=True)
def _no_endpoint_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(endpoints, "_warned", set())


@pytest.mark.parametrize(
    ("addressing", "bucket", "endpoint", "virtual", "bucket_url"),
    [
        ("auto", "hedera-blocks", None, True, None),  # AWS itself
        ("auto", "hedera.blocks", None, False, None),  # no certificate for *.s3.amazonaws.com covers a dotted name
        ("auto", "hedera-blocks", "https://s3.eu-west-1.amazonaws.com", True, "https://hedera-blocks.s3.eu-west-1.amazonaws.com"),
        ("auto", "b1", "https://s3.cn-north-1.amazonaws.com.cn", True, "https://b1.s3.cn-north-1.amazonaws.com.cn"),
        ("auto", "b1", "https://S3.AMAZONAWS.COM/", True, "https://b1.S3.AMAZONAWS.COM/"),
        ("auto", "b1", "https://notamazonaws.com", False, None),
        ("auto", "b1", "https://amazonaws.com.example.org", False, None),
        ("auto", "b1", "https://minio.example.com", False, None),
        ("auto", "b1", "http://10.0.0.5:9000", False, None),
        ("auto", "b1", "http://[fd00::5]:9000", False, None),
        ("auto", "b1", "http://localhost:8333", False, None),
        ("path", "b1", "https://s3.eu-west-1.amazonaws.com", False, None),
        ("path", "b1", None, False, None),
        ("virtual", "b1", "https://minio.example.com:9000/", True, "https://b1.minio.example.com:9000/"),
        ("virtual", "b1", "https://b1.minio.example.com", True, "https://b1.minio.example.com"),  # the bucket is there already
        ("virtual", "b1", "https://key:pw@minio.example.com", True, "https://key:pw@b1.minio.example.com"),
    ],
)
def test_addressing_follows_the_ecosystem(
    addressing: endpoints.Addressing, bucket: str, endpoint: str | None, virtual: bool, bucket_url: str | None
) -> None:
    given = Endpoint(endpoint, "buckets.endpoint") if endpoint else None
    assert virtual_hosted(addressing, bucket, given) is virtual
    if given is not None and virtual:
        assert bucket_endpoint(bucket, given) == bucket_url


def test_virtual_hosted_addressing_refuses_an_ip_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is an IP address") as raised:
        open_source("s3://b1/p", BucketsConfig(endpoint="https://10.0.0.5:9000", addressing="virtual"), work_dir=tmp_path)
    assert raised.value.exit_code == 2 and 'addressing = "path"' in str(raised.value)


def test_path_style_is_a_deprecated_alias_of_path_addressing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert BucketsConfig(path_style=True).addressing == "path"
    assert BucketsConfig(path_style=False).addressing == "auto"
    assert BucketsConfig(path_style=True, addressing="path").addressing == "path"
    config = tmp_path / "c.toml"
    config.write_text('[buckets]\npath_style = true\naddressing = "virtual"\n')
    with pytest.raises(ConfigError, match="path_style") as raised:
        load_settings(config)
    assert raised.value.exit_code == 2
    with captured_logs() as logs:
        for _ in range(2):
            open_source("s3://b1/p", BucketsConfig(path_style=True), work_dir=tmp_path)
    assert [entry["event"] for entry in logs] == ['buckets.path_style is deprecated: use buckets.addressing = "path" (or "auto")']


def test_the_checked_endpoint_wins_over_the_variables_obstore_reads_itself(
    tmp_path: Path, seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """obstore reads AWS_ENDPOINT_URL_S3 itself and prefers it to the endpoint it is given: the
    endpoint hiero-replay checked must be the one requests go to."""
    bucket = make_bucket("s3", tmp_path, seaweed, None)
    bucket.put("a.txt", b"x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens there
    source = open_source(bucket.url, bucket.options, work_dir=tmp_path)
    assert [o.key for o in source.list()] == ["a.txt"]


def test_an_empty_listing_from_a_custom_endpoint_hints_at_addressing(tmp_path: Path, seaweed: SeaweedS3) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None)
    bucket.put("a.txt", b"x")
    source = open_source(bucket.url.replace("/streams", "/nothing-here"), bucket.options, work_dir=tmp_path)
    with pytest.raises(MissingInputError, match="No objects under") as raised:
        list(source.list())
    assert raised.value.exit_code == 3
    hint = raised.value.hint or ""
    assert "path-style" in hint and 'buckets.addressing = "auto"' in hint and 'try buckets.addressing = "virtual"' in hint
    assert seaweed.endpoint in hint and "(buckets.endpoint)" in hint


def test_the_addressing_hint_names_the_style_sent_and_the_other_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from hiero_replay.sources import s3
    from hiero_replay.sources.object_store import BucketUrl

    location = BucketUrl.parse("s3://b1/p")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://ceph.example.com")
    hint = s3.empty_listing_hint(location, BucketsConfig(addressing="virtual")) or ""
    assert "virtual-hosted" in hint and 'try buckets.addressing = "path"' in hint and "(AWS_ENDPOINT_URL)" in hint
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert s3.empty_listing_hint(location, BucketsConfig()) is None  # AWS itself: the addressing is not in doubt


def test_an_empty_listing_elsewhere_keeps_the_plain_hint(tmp_path: Path, fake_gcs: FakeGcs) -> None:
    bucket = make_bucket("gcs", tmp_path, None, fake_gcs)
    bucket.put("a.txt", b"x")
    source = open_source(bucket.url.replace("/streams", "/nothing-here"), bucket.options, work_dir=tmp_path)
    with pytest.raises(MissingInputError) as raised:
        list(source.list())
    assert raised.value.hint == "Check the bucket URL and its prefix."
