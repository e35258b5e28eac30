"""A local cache of fetched objects: atomic writes, least-recently-used eviction past a size bound."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import stat
import sys
import threading
import time
from pathlib import Path

from ..errors import SourceError
from ..logs import get_logger
from .cache_count import EVICT_SLICE, WALK_SLICE, CacheCount

#: How long the count left at exit waits for a writer still at a slice of it.
FINISH_WAIT_SECONDS = 10


class FileCache:
    """Writes take no lock of their own: each is a temporary file renamed over its key (atomic per
    key, whatever else is written at the same time). The bytes held are counted under a lock held
    only for an addition.

    A count of the whole cache is started by the write that finds the cache not yet counted or
    past its bound, and spread over the writes from then on: each walks or evicts a slice of it
    (``CacheCount``), one writer at a time (a writer that finds another at it goes on). A count past
    the bound evicts the least recently used files, but never one written or read since the write
    that started it (as recent as that write's file, or more, when it is deleted): those are the
    files readers are about to be handed. So the cache may outgrow its bound by what is written
    while one count runs. What is left of a count when the process ends (a run that wrote too few
    files to carry it through) is finished then, so that every process leaves the cache bounded."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the byte counts only
        self._evicting = threading.Lock()  # held while a slice of the count runs; writers skip it
        self._count: CacheCount | None = None  # the count under way
        self._unbounded = False  # a count or eviction failed: no more are tried
        self._total: int | None = None  # bytes held at the last count, once counted
        self._added = 0  # bytes written since the last count started
        self._source_folders: dict[str, Path] = {}
        self._checked: set[Path] = set()  # folders found to be the cache's own
        atexit.register(self._finish_count)

    def path_for(self, url: str, key: str) -> Path:
        """One file per (source, key); the source part is hashed so any URL maps to a folder name. A
        key that would name a file outside the cache (absolute, or with an empty, ``.`` or ``..``
        part) is refused: listings normalise them away, this makes sure."""
        if key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
            raise SourceError(
                f"{url}: the key {key!r} would name a file outside the cache; it is not read.",
                hint="Remove or rename the object in the bucket.",
                file=key,
            )
        folder = self._source_folders.get(url)
        if folder is None:
            folder = self._source_folders[url] = self.root / hashlib.sha256(url.encode()).hexdigest()[:16]
        return folder / key

    def get(self, url: str, key: str) -> Path | None:
        """The cached copy, if a file of the cache's own is there (a link or a special file planted
        at the key is no copy: the object is fetched again, and its file replaces what was there)."""
        path = self.path_for(url, key)
        self._check_folders(path.parent)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return None
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._unusable(path, error) from error
        try:
            os.utime(path, follow_symlinks=False)  # recency for eviction
        except PermissionError:
            pass  # a copy it may read but not touch (another user's): used all the same, without its recency
        except FileNotFoundError:
            return None
        return path

    def put(self, url: str, key: str, data: bytes) -> Path:
        """Write atomically (temporary name, then rename), then evict the least recently used files."""
        path = self.path_for(url, key)
        self._check_folders(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            try:
                temporary.write_bytes(data)
            except FileNotFoundError:  # a new folder
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary.write_bytes(data)
            try:
                found = os.lstat(path)  # a link planted at the key is replaced, and was never counted
                replaced = found.st_size if stat.S_ISREG(found.st_mode) else 0
            except FileNotFoundError:
                replaced = 0
            os.replace(temporary, path)
        except OSError as error:  # a folder where the copy goes, a full disk, a cache it may not change
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise self._unusable(path, error, key=key) from error
        with self._lock:
            self._added += len(data) - replaced
            held = None if self._total is None else self._total + self._added
        counting = self._count is not None or held is None or held > self.max_bytes
        if counting and not self._unbounded and self._evicting.acquire(blocking=False):
            try:
                self._advance(path)
            finally:
                self._evicting.release()
        return path

    def _check_folders(self, folder: Path) -> None:
        """Every folder between the cache's root and ``folder`` that exists is a folder of the
        cache's own: a link planted in place of one would have the cache read and write elsewhere,
        and a file in place of one would fail every use of it."""
        if folder in self._checked:
            return
        missing = False
        for part in [folder, *folder.parents]:
            if part == self.root:
                break
            try:
                mode = os.lstat(part).st_mode
            except FileNotFoundError:
                missing = True  # put creates it
                continue
            except OSError as error:
                raise self._unusable(part, error) from error
            if not stat.S_ISDIR(mode):
                raise SourceError(
                    f"The cache at {self.root} holds {part}, which is not a folder of its own (a link or a file).",
                    hint=f"Remove {part} (the cache keeps only its own files there), or use another work directory.",
                )
        if not missing:
            self._checked.add(folder)

    def _unusable(self, path: Path, error: OSError, key: str | None = None) -> SourceError:
        return SourceError(
            f"Cannot use the cache at {path}: {error.strerror or error}.",
            hint=f"Remove {path} if it is not the cache's own, free space, or check the permissions of {self.root};"
            " or use another work directory.",
            file=key,
        )

    def settle(self) -> None:
        """Finish the count under way; then, if the cache is past its bound, count and evict now,
        sparing nothing (what was written is no longer about to be read)."""
        with self._evicting:
            if self._count is not None:
                self._advance(None, everything=True)
            with self._lock:
                over = self._total is not None and self._total + self._added > self.max_bytes
            if over and not self._unbounded:
                self._advance(None, everything=True)

    def _finish_count(self) -> None:
        """At exit; a writer still at a slice (a daemon thread) is waited for a while, never for good."""
        if not self._evicting.acquire(timeout=FINISH_WAIT_SECONDS):
            return
        try:
            if self._count is not None and not self._unbounded:
                self._advance(None, everything=True)
        finally:
            self._evicting.release()

    def _advance(self, written: Path | None, *, everything: bool = False) -> None:
        """With ``_evicting`` held: a slice of the count under way (``everything``: the rest of it),
        starting one if none is (it spares files as recent as ``written``, or nothing)."""
        count = self._count
        if count is None:
            count = self._count = CacheCount(self.root, self.max_bytes, None if written is None else self._recency(written))
            with self._lock:
                self._added = 0  # what is written from now on is added to what the count finds
        try:
            walk, evict = (sys.maxsize, sys.maxsize) if everything else (WALK_SLICE, EVICT_SLICE)
            if not count.advance(walk, evict):
                return
        except OSError as error:  # a part of the cache it may not read or change: stop, and say so once
            self._unbounded = True
            get_logger().warning("cache no longer bounded", cache=str(self.root), bound=self.max_bytes, error=str(error))
            count.close()
            self._count = None
            return
        with self._lock:
            self._total = count.total
        self._count = None

    @staticmethod
    def _recency(written: Path) -> int:
        try:
            return os.lstat(written).st_mtime_ns
        except OSError:  # gone already (another process sharing the cache): spare what comes next
            return time.time_ns()
