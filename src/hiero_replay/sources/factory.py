"""Turn a path or URL from the command line or config into a ``ReplaySource``."""

from __future__ import annotations

from pathlib import Path

from ..config import BucketsConfig
from ..errors import ConfigError
from .base import ReplaySource
from .cache import FileCache
from .local import LocalDirSource
from .object_store import ObjectStoreSource, Validator

BUCKET_SCHEMES = ("gs://", "s3://")


def is_bucket_url(location: str) -> bool:
    return location.startswith(BUCKET_SCHEMES)


def cache_root(options: BucketsConfig, work_dir: Path) -> Path:
    return options.cache_dir or work_dir / "cache"


def open_source(
    location: str,
    options: BucketsConfig | None = None,
    *,
    work_dir: Path = Path(".hiero-replay"),
    validator: Validator | None = None,
) -> ReplaySource:
    if is_bucket_url(location):
        options = options or BucketsConfig()
        cache = FileCache(cache_root(options, work_dir) / "objects", options.cache_max_bytes)
        return ObjectStoreSource(location, options, cache, validator)
    if "://" in location:
        raise ConfigError(f"Unsupported source {location}: use a local folder, gs://bucket/prefix or s3://bucket/prefix.")
    return LocalDirSource(location)
