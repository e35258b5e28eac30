"""The ``ReplaySource`` protocol: list and read the objects under one root, by key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol


@dataclass(frozen=True)
class SourceObject:
    """One object under a source's root; ``key`` is relative to the root and uses ``/``."""

    key: str
    size: int


class ReplaySource(Protocol):
    #: ``local``, ``gcs`` or ``s3``: reported in logs, status and metrics.
    kind: str
    #: Where the source points, for messages (never contains credentials).
    url: str

    def list(self) -> Iterator[SourceObject]:
        """Every object under the root, in no particular order."""
        ...

    def read(self, key: str) -> bytes:
        """The whole object; a typed ``SourceError`` when it cannot be read."""
        ...

    def fetch(self, key: str) -> Path:
        """A local file holding the object (the file itself, or a verified cached copy)."""
        ...
