"""A local cache of fetched objects: atomic writes, least-recently-used eviction past a size bound."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from ..logs import get_logger

#: Eviction frees down to this share of the bound, so that a full cache is not evicted on every write.
LOW_WATER = 0.9
#: The most files queued for eviction (~360 bytes each): a count of a cache of more queues its oldest,
#: and eviction counts again when they are gone.
QUEUE_LIMIT = 200_000


class Queued(NamedTuple):
    """A file queued for eviction: its turn, its modification time when counted (``None``: written
    here), its size and its path."""

    turn: int
    mtime: int | None
    size: int
    path: str


class FileCache:
    """Writes take no lock of their own: each is a temporary file renamed over its key (atomic per
    key, whatever else is written at the same time). The bytes held are counted under a lock held
    only for an addition.

    Eviction follows a queue, least recently used first: the files a count of the cache found, by
    time, then the files written since, in order. A writer that finds the cache past its bound
    deletes from the queue down to ``LOW_WATER`` of the bound before it queues its own file and
    hands it on. A queued file read or rewritten since it was queued is skipped (and so is one whose
    time another process changed): it is recent, and the next count finds it again.

    A count (a walk with a ``stat`` per file: seconds for a big cache) runs in a thread of its own,
    so no write waits for it, and never deletes. The first write starts one; a writer starts another
    when the queue cannot bring the cache under its bound and a tenth of the bound is held by files
    it does not hold (used since, or past ``QUEUE_LIMIT``: then files written since are not queued
    either, so that they never go before older ones). One count or eviction at a time: a writer that
    finds one under way goes on."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the byte counts
        self._busy = threading.Lock()  # held while a count or an eviction runs; writers skip it
        self._queue_lock = threading.Lock()  # the queue; a file used, or checked and deleted, as one step
        self._counting: threading.Thread | None = None  # the last count started
        self._unbounded = False  # a count or eviction failed: no more are tried
        self._total: int | None = None  # bytes held at the last count, once counted
        self._added = 0  # bytes written (less bytes deleted) since the last count started
        self._queue: deque[Queued] = deque()
        self._turns = itertools.count()
        self._queued: dict[str, Queued] = {}  # path -> its place in the queue, while it is unused
        self._queued_bytes = 0  # the bytes of those files
        self._queue_complete = True  # it holds every file the last count found: writes may join it
        self._used_while_counting: set[str] | None = None
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
            with self._queue_lock:
                os.utime(path)  # recency for other processes sharing the cache (and for counts)
                self._used(str(path))
        except FileNotFoundError:
            return None
        return path

    def put(self, url: str, key: str, data: bytes) -> Path:
        """Write atomically (temporary name, then rename); then evict the least recently used files."""
        path = self.path_for(url, key)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            temporary.write_bytes(data)
        except FileNotFoundError:  # a new folder
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
        try:
            replaced = path.stat().st_size
        except FileNotFoundError:
            replaced = 0
        name = str(path)
        with self._queue_lock:
            os.replace(temporary, path)
            self._used(name)
        with self._lock:
            self._added += len(data) - replaced
            counted, over = self._total is not None, self._over()
        if not self._unbounded and over:
            self._exclusively(self._evict_held)
        with self._queue_lock:
            if self._queue_complete:
                self._enqueue(None, len(data), name)
        if not self._unbounded and (not counted or (over and self._worth_counting())):
            self._start_count()
        return path

    def settle(self) -> None:
        """Wait for the count under way; then, if the cache is past its bound, evict now (after a
        new count if the queue runs out first)."""
        if self._counting is not None:
            self._counting.join()
        if self._past_bound():
            self._exclusively(self._evict_held)
        if self._past_bound():
            self._exclusively(self._count, self._evict_held)

    def _past_bound(self) -> bool:
        with self._lock:
            return not self._unbounded and self._over()

    def _over(self, share: float = 1.0) -> bool:
        """With ``_lock`` held: does the cache hold more than ``share`` of its bound?"""
        return self._total is not None and self._total + self._added > self.max_bytes * share

    def _worth_counting(self) -> bool:
        """Past the bound with the queue run out, and a tenth of the bound held by files not queued
        (used since they were queued, or past the queue's limit): a count would queue them again."""
        with self._lock, self._queue_lock:
            held = (self._total or 0) + self._added
            return held > self.max_bytes and held - self._queued_bytes >= self.max_bytes * (1 - LOW_WATER)

    def _used(self, path: str) -> None:
        """With ``_queue_lock`` held: ``path`` was read or written, its place in the queue is lost."""
        self._dequeue(path)
        if self._used_while_counting is not None:
            self._used_while_counting.add(path)

    def _enqueue(self, mtime: int | None, size: int, path: str) -> None:
        """With ``_queue_lock`` held: queue the file, unless the queue is full (it is no longer complete)."""
        if len(self._queue) >= QUEUE_LIMIT:
            self._queue_complete = False
            return
        queued = Queued(next(self._turns), mtime, size, path)
        self._queue.append(queued)
        self._queued[path] = queued
        self._queued_bytes += size

    def _dequeue(self, path: str) -> Queued | None:
        """With ``_queue_lock`` held: ``path`` loses its place in the queue (its entry stays, skipped)."""
        queued = self._queued.pop(path, None)
        if queued is not None:
            self._queued_bytes -= queued.size
        return queued

    def _start_count(self) -> None:
        """Count in a thread of its own, unless a count or an eviction is under way (the next write checks again)."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            self._counting = threading.Thread(target=self._holding, args=(self._count,), name="cache-count", daemon=True)
            self._counting.start()
        except BaseException:
            self._busy.release()
            raise

    def _exclusively(self, *steps: Callable[[], None]) -> None:
        """Run ``steps`` holding ``_busy``, unless a count or an eviction is under way."""
        if self._busy.acquire(blocking=False):
            self._holding(*steps)

    def _holding(self, *steps: Callable[[], None]) -> None:
        """Run ``steps``, then release ``_busy`` (held by the caller); a step that fails on a part of
        the cache it may not read or change stops bounding it."""
        try:
            for step in steps:
                step()
        except OSError as error:
            self._stop_bounding(error)
        finally:
            self._busy.release()

    def _count(self) -> None:
        """Count what the cache holds, and queue its files by time (the oldest, past
        ``QUEUE_LIMIT``), ahead of those written since the count started; ``_busy`` is held."""
        with self._lock, self._queue_lock:
            self._added = 0  # what is written from now on is added to the count below
            self._used_while_counting = set()  # and what is used from now on is not queued by it
            first_written = next(self._turns)
        try:
            files = sorted((found.st_mtime_ns, found.st_size, path) for path, found in self._walk())
            queue = deque(Queued(next(self._turns), mtime, size, path) for mtime, size, path in itertools.islice(files, QUEUE_LIMIT))
            index, total = {queued.path: queued for queued in queue}, sum(size for _, size, _ in files)
            with self._lock, self._queue_lock:  # only what changed during the walk is done holding them
                self._total = total
                written = [entry for entry in self._queue if entry.turn > first_written and self._queued.get(entry.path) is entry]
                self._queue, self._queued, self._queued_bytes = queue, index, sum(queued.size for queued in queue)
                self._queue_complete = len(files) <= QUEUE_LIMIT
                for path in self._used_while_counting:
                    self._dequeue(path)
                for entry in written:
                    self._dequeue(entry.path)  # found by the walk too: its place is among the writes
                    if self._queue_complete:
                        self._enqueue(None, entry.size, entry.path)
        finally:
            with self._queue_lock:
                self._used_while_counting = None

    def _evict_held(self) -> None:
        """Delete queued files, oldest first, until the cache holds ``LOW_WATER`` of its bound or
        the queue runs out; the caller holds ``_busy``."""
        while True:
            with self._lock:
                if not self._over(LOW_WATER):
                    return
            with self._queue_lock:
                if not self._queue:
                    return
                freed = self._delete_if_unused(self._queue.popleft())
            with self._lock:
                self._added -= freed

    def _delete_if_unused(self, queued: Queued) -> int:
        """With ``_queue_lock`` held: the bytes freed, the file's unless it was used since it was queued."""
        if self._queued.get(queued.path) is not queued:
            return 0
        self._dequeue(queued.path)
        try:
            found = os.stat(queued.path, follow_symlinks=False)
        except FileNotFoundError:
            return queued.size  # deleted by someone else: no longer held
        if queued.mtime is not None and found.st_mtime_ns != queued.mtime:
            return 0  # used by another process since it was counted
        os.unlink(queued.path)
        return found.st_size

    def _stop_bounding(self, error: OSError) -> None:
        """A part of the cache it may not read or change: stop bounding it, and say so once."""
        self._unbounded = True
        get_logger().warning("cache no longer bounded", cache=str(self.root), bound=self.max_bytes, error=str(error))

    def _walk(self) -> Iterator[tuple[str, os.stat_result]]:
        """Every file of the cache but temporary ones; links are neither followed nor counted."""
        folders = [str(self.root)]
        while folders:
            try:
                entries = os.scandir(folders.pop())
            except FileNotFoundError:
                continue
            with entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(".part"):
                        try:
                            yield entry.path, entry.stat(follow_symlinks=False)
                        except FileNotFoundError:
                            continue  # evicted by another process meanwhile
