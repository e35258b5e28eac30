"""Buckets as replay sources through obstore: what every provider (``s3``, ``gcs``, ...) shares.

Requests are retried here (obstore's own retries are off, so every retry is counted and logged);
fetched objects are checked by the caller's validator before they enter the local cache, so a
truncated or corrupted download is fetched again and never handed to a backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from ..errors import ConfigError, MissingInputError, SourceError
from ..logs import get_logger
from .base import SourceFeatures, SourceObject
from .cache import FileCache
from .retry import GaveUp, RetryPolicy, is_throttling, is_transient
from .verified import checksum, not_the_verified_copy, read_verified

if TYPE_CHECKING:
    from obstore.store import RetryConfig

    from ..config import BucketsConfig

#: Checks a downloaded object's bytes; raises ``CorruptFileError`` when they are not usable.
Validator = Callable[[str, bytes], None]


T = TypeVar("T")


@dataclass(frozen=True)
class BucketUrl:
    scheme: str
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    @classmethod
    def parse(cls, url: str) -> BucketUrl:
        parsed = urlparse(url)
        if not parsed.scheme or not parsed.netloc:
            raise ConfigError(f"{url} is not a bucket URL (scheme://bucket/prefix).")
        prefix = parsed.path.strip("/")
        return cls(parsed.scheme, parsed.netloc, f"{prefix}/" if prefix else "")


#: obstore's own retries are off: ``ObjectStoreSource`` retries, counting and logging each one.
NO_RETRIES: RetryConfig = {"max_retries": 0}


#: One page of a listing: obstore's object metadata (``path``, ``size``, ...).
Page = list[dict[str, Any]]
#: Objects per listing page (the most S3 and GCS return per request).
LIST_PAGE = 1000


class ObjectStoreSource:
    """A bucket prefix read through an obstore ``store`` built by its provider module."""

    #: Said when the prefix holds nothing; a provider may know more (see ``registry.open_source``).
    empty_hint = "Check the bucket URL and its prefix."

    def __init__(
        self, kind: str, location: BucketUrl, store: Any, options: BucketsConfig, cache: FileCache, validator: Validator | None = None
    ) -> None:
        self.kind = kind
        self.location = location
        self.url = location.url
        self.store = store
        self.cache = cache
        self.validator = validator
        # downloads: threads, not processes; listings start at a key
        self.features = SourceFeatures(
            cpu_bound_reads=False,
            positioned_listing=True,
            read_attempts=options.retries,
            local=False,
            max_in_flight=options.max_requests_in_flight,
        )
        self.retry = RetryPolicy(attempts=options.retries)
        self._read_from_cache: set[str] = set()
        self._verified: dict[str, int] = {}  # key -> CRC-32 of the copy the caller verified
        self.retries = 0  # requests retried and damaged copies fetched again, from every thread
        self.throttled = 0  # requests answered 429 or 503 (each also retried)
        self._retries_lock = threading.Lock()
        self.log = get_logger()

    def _request(self, what: str, action: Callable[[], T]) -> T:
        def retrying(attempt: int, error: BaseException) -> None:
            self._count_retry(throttled=is_throttling(error))
            self.log.warning("bucket request retried", source=self.url, request=what, attempt=attempt, error=str(error).splitlines()[0])

        try:
            return self.retry.run(action, retryable=is_transient, on_retry=retrying)
        except GaveUp as failed:
            if isinstance(failed.error, FileNotFoundError):
                raise failed.error from None
            first_line = (str(failed.error).splitlines() or [type(failed.error).__name__])[0]
            raise SourceError(
                f"{self.url}: {what} failed after {failed.attempts} attempt(s): {first_line}",
                hint="Check the bucket URL, credentials (and billing project for requester-pays buckets), and the network.",
            ) from failed.error

    def _count_retry(self, *, throttled: bool = False) -> None:
        with self._retries_lock:
            self.retries += 1
            self.throttled += throttled

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        """Every object under the prefix (after ``start_after``, a key relative to the prefix), a
        page at a time: a caller that stops early lists no further."""
        prefix = self.location.prefix
        offset = prefix + start_after if start_after else None
        found = False
        for page in self._pages(offset):
            for meta in page:
                if offset is not None and meta["path"] <= offset:
                    continue  # some servers' start-after is inclusive
                found = True
                yield SourceObject(meta["path"][len(prefix) :], meta["size"])
        if not found and start_after is None:
            raise MissingInputError(f"No objects under {self.url}.", hint=self.empty_hint)

    def _pages(self, offset: str | None) -> Iterator[Page]:
        """Listing pages; a page that fails is retried by listing again from the last key received."""
        import obstore  # here, not at the top: a run from local folders never loads it

        stream: Any = None

        def next_page() -> Page | None:
            nonlocal stream
            if stream is None:
                stream = obstore.list(self.store, prefix=self.location.prefix or None, offset=offset, chunk_size=LIST_PAGE)
            try:
                return next(stream, None)
            except Exception:
                stream = None
                raise

        while (page := self._request("list", next_page)) is not None:
            if page:
                offset = page[-1]["path"]
            yield page

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        """From the verified cache, else straight from the bucket (the caller verifies and remembers);
        ``fresh``: the copy read before was damaged, download it again (counted as a retry)."""
        if fresh:
            self._count_retry()
            self.log.warning("damaged download fetched again", source=self.url, key=key)
        cached = None if fresh else self.cache.get(self.url, key)
        if cached is not None:
            try:
                data = cached.read_bytes()
            except OSError:  # evicted since, or a copy it may not read: downloaded instead
                pass
            else:
                self._read_from_cache.add(key)
                return data
        self._read_from_cache.discard(key)
        return self.download(key)

    def remember(self, key: str, data: bytes) -> None:
        """Note a verified copy's checksum, and cache it unless it was read from the cache."""
        self._verified[key] = checksum(data)
        if key in self._read_from_cache:
            self._read_from_cache.discard(key)
        else:
            self.cache.put(self.url, key, data)

    def download(self, key: str) -> bytes:
        """The object's bytes straight from the bucket (retried, not validated, not cached)."""
        import obstore

        try:
            return self._request(f"get {key}", lambda: bytes(obstore.get(self.store, self.location.prefix + key).bytes()))
        except FileNotFoundError as error:
            raise MissingInputError(f"{self.url}/{key} does not exist (it was listed a moment ago, or never).", file=key) from error

    def fetch(self, key: str) -> Path:
        """A verified local copy: from the cache, or downloaded, checked by the validator and cached
        (a corrupt download is fetched again, and never cached). The inventory verifies while it
        reads and remembers what passed, so this downloads only what the cache lost since."""
        cached = self.cache.get(self.url, key)
        if cached is None:
            read_verified(self, key, lambda data: self._check(key, data))
            cached = self.cache.path_for(self.url, key)
        return cached

    def _check(self, key: str, data: bytes) -> None:
        """A download is its format, and the very copy verified before (if one was)."""
        if self.validator is not None:
            self.validator(key, data)
        verified = self._verified.get(key)
        if verified is not None and checksum(data) != verified:
            raise not_the_verified_copy(
                f"{self.url}/{key}", key, since="before the replay started", hint="Run again: the new copy is verified from scratch."
            )
