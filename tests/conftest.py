"""Shared fixtures: the real samples (conformance oracle) and synthetic stream folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("HIERO_REPLAY_SAMPLES", REPO.parent / "shared" / "samples"))


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"stream samples not found at {SAMPLES} (set HIERO_REPLAY_SAMPLES to their folder)")
    return SAMPLES
