"""Shared fixtures: the real samples (conformance oracle) and synthetic stream folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .object_servers import FakeGcs, SeaweedS3

REPO = Path(__file__).resolve().parents[1]

# Object-store tests talk only to servers on 127.0.0.1: give the clients static credentials so no
# credential chain ever looks for a cloud metadata service.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "hiero-replay-test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "hiero-replay-test")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
SAMPLES = Path(os.environ.get("HIERO_REPLAY_SAMPLES", REPO.parent / "shared" / "samples"))


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"stream samples not found at {SAMPLES} (set HIERO_REPLAY_SAMPLES to their folder)")
    return SAMPLES


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


#: The credentials the authenticating SeaweedFS accepts (``seaweed_with_credentials``).
S3_CREDENTIALS = ("hiero-replay-key", "s3cr3t-never-in-any-output-8d1f0c")


@pytest.fixture(scope="session")
def seaweed_with_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS whose S3 refuses requests not signed with ``S3_CREDENTIALS``."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed-auth"), credentials=S3_CREDENTIALS)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGcs]:
    server = FakeGcs()
    yield server
    server.stop()
