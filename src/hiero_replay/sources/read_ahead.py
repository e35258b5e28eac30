"""Download the objects readers will ask for next while they decode the current ones.

Downloads wait on the network and release the GIL; decoding holds much of it. Running both in
the same threads makes them fight over the GIL, so the reader decodes and this keeps downloads
running ahead of it, in the order it will ask: as many in flight as the ``InFlightLimit`` allows
(it grows while throughput grows, and halves on throttling), within a window of keys reserved ahead
of the readers (queued, downloading or downloaded, not yet read) of up to ``WINDOW_PER_WORKER``
times that. A finished download starts the next one at once, so the requests in flight do not wait
for the readers. A download is only started when it may run: no thread is parked waiting for a turn
(with hundreds in flight, waking them all on every completion cost more CPU than the downloads).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .base import ReplaySource, SourceObject
from .in_flight import InFlightLimit

#: Keys reserved ahead of the readers (queued, downloading or downloaded), per request in flight.
WINDOW_PER_WORKER = 4


class _NotStarted(Exception):
    """No download will run for a reserved key (no thread could be started for it, or the read-ahead
    was closed): the reader reads the key itself."""


class ReadAhead:
    """A ``ReplaySource`` whose ``read`` of the keys given, in about their order, finds them downloaded."""

    def __init__(self, source: ReplaySource, keys: Sequence[str], workers: int, *, cap: int | None = None) -> None:
        self.source = source
        self.kind = source.kind
        self.url = source.url
        self.features = source.features
        self.limit = InFlightLimit(start=workers, cap=max(workers, cap or source.features.max_in_flight or workers))
        self._pool = ThreadPoolExecutor(max_workers=self.limit.cap, thread_name_prefix="read-ahead")
        self._keys = keys
        self._submitted = 0
        self._in_flight = 0
        #: The most requests in flight at once so far.
        self.peak_in_flight = 0
        self._pending: dict[str, tuple[int, Future[bytes]]] = {}  # in key order
        self._queued: deque[tuple[str, Future[bytes]]] = deque()  # reserved, not started
        self._lock = threading.Lock()  # the window, and the requests in flight
        self._closed = False
        with self._lock:
            self._fill()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Drop downloads nobody read, and wait for those in flight. A reader already waiting for a
        key that will now never start reads it itself."""
        with self._lock:
            self._closed = True
            for _, download in self._pending.values():
                download.cancel()
            for _, download in self._queued:  # what is left: keys taken by a reader, not started
                if download.set_running_or_notify_cancel():
                    download.set_exception(_NotStarted("the read-ahead was closed"))
            self._queued.clear()
        self._pool.shutdown(wait=True)

    def _throttled(self) -> int:
        return int(getattr(self.source, "throttled", 0))

    def _fill(self) -> None:
        """With the lock held: reserve the next keys while the window has room (a reader asking
        for one waits for its download), and start downloads while the requests in flight stay
        within the limit."""
        window = self.limit.limit * WINDOW_PER_WORKER
        while not self._closed and len(self._pending) < window and self._submitted < len(self._keys):
            key = self._keys[self._submitted]
            download: Future[bytes] = Future()
            self._pending[key] = (self._submitted, download)
            self._queued.append((key, download))
            self._submitted += 1
        while not self._closed and self._in_flight < self.limit.limit and self._queued:
            key, download = self._queued.popleft()
            if not download.set_running_or_notify_cancel():
                continue  # dropped before it started
            try:
                self._pool.submit(self._download, key, download)
            except RuntimeError as error:
                # No thread for it: the interpreter is shutting down, or the system refused a new
                # thread (``submit`` then raises with the call already queued: when it runs, it
                # finds the key left to the reader, ``_download``).
                download.set_exception(_NotStarted(str(error)))
                continue
            except BaseException:  # a MemoryError, an interruption: the key is left to its reader too
                download.set_exception(_NotStarted("no download was started for it"))
                raise
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)

    def _download(self, key: str, download: Future[bytes]) -> None:
        with self._lock:  # ``_fill`` holds it until this call is counted, or left to the reader
            if download.done():
                return
        throttled_before = self._throttled()
        try:
            download.set_result(self.source.read(key))
        except BaseException as error:  # noqa: BLE001 - the reader raises it, as from a pool's own future
            download.set_exception(error)
        finally:
            self.limit.completed(throttled=self._throttled() > throttled_before)
            with self._lock:
                self._in_flight -= 1
                self._fill()  # the next one, or more if the limit grew

    def _drop_stale(self, position: int) -> None:
        """Keys a whole window behind the readers were skipped (a file that failed before its
        signature file was read): stop holding them, so they do not shrink the window."""
        window = self.limit.limit * WINDOW_PER_WORKER
        for key, (index, download) in list(self._pending.items()):
            if index >= position - window:
                break
            del self._pending[key]
            download.cancel()  # if it has not started, it never will

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
        try:
            return entry[1].result()
        except _NotStarted:
            return self.source.read(key)

    @property
    def retries(self) -> int:
        return self.source.retries

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        return self.source.list(start_after)

    def remember(self, key: str, data: bytes) -> None:
        """In the reader's thread: handing the write to a download thread cost more in thread
        switches than the write itself (measured: 10-20% fewer files/s)."""
        self.source.remember(key, data)

    def fetch(self, key: str) -> Path:
        return self.source.fetch(key)
