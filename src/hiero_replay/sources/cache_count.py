"""A count of the object cache's files, walked and evicted a slice at a time by the writes.

A count of a big cache takes seconds (a million files: ~4 s of ``lstat``). Run in one write, it
stalls the preflight's reading thread, and the downloads behind it, that long. Spread over the
writes, a slice each, it costs a write at most milliseconds, and the preflight the same CPU, in the
thread whose work it is, with no other thread to coordinate with or to outlive the cache.
"""

from __future__ import annotations

import heapq
import os
from pathlib import Path
from typing import Protocol

#: Entries one write walks of a count under way (~2 ms), and files it evicts (a deletion costs
#: ten times a lookup). A count of N files is over within N/256 + N/10/16 writes, while ~1% of N is written.
WALK_SLICE = 256
EVICT_SLICE = 16
#: Eviction frees down to this share of the bound, so that a full cache is not recounted on every write.
LOW_WATER = 0.9


class _OpenFolder(Protocol):
    def __next__(self) -> os.DirEntry[str]: ...

    def close(self) -> None: ...


class CacheCount:
    """The folders left to walk, the open folder's entries, and the files found: a heap of (last
    written or read in ns, size, path), the least recently used on top. Links are neither followed
    nor counted: one planted in the cache would count a file that is not the cache's, and have the
    cache's own evicted. Temporary files are not counted either."""

    def __init__(self, root: Path, bound: int, spared_from: int | None) -> None:
        self.bound = bound
        #: Files last written or read at this time (ns) or later are never evicted by this count:
        #: they were written or read since the write that started it, and are about to be used.
        self.spared_from = spared_from
        self.total = 0  # bytes found so far, less those evicted
        self._folders = [str(root)]
        self._entries: _OpenFolder | None = None
        self._files: list[tuple[int, int, str]] = []
        self._down_to: int | None = None  # once walked: what eviction frees down to

    @property
    def walked(self) -> bool:
        return self._entries is None and not self._folders

    def advance(self, walk: int, evict: int) -> bool:
        """Walk up to ``walk`` entries, then, once walked, evict up to ``evict`` files past the bound;
        whether the count is over."""
        self.walk(walk)
        if not self.walked:
            return False
        if self._down_to is None:
            self._down_to = int(self.bound * LOW_WATER) if self.total > self.bound else self.total
        return self.evict(evict, self._down_to)

    def close(self) -> None:
        if self._entries is not None:
            self._entries.close()
            self._entries = None

    def walk(self, budget: int) -> int:
        """Walk up to ``budget`` entries; what is left of the budget (more than 0: the walk is over)."""
        while budget > 0:
            if self._entries is None:
                if not self._folders:
                    break
                try:
                    self._entries = os.scandir(self._folders.pop())
                except FileNotFoundError:
                    continue
            entry = next(self._entries, None)
            if entry is None:
                self.close()
                continue
            budget -= 1
            try:
                if entry.is_dir(follow_symlinks=False):
                    self._folders.append(entry.path)
                elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(".part"):
                    found = entry.stat(follow_symlinks=False)
                    heapq.heappush(self._files, (found.st_mtime_ns, found.st_size, entry.path))
                    self.total += found.st_size
            except FileNotFoundError:
                continue  # evicted by another process meanwhile
        return budget

    def evict(self, budget: int, down_to: int) -> bool:
        """Evict up to ``budget`` files, the least recently used first, while more than ``down_to``
        bytes are held; whether eviction is over (within ``down_to``, or only spared files left)."""
        while self.total > down_to and self._files:
            modified, size, path = self._files[0]
            if self.spared_from is not None and modified >= self.spared_from:
                return True
            if budget <= 0:
                return False
            heapq.heappop(self._files)
            budget -= 1
            if _delete_unless_used(path, modified):
                self.total -= size
        return True


def _delete_unless_used(path: str, modified: int) -> bool:
    """Delete ``path`` unless it was read or rewritten since it was counted (its time moved on: it
    was just handed to a reader). Whether it is gone."""
    try:
        if os.lstat(path).st_mtime_ns != modified:
            return False
        os.unlink(path)
    except FileNotFoundError:
        pass  # evicted by another process meanwhile
    return True
