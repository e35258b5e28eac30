"""Listing a source's stream files: all of them, or only what a round range needs.

Names are parsed once; ordering comes from block numbers and consensus times, never from the
listing order. For a round range, blocks are located by a search over block numbers (in a large
bucket folder without listing it whole) and event listings stop once past the last round.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice, takewhile
from typing import cast

from ..errors import ConfigError, ContinuityError
from ..model.files import Ignored, Problem
from ..sources.base import ProbingSource, ReplaySource, SourceObject
from ..streams.naming import FileKind, StreamFileName, block_key_positioner, parse_stream_file_name, signed_key
from ..streams.timestamps import format_consensus_time
from .block_search import BlockSearch, Unsearchable
from .probing import probe_block_range
from .reading import Listed, read_stream_file

#: From this many block files on, a round range is located by a search instead of reading them all.
RANGE_SEARCH_THRESHOLD = 64
#: A bucket folder with more objects than this (one listing page) is listed only around a round range.
RANGE_LISTING_THRESHOLD = 1000
#: Listing event files for a round range, the latest one is read after every this many objects
#: listed, to see whether the range is passed.
EVENT_PROBE_INTERVAL = 100


@dataclass
class Listing:
    """The stream files of a listing by kind, ordered, duplicates reported and dropped; what is not
    used is ``ignored``, with the reason."""

    blocks: list[Listed] = field(default_factory=list)
    events: list[Listed] = field(default_factory=list)
    #: Signature files by the event file they sign (its key with ``.evts`` in place of ``.evts_sig``).
    signatures: dict[str, Listed] = field(default_factory=dict)
    block_problems: list[Problem] = field(default_factory=list)
    event_problems: list[Problem] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    #: Blocks listed before a round range kept only some of them.
    blocks_found: int = 0

    @property
    def found(self) -> dict[FileKind, int]:
        """Stream files of each kind the listing found (before any is left out for a round range)."""
        return {FileKind.EVENTS: len(self.events), FileKind.BLOCK: self.blocks_found or len(self.blocks)}


_TEMPORARY = (".tmp", ".part", ".partial", ".swp", ".swx", ".bak", ".orig", ".crdownload", "~")
_LOOKS_LIKE_EVENTS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}\.\d+Z\.evts")


def _stream_name(obj: SourceObject) -> StreamFileName | None:
    """The stream file an object is, or ``None``: skipped by the source, hidden, temporary or not a
    stream file's name."""
    if obj.skipped is not None or _ignore_reason(obj.key) is not None:
        return None
    return parse_stream_file_name(obj.key)


def _ignore_reason(key: str) -> str | None:
    """Why a name is never used even when it looks like a stream file's (hidden, temporary)."""
    parts = key.split("/")
    if any(part.startswith(".") for part in parts[:-1]):
        return "in a hidden folder"
    name = parts[-1]
    if name.startswith("."):
        return "a hidden file"
    if name.endswith(_TEMPORARY) or name.startswith("#"):
        return "a temporary or backup file"
    return None


def _why_not_a_stream_file(obj: SourceObject) -> str:
    name = obj.key.rsplit("/", 1)[-1]
    if obj.skipped is not None:
        return obj.skipped
    if (reason := _ignore_reason(obj.key)) is not None:
        return reason
    if name.endswith(".mf"):
        return "a block marker file (.mf)"
    if ".pnd" in name:
        return "a pending block (.pnd), not yet proven"
    if ".blk" in name:
        return "named like a block file, but its name is not a block number"
    if _LOOKS_LIKE_EVENTS.match(name):
        return "named like an event file, but its name is not a valid date and time"
    return "not a stream file's name"


#: A listed object with the stream file its name says it is (``None``: not one): names are parsed once.
Named = tuple[SourceObject, StreamFileName | None]


def named(objects: Iterable[SourceObject]) -> Iterator[Named]:
    for obj in objects:
        yield obj, _stream_name(obj)


def stream_files_of(kind: FileKind, entries: Iterable[Named]) -> Iterator[Listed]:
    """The stream files of one kind in a listing."""
    for obj, name in entries:
        if name is not None and name.kind is kind:
            yield name, obj.size


def list_stream_files(objects: Iterable[SourceObject]) -> Listing:
    return list_named(named(objects))


def list_named(entries: Iterable[Named]) -> Listing:
    listing = Listing()
    for obj, name in entries:
        if name is None:
            listing.ignored.append(Ignored(obj.key, _why_not_a_stream_file(obj)))
        elif name.kind is FileKind.BLOCK:
            listing.blocks.append((name, obj.size))
        elif name.kind is FileKind.EVENTS:
            listing.events.append((name, obj.size))
        else:
            listing.signatures[signed_key(name)] = (name, obj.size)
    listing.blocks.sort(key=lambda entry: entry[0].sort_key)
    listing.events.sort(key=lambda entry: entry[0].sort_key)
    folders = sorted({name.key.rpartition("/")[0] or "." for name, _ in listing.events})
    if len(folders) > 1:  # said first: the duplicates that follow come from it
        listing.event_problems.append(
            Problem(
                ConfigError(
                    f"Event files come from {len(folders)} folders ({', '.join(folders[:4])}"
                    f"{', ...' if len(folders) > 4 else ''}); their streams would interleave.",
                    hint="Point the event source at one node's events_0.0.N folder.",
                )
            )
        )
    listing.blocks = _drop_duplicates(listing.blocks, "block", listing.block_problems)
    listing.events = _drop_duplicates(listing.events, "event file for", listing.event_problems)
    with_events = {signed_key(name) for name, _ in listing.events}
    for signed, (signature, _) in list(listing.signatures.items()):
        if signed not in with_events:
            listing.ignored.append(Ignored(signature.key, "a signature file without its event file"))
            del listing.signatures[signed]
    return listing


