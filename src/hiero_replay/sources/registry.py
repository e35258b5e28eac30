"""Sources by URL scheme: a path is a local folder; ``gs://`` and ``s3://`` are buckets.

Adding a provider (``az://`` through obstore's Azure store, say) is one module with ``KIND`` and
``make_store(location, options)`` (optionally ``empty_listing_hint(location, options)``), one line
in ``PROVIDERS``, and the source contract suite (``tests/contract/test_source_contract.py``) run
against it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .base import ReplaySource
from .cache import FileCache
from .local import LocalDirSource
from .object_store import BucketUrl, ObjectStoreSource, Validator

if TYPE_CHECKING:
    from ..config import BucketsConfig

#: URL scheme -> the module that builds its obstore store.
PROVIDERS: dict[str, str] = {
    "gs": "hiero_replay.sources.gcs",
    "s3": "hiero_replay.sources.s3",
}


def scheme_of(location: str) -> str | None:
    scheme, separator, _ = location.partition("://")
    return scheme if separator else None


def is_bucket_url(location: str) -> bool:
    return scheme_of(location) in PROVIDERS


def cache_root(options: BucketsConfig, work_dir: Path) -> Path:
    return options.cache_dir or work_dir / "cache"


def open_source(location: str, options: BucketsConfig, *, work_dir: Path, validator: Validator | None = None) -> ReplaySource:
    scheme = scheme_of(location)
    if scheme is None:
        return LocalDirSource(location)
    if scheme not in PROVIDERS:
        schemes = ", ".join(f"{known}://bucket/prefix" for known in PROVIDERS)
        raise ConfigError(f"Unsupported source {location}: use a local folder or one of {schemes}.")
    provider = importlib.import_module(PROVIDERS[scheme])
    bucket = BucketUrl.parse(location)
    cache = FileCache(cache_root(options, work_dir) / "objects", options.cache_max_bytes)
    source = ObjectStoreSource(provider.KIND, bucket, provider.make_store(bucket, options), options, cache, validator)
    hint = getattr(provider, "empty_listing_hint", None)  # optional: what else an empty listing may mean
    source.empty_hint = (hint(bucket, options) if hint else None) or source.empty_hint
    return source
