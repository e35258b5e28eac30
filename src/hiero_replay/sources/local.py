"""A local directory as a replay source: plain file reads, no object-store library in between."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import MissingInputError, SourceError
from .base import SourceFeatures, SourceObject


class LocalDirSource:
    kind = "local"
    features = SourceFeatures(cpu_bound_reads=True, positioned_listing=False, read_attempts=1, local=True)
    retries = 0

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        if not self.root.is_dir():
            raise MissingInputError(
                f"Stream folder {self.root} does not exist or is not a directory.",
                hint="Check the path given as the stream source.",
            )
        for obj in self._walk(str(self.root), ""):
            if start_after is None or obj.key > start_after:
                yield obj

    def _walk(self, directory: str, prefix: str) -> Iterator[SourceObject]:
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            raise SourceError(f"Cannot list {directory}: {error.strerror}.") from error
        for entry in entries:
            if entry.is_dir():
                yield from self._walk(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file():
                yield SourceObject(prefix + entry.name, entry.stat().st_size)

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError as exc:
            raise MissingInputError(f"{self.root / key} disappeared while it was being read.", file=key) from exc
        except OSError as exc:
            raise SourceError(f"Cannot read {self.root / key}: {exc.strerror}.", file=key) from exc

    def remember(self, key: str, data: bytes) -> None:
        """Local files need no cache."""

    def fetch(self, key: str) -> Path:
        path = self.root / key
        if not path.is_file():
            raise MissingInputError(f"{path} disappeared from the source.", file=key)
        return path
