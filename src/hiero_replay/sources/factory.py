"""Turn a path or URL from the command line or config into a ``ReplaySource``."""

from __future__ import annotations

from ..errors import ConfigError
from .base import ReplaySource
from .local import LocalDirSource

_BUCKET_SCHEMES = ("gs://", "s3://")


def open_source(location: str) -> ReplaySource:
    if location.startswith(_BUCKET_SCHEMES):
        raise ConfigError(
            f"Bucket source {location} is not supported yet.",
            hint="Download the files to a local folder and point at that folder.",
        )
    if "://" in location:
        raise ConfigError(f"Unsupported source {location}: use a local folder, gs:// or s3://.")
    return LocalDirSource(location)
