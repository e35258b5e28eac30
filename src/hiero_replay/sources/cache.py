"""A local cache of fetched objects: atomic writes, least-recently-used eviction past a size bound."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path


class FileCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def path_for(self, url: str, key: str) -> Path:
        """One file per (source, key); the source part is hashed so any URL maps to a folder name."""
        source = hashlib.sha256(url.encode()).hexdigest()[:16]
        return self.root / source / key

    def get(self, url: str, key: str) -> Path | None:
        path = self.path_for(url, key)
        if not path.is_file():
            return None
        os.utime(path)  # recency for eviction
        return path

    def put(self, url: str, key: str, data: bytes) -> Path:
        """Write atomically (temporary name, then rename), then evict the least recently used files."""
        path = self.path_for(url, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        self._evict(keep=path)
        return path

    def _evict(self, keep: Path) -> None:
        with self._lock:
            files = [p for p in self.root.rglob("*") if p.is_file() and not p.name.endswith(".part")]
            sizes = {p: p.stat() for p in files}
            total = sum(s.st_size for s in sizes.values())
            for path in sorted(files, key=lambda p: sizes[p].st_mtime):
                if total <= self.max_bytes:
                    return
                if path == keep:
                    continue
                path.unlink(missing_ok=True)
                total -= sizes[path].st_size
