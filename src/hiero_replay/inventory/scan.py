"""A source's stream files listed, read and checked: what ``inspect`` shows and what a plan is made from."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..model.files import StreamFiles
from ..model.inventory import Inventory
from ..sources.base import ReplaySource
from ..sources.registry import open_source
from ..streams.validate import validate_stream_file
from .checks import verify_stream_files
from .listing import list_for_rounds
from .reading import READ_WORKERS, read_all

if TYPE_CHECKING:
    from ..config import Settings


def open_stream_source(location: str, settings: Settings) -> ReplaySource:
    """A stream source whose downloads are checked as stream files before they are cached."""
    return open_source(location, settings.buckets, work_dir=settings.work_dir, validator=validate_stream_file)


def read_workers(source: ReplaySource, settings: Settings) -> int:
    """Processes for local files (decoding is the work), many threads for downloads."""
    return READ_WORKERS if source.features.cpu_bound_reads else settings.buckets.download_workers


#: From this many stream files on, what a scan built is frozen (``gc.freeze``).
FREEZE_AFTER = 10_000


@contextmanager
def long_lived() -> Iterator[list[int]]:
    """Build what lives until the end of a scan without the cyclic garbage collector walking it
    again and again (each full collection visits every object a million-file scan holds). The
    caller puts the number of files into the list yielded; from ``FREEZE_AFTER`` on, what was built
    is moved out of the collector's view (``gc.freeze``): reference counting still frees it, and a
    small scan (in a long-lived scheduler, say) leaves the collector as it was."""
    enabled = gc.isenabled()
    built = [0]
    gc.disable()
    try:
        yield built
    finally:
        if built[0] >= FREEZE_AFTER:
            gc.freeze()
        if enabled:
            gc.enable()


def load_stream_files(
    source: ReplaySource,
    *,
    workers: int = READ_WORKERS,
    start_after: str | None = None,
    rounds: tuple[int, int | None] | None = None,
) -> StreamFiles:
    """List and read the stream files of ``source``: all of them (whose key sorts after
    ``start_after``), or only what the rounds ``rounds`` need."""
    with long_lived() as built:
        listing = list_for_rounds(source, start_after=start_after, rounds=rounds)
        found = listing.found  # before reading empties the listing's lists
        built[0] = len(listing.blocks) + len(listing.events)
        blocks, events = read_all(source, listing.blocks, listing.events, listing.signatures, workers)
    return StreamFiles(source.url, blocks, events, listing.block_problems, listing.event_problems, listing.ignored, found)


def scan_source(
    source: ReplaySource,
    *,
    from_round: int | None = None,
    to_round: int | None = None,
    workers: int = READ_WORKERS,
) -> Inventory:
    """Read, order and verify every stream file of ``source`` that overlaps the round range (only
    what the range needs is listed and read)."""
    if from_round is not None and to_round is not None and from_round > to_round:
        raise ConfigError(f"--from-round {from_round} is after --to-round {to_round}.")
    rounds = None if from_round is None and to_round is None else (from_round or 0, to_round)
    return verify_stream_files(load_stream_files(source, workers=workers, rounds=rounds), from_round=from_round, to_round=to_round)
