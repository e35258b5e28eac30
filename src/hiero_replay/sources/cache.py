"""A local cache of fetched objects: atomic writes, least-recently-used eviction past a size bound."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

#: Eviction frees down to this share of the bound, so that a full cache is not rescanned on every write.
LOW_WATER = 0.9


class FileCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._total: int | None = None  # bytes held, counted once, then kept up to date
        self._source_folders: dict[str, Path] = {}

    def path_for(self, url: str, key: str) -> Path:
        """One file per (source, key); the source part is hashed so any URL maps to a folder name."""
        folder = self._source_folders.get(url)
        if folder is None:
            folder = self._source_folders[url] = self.root / hashlib.sha256(url.encode()).hexdigest()[:16]
        return folder / key

    def get(self, url: str, key: str) -> Path | None:
        path = self.path_for(url, key)
        try:
            os.utime(path)  # recency for eviction
        except FileNotFoundError:
            return None
        return path

    def put(self, url: str, key: str, data: bytes) -> Path:
        """Write atomically (temporary name, then rename), then evict the least recently used files."""
        path = self.path_for(url, key)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            temporary.write_bytes(data)
        except FileNotFoundError:  # a new folder
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
        with self._lock:
            try:
                replaced = path.stat().st_size
            except FileNotFoundError:
                replaced = 0
            os.replace(temporary, path)
            self._total = (self._total if self._total is not None else self._scan_total()) + len(data) - replaced
            if self._total > self.max_bytes:
                self._evict(keep=path)
        return path

    def _files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file() and not p.name.endswith(".part")]

    def _scan_total(self) -> int:
        return sum(p.stat().st_size for p in self._files())

    def _evict(self, keep: Path) -> None:
        stats = {p: p.stat() for p in self._files()}
        total = sum(s.st_size for s in stats.values())
        for path in sorted(stats, key=lambda p: stats[p].st_mtime):
            if total <= self.max_bytes * LOW_WATER:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= stats[path].st_size
        self._total = total
