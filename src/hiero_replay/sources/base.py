"""The ``ReplaySource`` protocol: list, read and fetch the objects under one root, by key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SourceObject:
    """One object under a source's root; ``key`` is relative to the root and uses ``/``. ``skipped``
    says why an entry the source found is not an object it will read (a symlink out of the folder, a FIFO)."""

    key: str
    size: int
    skipped: str | None = None


@dataclass(frozen=True)
class SourceFeatures:
    """What a source can do, declared rather than guessed from its kind."""

    #: Reading is CPU-bound (local files: decode in worker processes) or I/O-bound (downloads: threads).
    cpu_bound_reads: bool
    #: Does ``list(start_after)`` cost only what it returns (a bucket listing from a key), rather
    #: than a walk of everything (a local folder)?
    positioned_listing: bool
    #: Copies of an object read before giving up on a damaged one: several for a download, one for
    #: a local file (what was read is all there is).
    read_attempts: int
    #: Objects live on this machine already: a folder of them is used in place, never copied.
    local: bool
    #: Can an object be looked up by its key alone (``ProbingSource.probe``: a ``stat`` by name),
    #: so that a range of block files is found without listing the folder?
    probe_by_name: bool = False
    #: The most requests a reader may keep in flight (``buckets.max_requests_in_flight``); 0: as
    #: many as it has workers, never more.
    max_in_flight: int = 0


class ReplaySource(Protocol):
    #: ``local``, ``gcs``, ``s3``, ...: reported in logs, status and metrics.
    kind: str
    #: Where the source points, for messages (never contains credentials).
    url: str
    features: SourceFeatures

    @property
    def retries(self) -> int:
        """Requests retried and damaged copies read again so far (always 0 for a local folder)."""
        ...

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        """Every object under the root (after the key ``start_after``), in no particular order."""
        ...

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        """The whole object; ``fresh`` skips any local copy (the one read before did not decode).
        A typed ``SourceError`` when it cannot be read."""
        ...

    def remember(self, key: str, data: bytes) -> None:
        """Keep bytes the caller has verified, so that ``fetch`` needs no new download."""
        ...

    def fetch(self, key: str) -> Path:
        """A local file holding the object (the file itself, or a verified cached copy)."""
        ...


class ProbingSource(ReplaySource, Protocol):
    """A source whose objects can be looked up by key, and whose folders can be sampled, without a listing."""

    def probe(self, key: str) -> SourceObject | None:
        """The object at ``key`` (``skipped`` set when it is there but not readable as a file), or
        ``None`` when nothing is there."""
        ...

    def sample(self, folder: str = "", limit: int = 64) -> list[tuple[str, bool]]:
        """Up to ``limit`` entries of ``folder`` (a key prefix without its ``/``), in no particular
        order, each as (name, is a folder): a look at what the folder holds, not a listing of it."""
        ...
