"""A local directory as a replay source: plain file reads, no object-store library in between."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from ..errors import MissingInputError, SourceError
from .base import SourceObject


class LocalDirSource:
    kind = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)

    def list(self) -> Iterator[SourceObject]:
        if not self.root.is_dir():
            raise MissingInputError(
                f"Stream folder {self.root} does not exist or is not a directory.",
                hint="Check the path given as the stream source.",
            )
        for directory, subdirectories, files in os.walk(self.root, onerror=self._walk_error):
            subdirectories.sort()
            relative = Path(directory).relative_to(self.root)
            for name in sorted(files):
                path = Path(directory, name)
                if path.is_file():
                    key = (relative / name).as_posix()
                    yield SourceObject(key, path.stat().st_size)

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError as exc:
            raise MissingInputError(f"{self.root / key} disappeared while it was being read.", file=key) from exc
        except OSError as exc:
            raise SourceError(f"Cannot read {self.root / key}: {exc.strerror}.", file=key) from exc

    def fetch(self, key: str) -> Path:
        path = self.root / key
        if not path.is_file():
            raise MissingInputError(f"{path} disappeared from the source.", file=key)
        return path

    def _walk_error(self, error: OSError) -> None:
        raise SourceError(f"Cannot list {error.filename}: {error.strerror}.")
