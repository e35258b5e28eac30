"""Download the objects readers will ask for next while they decode the current ones.

Downloads wait on the network and release the GIL; decoding holds much of it. Running both in
the same 32 threads makes them fight over the GIL, so a few reader threads decode and this keeps a
bounded window of downloads running ahead of them, in the order they will ask. What the readers
have verified is written to the cache by the download workers, off the readers' threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .base import ReplaySource, SourceObject

#: Objects held downloaded but not yet read, per download worker.
WINDOW_PER_WORKER = 4


class ReadAhead:
    """A ``ReplaySource`` whose ``read`` of the keys given, in about their order, finds them downloaded."""

    def __init__(self, source: ReplaySource, keys: Sequence[str], workers: int) -> None:
        self.source = source
        self.kind = source.kind
        self.url = source.url
        self.features = source.features
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-ahead")
        self._keys = keys
        self._submitted = 0
        self._window = max(1, workers * WINDOW_PER_WORKER)
        self._pending: dict[str, tuple[int, Future[bytes]]] = {}  # in key order
        self._writes: list[Future[None]] = []
        self._lock = threading.Lock()
        with self._lock:
            self._fill()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Drop downloads nobody read; wait for every cache write (a failed one raises here)."""
        for _, download in self._pending.values():
            download.cancel()
        self._pool.shutdown(wait=True)
        for write in self._writes:
            write.result()

    def _fill(self) -> None:
        while len(self._pending) < self._window and self._submitted < len(self._keys):
            key = self._keys[self._submitted]
            self._pending[key] = (self._submitted, self._pool.submit(self.source.read, key))
            self._submitted += 1

    def _drop_stale(self, position: int) -> None:
        """Keys a whole window behind the readers were skipped (a file that failed before its
        signature file was read): stop holding them, so they do not shrink the window."""
        for key, (index, download) in list(self._pending.items()):
            if index >= position - self._window:
                break
            del self._pending[key]
            download.cancel()

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        """A key of the window: its download (or its error). Any other key, or a ``fresh`` read,
        goes straight to the source."""
        with self._lock:
            entry = None if fresh else self._pending.pop(key, None)
            if entry is not None:
                self._drop_stale(entry[0])
                self._fill()
        if entry is None:
            return self.source.read(key, fresh=fresh)
        return entry[1].result()

    @property
    def retries(self) -> int:
        return self.source.retries

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        return self.source.list(start_after)

    def remember(self, key: str, data: bytes) -> None:
        write = self._pool.submit(self.source.remember, key, data)
        with self._lock:
            self._writes.append(write)

    def fetch(self, key: str) -> Path:
        return self.source.fetch(key)
