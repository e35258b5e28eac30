"""Where stream files and states come from: ``ReplaySource`` and its implementations."""

from .base import ReplaySource, SourceObject
from .local import LocalDirSource
from .factory import open_source

__all__ = ["LocalDirSource", "ReplaySource", "SourceObject", "open_source"]
