"""Where stream files and states come from: ``ReplaySource`` and its implementations."""

from .base import ReplaySource, SourceObject
from .factory import is_bucket_url, open_source
from .local import LocalDirSource

__all__ = ["LocalDirSource", "ReplaySource", "SourceObject", "is_bucket_url", "open_source"]
