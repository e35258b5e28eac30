"""Fetch the next segment's files while the current segment replays.

The preflight already verified (and, for buckets, cached) every planned file; what the cache lost
since (evicted past its size bound, or a resumed run on another day) is downloaded here, ahead of
the backend that needs it, with bounded parallelism.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..model.plan import Segment
from ..sources.base import ReplaySource


class Prefetcher:
    def __init__(self, sources: dict[str, ReplaySource], workers: int) -> None:
        self.sources = sources
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")
        self._pending: dict[tuple[str, str], Future[Path]] = {}

    def ahead(self, segment: Segment) -> None:
        """Start fetching ``segment``'s files in the background (not a local folder's: its files are
        already here, and a thread per file would only compete with the running segment)."""
        source = self.sources[segment.source]
        if source.features.local:
            return
        for key in segment.files:
            if (segment.source, key) not in self._pending:
                self._pending[(segment.source, key)] = self._pool.submit(source.fetch, key)

    def ready(self, segment: Segment) -> None:
        """Wait for ``segment``'s prefetches; a failed one raises its typed error here."""
        for key in segment.files:
            future = self._pending.pop((segment.source, key), None)
            if future is not None:
                future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