def _drop_duplicates(entries: list[Listed], what: str, problems: list[Problem]) -> list[Listed]:
    kept: list[Listed] = []
    for entry in entries:
        if kept and kept[-1][0].sort_key == entry[0].sort_key:
            label = entry[0].block_number if entry[0].kind is FileKind.BLOCK else format_consensus_time(entry[0].sort_key[0])
            problems.append(
                Problem(
                    ContinuityError(
                        f"Two files hold the same {what} {label}: {kept[-1][0].key} and {entry[0].key}.",
                        hint="Keep exactly one copy of each stream file in the source.",
                        file=entry[0].key,
                    )
                )
            )
            continue
        kept.append(entry)
    return kept


def _block_search(source: ReplaySource, at_or_after: Callable[[int], Listed | None]) -> BlockSearch[Listed]:
    def rounds(entry: Listed) -> tuple[int, int] | None:
        found = read_stream_file(source, *entry)
        return None if found.first_round is None or found.last_round is None else (found.first_round, found.last_round)

    return BlockSearch(at_or_after, lambda entry: entry[0].sort_key[0], rounds)


def _blocks_for_rounds(source: ReplaySource, blocks: list[Listed], first: int, last: int | None) -> list[Listed]:
    """The listed blocks that hold rounds ``first..last`` (and the one before, whose root the
    first one links to), found by reading O(log n) blocks: a day of blocks is not read for an hour.

    Every block when a probe cannot tell its rounds (unreadable, wrapped records)."""
    numbers = [name.sort_key[0] for name, _ in blocks]

    def at_or_after(number: int) -> Listed | None:
        index = bisect_left(numbers, number)
        return blocks[index] if index < len(blocks) else None

    try:
        start, stop = _block_search(source, at_or_after).range(blocks[0], first, last)
    except Unsearchable:
        return blocks
    return blocks[bisect_left(numbers, start) : len(blocks) if stop is None else bisect_left(numbers, stop)]


def _list_block_range(source: ReplaySource, first_page: list[Named], first: int, last: int | None) -> Listing | None:
    """The listing of a large bucket folder of blocks around rounds ``first..last`` only: probes
    list one page from a key, and the range is listed from its first block to its last. ``None``
    when the folder cannot be searched by key (names not fixed-width, a probe unreadable)."""
    head = next(stream_files_of(FileKind.BLOCK, first_page), None)
    position = block_key_positioner(head[0]) if head is not None else None
    if head is None or position is None or next(stream_files_of(FileKind.EVENTS, first_page), None) is not None:
        return None  # not a folder of fixed-width block names only
    positioner = position

    def at_or_after(number: int) -> Listed | None:
        key = positioner(number)
        return None if key is None else next(stream_files_of(FileKind.BLOCK, named(source.list(key))), None)

    try:
        start, stop = _block_search(source, at_or_after).range(head, first, last)
    except Unsearchable:
        return None

    def before_stop(entry: Named) -> bool:
        name = entry[1]
        return stop is None or name is None or name.kind is not FileKind.BLOCK or name.sort_key[0] < stop

    return list_named(takewhile(before_stop, named(source.list(positioner(start)))))


def _events_until_round(source: ReplaySource, objects: Iterable[Named], last_round: int) -> Iterator[Named]:
    """The listing up to the stretch of it whose latest event file starts after ``last_round``
    (read to tell): a replay of last month neither lists nor reads the year after it. Event file
    names sort in time order, so nothing before that file is left out."""
    remaining = iter(objects)
    while stretch := list(islice(remaining, EVENT_PROBE_INTERVAL)):
        yield from stretch
        events = list(stream_files_of(FileKind.EVENTS, stretch))
        if events:
            latest = read_stream_file(source, *max(events, key=lambda entry: entry[0].sort_key))
            if latest.first_round is not None and latest.first_round > last_round:
                return


def list_for_rounds(source: ReplaySource, *, start_after: str | None, rounds: tuple[int, int | None] | None) -> Listing:
    """The listing of ``source`` (whose keys sort after ``start_after``): all of it, or only what
    the rounds ``rounds`` need: event files up to the last round, the blocks that hold the rounds
    (from a large bucket folder of blocks, only those are listed; from a local folder of blocks,
    they are found by name, without a listing)."""
    if rounds is not None and rounds[1] is not None and start_after is None and source.features.probe_by_name:
        probed = probe_block_range(cast(ProbingSource, source), rounds[0], rounds[1])
        if probed is not None:
            return Listing(blocks=probed)
    objects: Iterable[Named] = named(source.list(start_after))
    if rounds is None:
        return list_named(objects)
    if source.features.positioned_listing:
        first_page = list(islice(objects, RANGE_LISTING_THRESHOLD))
        if len(first_page) == RANGE_LISTING_THRESHOLD:
            ranged = _list_block_range(source, first_page, *rounds)
            if ranged is not None:
                return ranged
        objects = chain(first_page, objects)
    if rounds[1] is not None:
        objects = _events_until_round(source, objects, rounds[1])
    listing = list_named(objects)
    if len(listing.blocks) >= RANGE_SEARCH_THRESHOLD:
        listing.blocks_found = len(listing.blocks)
        listing.blocks = _blocks_for_rounds(source, listing.blocks, *rounds)
    return listing
