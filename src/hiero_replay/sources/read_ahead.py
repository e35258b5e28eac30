"""Download the objects a reader will ask for next while it decodes the current one.

Downloads wait on the network and release the GIL; decoding holds it. Running both in the same
32 threads makes them fight over the GIL, so the reader decodes in its own thread and this keeps
a bounded window of downloads running ahead of it, in the order it will ask for them. What the
reader has verified is written to the cache by the same workers, off the reader's thread.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator, Sequence

from .base import ReplaySource, SourceObject

#: Objects held downloaded but not yet read, per download worker.
WINDOW_PER_WORKER = 4


class ReadAhead:
    """A ``ReplaySource`` whose ``read`` of the keys given, in their order, finds them downloaded."""

    def __init__(self, source: ReplaySource, keys: Sequence[str], workers: int) -> None:
        self.source = source
        self.kind = source.kind
        self.url = source.url
        self.cpu_bound_reads = source.cpu_bound_reads
        self.read_attempts = source.read_attempts
        self.positioned_listing = source.positioned_listing
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-ahead")
        self._upcoming: Iterator[str] = iter(keys)
        self._window = max(1, workers * WINDOW_PER_WORKER)
        self._pending: OrderedDict[str, Future[bytes]] = OrderedDict()
        self._writes: list[Future[None]] = []
        self._fill()

    def __enter__(self) -> "ReadAhead":
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Drop downloads nobody read; wait for every cache write (a failed one raises here)."""
        for download in self._pending.values():
            download.cancel()
        self._pool.shutdown(wait=True)
        for write in self._writes:
            write.result()

    def _fill(self) -> None:
        while len(self._pending) < self._window:
            key = next(self._upcoming, None)
            if key is None:
                return
            self._pending[key] = self._pool.submit(self.source.read, key)

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        """A key of the window: its download (or its error); keys before it that the reader skipped
        are dropped. Any other key, or a ``fresh`` read, goes straight to the source."""
        if fresh or key not in self._pending:
            return self.source.read(key, fresh=fresh)
        while True:
            skipped, download = self._pending.popitem(last=False)
            if skipped == key:
                break
            download.cancel()
        self._fill()
        return download.result()

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        return self.source.list(start_after)

    def remember(self, key: str, data: bytes) -> None:
        self._writes.append(self._pool.submit(self.source.remember, key, data))

    def fetch(self, key: str) -> Path:
        return self.source.fetch(key)
