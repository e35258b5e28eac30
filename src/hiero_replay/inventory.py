"""Inventory: the ordered, verified set of stream files for a round range.

Reads every stream file of a source once, orders blocks by number and event files by consensus
time, and checks what a replay relies on before any backend starts: names match contents, no
block or event file is missing, hash chains link, rounds are contiguous and cover the range.
Every violation becomes a ``Problem`` carrying a typed error; nothing is raised half-way, so
``inspect`` can show them all.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from bisect import bisect_left
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, islice, takewhile
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import (
    ConfigError,
    ContinuityError,
    CorruptFileError,
    HashMismatchError,
    MissingInputError,
    ReplayError,
)
from .block_search import BlockSearch, Unsearchable
from .config import BucketsConfig, Settings
from .sources import open_source
from .sources.base import ReplaySource, SourceObject
from .sources.read_ahead import ReadAhead
from .sources.verified import read_verified
from .streams.block_hash import Algorithm, StreamingTree
from .streams.blocks import BlockFile, read_block
from .streams.compression import decompress
from .streams.events import EventStreamFile, metadata_hash, read_event_file, read_event_signature
from .streams.naming import FileKind, StreamFileName, block_key_positioner, parse_stream_file_name
from .streams.timestamps import format_consensus_time
from .streams.validate import validate_stream_file

READ_WORKERS = max(2, os.cpu_count() or 1)
#: Threads that decode and verify downloads (decompression and hashing release the GIL).
DECODE_THREADS = min(4, max(2, os.cpu_count() or 1))
#: From this many files on, files are decoded and hashed in worker processes.
PROCESS_THRESHOLD = 256
# forkserver: safe next to threads (metrics server, prefetch) where plain fork is not.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class UnverifiableError(HashMismatchError):
    """The hash chain could not be checked at all: not a mismatch, but nothing is proven either."""

    kind = "unverifiable"


@dataclass(frozen=True)
class EventFileInfo:
    """The part of an event file the inventory keeps once the events themselves are dropped."""

    start_hash: bytes
    end_hash: bytes
    running_hash_ok: bool
    computed_end_hash: bytes
    first_round: int
    last_round: int
    last_round_complete: bool
    first_time_ns: int
    last_time_ns: int
    first_order: int
    last_order: int
    event_count: int
    #: Round sequence faults inside the file, as messages.
    round_faults: tuple[str, ...]
    signature_fault: HashMismatchError | None = None

    @classmethod
    def of(cls, parsed: EventStreamFile) -> "EventFileInfo":
        events = parsed.events
        faults: list[str] = []
        for before, after in zip(events, events[1:]):
            if after.round_received == before.round_received:
                if before.last_in_round:
                    faults.append(f"round {before.round_received} continues after its last event")
            elif after.round_received != before.round_received + 1 or not before.last_in_round:
                faults.append(f"rounds jump from {before.round_received} to {after.round_received}")
        return cls(
            start_hash=parsed.start_hash,
            end_hash=parsed.end_hash,
            running_hash_ok=parsed.running_hash_ok,
            computed_end_hash=parsed.computed_end_hash,
            first_round=events[0].round_received,
            last_round=events[-1].round_received,
            last_round_complete=events[-1].last_in_round,
            first_time_ns=events[0].consensus_time_ns,
            last_time_ns=events[-1].consensus_time_ns,
            first_order=events[0].consensus_order,
            last_order=events[-1].consensus_order,
            event_count=len(events),
            round_faults=tuple(faults),
        )


@dataclass(frozen=True)
class StreamFile:
    """One stream file of the inventory: its name, and what reading it produced (or its error)."""

    name: StreamFileName
    size: int
    block: BlockFile | None = None
    events: EventFileInfo | None = None
    error: ReplayError | None = None

    @property
    def key(self) -> str:
        return self.name.key

    @property
    def first_round(self) -> int | None:
        if self.block is not None:
            return self.block.first_round
        return self.events.first_round if self.events is not None else None

    @property
    def last_round(self) -> int | None:
        if self.block is not None:
            return self.block.last_round
        return self.events.last_round if self.events is not None else None

    @property
    def last_complete_round(self) -> int | None:
        """The last round this file finishes (an event file may end in the middle of a round)."""
        if self.events is not None and not self.events.last_round_complete:
            return self.events.last_round - 1
        return self.last_round

    @property
    def first_time_ns(self) -> int | None:
        if self.block is not None:
            return self.block.timestamp_ns
        return self.events.first_time_ns if self.events is not None else None

    @property
    def last_time_ns(self) -> int | None:
        if self.block is not None:
            return self.block.timestamp_ns
        return self.events.last_time_ns if self.events is not None else None


@dataclass(frozen=True)
class Problem:
    error: ReplayError

    @property
    def kind(self) -> str:
        return self.error.kind

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.error.file, "message": str(self.error), "exit_code": self.error.exit_code}


@dataclass(frozen=True)
class Gap:
    """Missing data: ``blocks`` or ``rounds`` (first..last inclusive), or ``event-files`` between two files."""

    kind: str
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass
class Inventory:
    source: str
    block_files: list[StreamFile] = field(default_factory=list)
    event_files: list[StreamFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    verified_links: int = 0
    unverifiable_links: int = 0
    from_round: int | None = None
    to_round: int | None = None

    @property
    def files(self) -> list[StreamFile]:
        return self.event_files + self.block_files

    @property
    def kind(self) -> str:
        if self.block_files and self.event_files:
            return "mixed"
        if self.block_files:
            return "block-stream"
        return "event-stream" if self.event_files else "empty"

    @property
    def hash_chain(self) -> str:
        if any(isinstance(p.error, CorruptFileError) or type(p.error) is HashMismatchError for p in self.problems):
            return "broken"
        if self.unverifiable_links or not self.verified_links:
            return "unverifiable"
        return "verified"

    @property
    def ok(self) -> bool:
        return not self.problems

    def _values(self, attribute: str, files: Iterable[StreamFile]) -> list[int]:
        return [value for f in files if (value := getattr(f, attribute)) is not None]

    @property
    def first_round(self) -> int | None:
        return min(self._values("first_round", self.files), default=None)

    @property
    def last_round(self) -> int | None:
        return max(self._values("last_round", self.files), default=None)

    def to_json(self) -> dict[str, Any]:
        blocks = [f.block.number for f in self.block_files if f.block is not None]
        first_times = self._values("first_time_ns", self.files)
        last_times = self._values("last_time_ns", self.files)
        return {
            "source": self.source,
            "kind": self.kind,
            "files": len(self.files),
            "block_files": len(self.block_files),
            "event_files": len(self.event_files),
            "first_block": min(blocks, default=None),
            "last_block": max(blocks, default=None),
            "first_round": self.first_round,
            "last_round": self.last_round,
            "first_consensus_time": format_consensus_time(min(first_times)) if first_times else None,
            "last_consensus_time": format_consensus_time(max(last_times)) if last_times else None,
            "hapi_versions": sorted({f.block.hapi for f in self.block_files if f.block is not None}),
            "hash_chain": self.hash_chain,
            "verified_links": self.verified_links,
            "gaps": [gap.to_json() for gap in self.gaps],
            "problems": [problem.to_json() for problem in self.problems],
        }

    def first_error(self) -> ReplayError | None:
        return self.problems[0].error if self.problems else None

    def raise_for_problems(self) -> None:
        error = self.first_error()
        if error is not None:
            raise error


# --------------------------------------------------------------------------------------------
# Reading


def _read_stream_file(source: ReplaySource, name: StreamFileName, size: int, signature: StreamFileName | None) -> StreamFile:
    """Read and decode one file; from a bucket, a copy that does not decode (or whose events do not
    hash to its end hash: damaged in transit) is fetched again, and only a good one is remembered."""
    try:
        if name.kind is FileKind.BLOCK:
            block = read_verified(source, name.key, lambda raw: read_block(_content(name, raw), name=name.key))
            return StreamFile(name, size, block=block)

        def decode(raw: bytes) -> tuple[EventFileInfo, bytes]:
            data = _content(name, raw)
            return EventFileInfo.of(read_event_file(data, name=name.key)), data

        info, data = read_verified(source, name.key, decode, damaged=lambda decoded: not decoded[0].running_hash_ok)
        if signature is not None:
            fault = _check_signature(source, signature, data, info)
            if fault is not None:
                info = EventFileInfo(**{**info.__dict__, "signature_fault": fault})
        return StreamFile(name, size, events=info)
    except ReplayError as error:
        return StreamFile(name, size, error=error)


def _content(name: StreamFileName, raw: bytes) -> bytes:
    return decompress(raw, name.compression, name=name.key)


def _check_signature(source: ReplaySource, signature: StreamFileName, data: bytes, info: EventFileInfo) -> HashMismatchError | None:
    sig = read_verified(source, signature.key, lambda raw: read_event_signature(_content(signature, raw), name=signature.key))
    file_hash = hashlib.sha384(data).digest()
    if sig.file_hash != file_hash:
        return HashMismatchError(
            f"{signature.key}: the file hash it signs is not the SHA-384 of its event file.",
            expected=sig.file_hash,
            actual=file_hash,
            hint="The event file or its signature file was altered; fetch both again.",
            file=signature.key,
        )
    meta = metadata_hash(info.start_hash, info.end_hash)
    if sig.metadata_hash != meta:
        return HashMismatchError(
            f"{signature.key}: the metadata hash it signs does not match its event file's running hashes.",
            expected=sig.metadata_hash,
            actual=meta,
            file=signature.key,
        )
    return None


@dataclass
class _Listing:
    blocks: list[tuple[StreamFileName, int]] = field(default_factory=list)
    events: list[tuple[StreamFileName, int]] = field(default_factory=list)
    signatures: dict[int, StreamFileName] = field(default_factory=dict)
    block_problems: list[Problem] = field(default_factory=list)
    event_problems: list[Problem] = field(default_factory=list)


def _list_stream_files(objects: Iterable[SourceObject]) -> _Listing:
    listing = _Listing()
    for obj in objects:
        name = parse_stream_file_name(obj.key)
        if name is None:
            continue
        if name.kind is FileKind.BLOCK:
            listing.blocks.append((name, obj.size))
        elif name.kind is FileKind.EVENTS:
            listing.events.append((name, obj.size))
        else:
            listing.signatures[name.sort_key[0]] = name
    listing.blocks.sort(key=lambda entry: entry[0].sort_key)
    listing.events.sort(key=lambda entry: entry[0].sort_key)
    listing.blocks = _drop_duplicates(listing.blocks, "block", listing.block_problems)
    listing.events = _drop_duplicates(listing.events, "event file for", listing.event_problems)
    folders = sorted({name.key.rpartition("/")[0] or "." for name, _ in listing.events})
    if len(folders) > 1:
        listing.event_problems.append(
            Problem(
                ConfigError(
                    f"Event files come from {len(folders)} folders ({', '.join(folders[:4])}"
                    f"{', ...' if len(folders) > 4 else ''}); their streams would interleave.",
                    hint="Point the event source at one node's events_0.0.N folder.",
                )
            )
        )
    return listing


def _drop_duplicates(entries: list[tuple[StreamFileName, int]], what: str, problems: list[Problem]) -> list[tuple[StreamFileName, int]]:
    kept: list[tuple[StreamFileName, int]] = []
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


def _read_job(job: tuple[ReplaySource, StreamFileName, int, StreamFileName | None]) -> StreamFile:
    return _read_stream_file(*job)


def _executor(jobs: int, workers: int) -> Executor:
    """Processes for large sets of local files: decoding hundreds of small items per block holds
    the GIL. Threads for small sets (no start-up cost)."""
    processes = min(workers, os.cpu_count() or 1)
    if jobs >= PROCESS_THRESHOLD and processes > 1:
        return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context(_START_METHOD))
    return ThreadPoolExecutor(max_workers=workers)


def _read_all(source: ReplaySource, listing: _Listing, workers: int) -> tuple[list[StreamFile], list[StreamFile]]:
    jobs = [(source, name, size, None) for name, size in listing.blocks]
    jobs += [(source, name, size, listing.signatures.get(name.sort_key[0])) for name, size in listing.events]
    if source.cpu_bound_reads:
        with _executor(len(jobs), workers) as pool:
            files = list(pool.map(_read_job, jobs, chunksize=max(1, min(64, len(jobs) // (workers * 8)))))
    else:  # downloads run ahead in many threads, a few decode
        keys = []
        for _, name, _, signature in jobs:
            keys += [name.key] if signature is None else [name.key, signature.key]
        with ReadAhead(source, keys, workers) as downloads, ThreadPoolExecutor(DECODE_THREADS) as decoders:
            files = list(decoders.map(lambda job: _read_stream_file(downloads, *job[1:]), jobs))
    return files[: len(listing.blocks)], files[len(listing.blocks) :]


# --------------------------------------------------------------------------------------------
# Selecting a round range


def _select(files: list[StreamFile], from_round: int | None, to_round: int | None) -> list[StreamFile]:
    """The contiguous run of files that overlaps the range, with unreadable neighbours kept."""
    if from_round is None and to_round is None:
        return files
    low = from_round if from_round is not None else -1
    high = to_round if to_round is not None else 2**63
    hits = [
        index
        for index, f in enumerate(files)
        if f.first_round is not None and f.last_round is not None and f.first_round <= high and f.last_round >= low
    ]
    if not hits:
        return []
    start, stop = hits[0], hits[-1]
    while start > 0 and files[start - 1].error is not None:
        start -= 1
    while stop + 1 < len(files) and files[stop + 1].error is not None:
        stop += 1
    return files[start : stop + 1]


# --------------------------------------------------------------------------------------------
# Checks


class _Checker:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def problem(self, error: ReplayError) -> None:
        self.inventory.problems.append(Problem(error))

    def gap(self, gap: Gap, error: ContinuityError) -> None:
        self.inventory.gaps.append(gap)
        self.problem(error)

    def check_blocks(self, files: Sequence[StreamFile]) -> None:
        previous: StreamFile | None = None
        chosen: dict[int, Algorithm] = {}
        for current in files:
            if current.error is not None:
                self.problem(current.error)
            else:
                self._check_block_content(current)
            if previous is not None:
                self._check_block_link(previous, current, chosen)
            previous = current
        self._check_all_previous_roots(files, chosen)

    def _check_block_content(self, current: StreamFile) -> None:
        block = current.block
        assert block is not None
        if block.number != current.name.block_number:
            self.problem(
                ContinuityError(
                    f"{current.key} holds block {block.number} but its name says block {current.name.block_number}.",
                    hint="A renamed or misplaced file breaks the ordering; restore the original file names.",
                    file=current.key,
                )
            )
        if any(proved != block.number for proved in block.proof_blocks):
            self.problem(
                ContinuityError(
                    f"{current.key}: block {block.number} carries a proof for block(s) {', '.join(map(str, block.proof_blocks))}.",
                    hint="The file was altered or assembled from two blocks; fetch it again.",
                    file=current.key,
                )
            )
        for part, present in (("block footer", block.footer is not None), ("block proof", bool(block.proofs))):
            if not present:
                self.problem(CorruptFileError(f"{current.key}: block {block.number} has no {part}.", file=current.key))
        if block.footer is not None and block.number == 0:
            if block.footer.previous_block_root_hash == block.genesis_previous_hash:
                self.inventory.verified_links += 1
            else:
                self.problem(
                    HashMismatchError(
                        f"{current.key}: block 0 does not start from the genesis previous-block hash.",
                        expected=block.genesis_previous_hash,
                        actual=block.footer.previous_block_root_hash,
                        file=current.key,
                    )
                )
        if block.rounds and block.rounds != tuple(range(block.rounds[0], block.rounds[-1] + 1)):
            jumps = [f"{a}->{b}" for a, b in zip(block.rounds, block.rounds[1:]) if b != a + 1]
            self.problem(
                ContinuityError(
                    f"{current.key}: rounds inside block {block.number} are not consecutive ({', '.join(jumps[:5])}).",
                    file=current.key,
                )
            )

    def _check_block_link(self, previous: StreamFile, current: StreamFile, chosen: dict[int, Algorithm]) -> None:
        before, after = previous.name.block_number, current.name.block_number
        assert before is not None and after is not None
        if after != before + 1:
            rounds = ""
            last, first = previous.last_complete_round, current.first_round
            if last is not None and first is not None and first > last + 1:
                self.inventory.gaps.append(Gap("rounds", last + 1, first - 1, after=previous.key, before=current.key))
                rounds = f" (rounds {last + 1}..{first - 1})"
            self.gap(
                Gap("blocks", before + 1, after - 1, after=previous.key, before=current.key),
                ContinuityError(
                    f"Missing {after - before - 1} block file(s) between {previous.key} and {current.key}: "
                    f"blocks {before + 1}..{after - 1}{rounds}.",
                    hint="Fetch the missing blocks into the source before replaying.",
                    file=current.key,
                ),
            )
            return
        prev_block, block = previous.block, current.block
        if prev_block is None or block is None or block.footer is None:
            return
        if not prev_block.root_hashes:
            self.inventory.unverifiable_links += 1
            self.problem(
                UnverifiableError(
                    f"{previous.key}: no supported root hash algorithm for HAPI {prev_block.hapi}; "
                    f"the link to block {block.number} cannot be checked.",
                    file=previous.key,
                )
            )
        else:
            claimed = block.footer.previous_block_root_hash
            matching = [algorithm for algorithm, root in prev_block.root_hashes.items() if root == claimed]
            if matching:
                chosen[prev_block.number] = matching[0]
                self.inventory.verified_links += 1
            else:
                algorithm, computed = next(iter(prev_block.root_hashes.items()))
                self.problem(
                    HashMismatchError(
                        f"Previous hash mismatch for block {block.number} ({current.key}): it does not chain to "
                        f"block {prev_block.number} ({previous.key}, root hash by algorithm {algorithm.value}).",
                        expected=computed,
                        actual=claimed,
                        hint=f"One of the two files was altered or replaced; fetch blocks {prev_block.number} and {block.number} again.",
                        file=current.key,
                    )
                )
        self._check_round_link(previous, current)

    def _check_round_link(self, previous: StreamFile, current: StreamFile) -> None:
        last, first = previous.last_complete_round, current.first_round
        if last is None or first is None:
            return
        if first > last + 1:
            self.gap(
                Gap("rounds", last + 1, first - 1, after=previous.key, before=current.key),
                ContinuityError(
                    f"Rounds {last + 1}..{first - 1} are missing between {previous.key} and {current.key}.",
                    hint="Fetch the stream files that hold these rounds.",
                    file=current.key,
                ),
            )
        elif first <= last:
            self.problem(
                ContinuityError(
                    f"{current.key} starts at round {first}, which {previous.key} already holds (up to round {last}).",
                    hint="A round must not appear in two files; check for misplaced or duplicated files.",
                    file=current.key,
                )
            )

    def _check_all_previous_roots(self, files: Sequence[StreamFile], chosen: dict[int, Algorithm]) -> None:
        """From block 0 on, each footer's root of all previous block hashes is recomputable (A3/A4)."""
        if not files or files[0].name.block_number != 0:
            return
        tree = StreamingTree()
        for current in files:
            block = current.block
            if block is None or block.footer is None or not block.root_hashes or Algorithm.A2 in block.root_hashes:
                return
            expected = tree.root()
            if block.footer.root_hash_of_all_block_hashes_tree != expected:
                self.problem(
                    HashMismatchError(
                        f"{current.key}: block {block.number}'s root of all previous block hashes does not match blocks 0..{block.number - 1}.",
                        expected=expected,
                        actual=block.footer.root_hash_of_all_block_hashes_tree,
                        file=current.key,
                    )
                )
                return
            if block.number not in chosen:
                return  # its root is not confirmed by a successor: later folds would only echo that
            tree.add_hash(block.root_hashes[chosen[block.number]])

    def check_events(self, files: Sequence[StreamFile]) -> None:
        previous: StreamFile | None = None
        for current in files:
            if current.error is not None:
                self.problem(current.error)
            else:
                self._check_event_content(current)
                if previous is not None and previous.events is not None:
                    self._check_event_link(previous, current)
            previous = current

    def _check_event_content(self, current: StreamFile) -> None:
        info, name = current.events, current.name
        assert info is not None and name.consensus_time_ns is not None
        unit = 10 ** (9 - name.fraction_digits)
        if info.first_time_ns // unit * unit != name.consensus_time_ns:
            self.problem(
                ContinuityError(
                    f"{current.key}: its name says {format_consensus_time(name.consensus_time_ns)} but its first event "
                    f"reached consensus at {format_consensus_time(info.first_time_ns)}.",
                    hint="A renamed or misplaced file breaks the ordering; restore the original file names.",
                    file=current.key,
                )
            )
        if info.running_hash_ok:
            self.inventory.verified_links += 1
        else:
            self.problem(
                HashMismatchError(
                    f"Running hash mismatch for {current.key}: the events do not hash to the file's end running hash.",
                    expected=info.end_hash,
                    actual=info.computed_end_hash,
                    hint="The file was altered or damaged; fetch it again from its source.",
                    file=current.key,
                )
            )
        if info.signature_fault is not None:
            self.problem(info.signature_fault)
        for fault in info.round_faults:
            self.problem(ContinuityError(f"{current.key}: {fault}.", file=current.key))

    def _check_event_link(self, previous: StreamFile, current: StreamFile) -> None:
        before, after = previous.events, current.events
        assert before is not None and after is not None
        if after.start_hash != before.end_hash:
            self.gap(
                Gap("event-files", after=previous.key, before=current.key),
                ContinuityError(
                    f"Missing event stream file prior to {current.key}: its start running hash "
                    f"{after.start_hash.hex()} is not the end running hash {before.end_hash.hex()} of {previous.key}.",
                    hint="Fetch the event files between these two before replaying.",
                    file=current.key,
                ),
            )
        else:
            self.inventory.verified_links += 1
            if after.first_order != before.last_order + 1:
                self.problem(
                    ContinuityError(
                        f"{current.key}: consensus order jumps from {before.last_order} to {after.first_order} "
                        f"although the running hashes link.",
                        file=current.key,
                    )
                )
        self._check_round_link(previous, current)

    def check_coverage(self, streams: Sequence[Sequence[StreamFile]]) -> None:
        """The rounds asked for (or spanned) must be covered, across both streams when mixed."""
        spans = []
        for files in streams:
            firsts = [f.first_round for f in files if f.first_round is not None]
            lasts = [f.last_complete_round for f in files if f.last_complete_round is not None]
            if firsts and lasts:
                spans.append((min(firsts), max(lasts)))
        inventory = self.inventory
        low = inventory.from_round if inventory.from_round is not None else min((s[0] for s in spans), default=inventory.to_round)
        high = inventory.to_round if inventory.to_round is not None else max((s[1] for s in spans), default=low)
        if low is None or high is None:
            return
        for first, last in _uncovered(low, high, spans):
            self.gap(
                Gap("rounds", first, last),
                ContinuityError(
                    f"Rounds {first}..{last} are not covered by any stream file in {inventory.source}.",
                    hint="Add the stream files holding these rounds, or narrow the round range.",
                ),
            )


def _uncovered(low: int, high: int, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    cursor = low
    for first, last in sorted(spans):
        if first > cursor and cursor <= high:
            yield cursor, min(first - 1, high)
        cursor = max(cursor, last + 1)
    if cursor <= high:
        yield cursor, high


@dataclass
class StreamFiles:
    """Every stream file of a source, read and ordered, before any range is chosen or checked."""

    source: str
    blocks: list[StreamFile] = field(default_factory=list)
    events: list[StreamFile] = field(default_factory=list)
    block_problems: list[Problem] = field(default_factory=list)
    event_problems: list[Problem] = field(default_factory=list)


def open_stream_source(location: str, settings: Settings) -> ReplaySource:
    """A stream source whose downloads are checked as stream files before they are cached."""
    return open_source(location, settings.buckets, work_dir=settings.work_dir, validator=validate_stream_file)


def read_workers(source: ReplaySource, settings: Settings | None = None) -> int:
    """Processes for local files (decoding is the work), many threads for downloads."""
    if source.cpu_bound_reads:
        return READ_WORKERS
    return settings.buckets.download_workers if settings is not None else BucketsConfig().download_workers


#: From this many block files on, a round range is located by a search instead of reading them all.
RANGE_SEARCH_THRESHOLD = 64
#: A bucket folder with more objects than this (one listing page) is listed only around a round range.
RANGE_LISTING_THRESHOLD = 1000
#: Listing event files for a round range, the latest one is read after every this many objects
#: listed, to see whether the range is passed.
EVENT_PROBE_INTERVAL = 100

Listed = tuple[StreamFileName, int]


def _block_search(source: ReplaySource, at_or_after: Callable[[int], Listed | None]) -> BlockSearch[Listed]:
    def rounds(entry: Listed) -> tuple[int, int] | None:
        found = _read_stream_file(source, *entry, None)
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


def _stream_files_of(kind: FileKind, objects: Iterable[SourceObject]) -> Iterator[Listed]:
    for obj in objects:
        name = parse_stream_file_name(obj.key)
        if name is not None and name.kind is kind:
            yield name, obj.size


def _list_block_range(source: ReplaySource, first_page: list[SourceObject], first: int, last: int | None) -> _Listing | None:
    """The listing of a large bucket folder of blocks around rounds ``first..last`` only: probes
    list one page from a key, and the range is listed from its first block to its last. ``None``
    when the folder cannot be searched by key (names not fixed-width, a probe unreadable)."""
    head = next(_stream_files_of(FileKind.BLOCK, first_page), None)
    position = block_key_positioner(head[0]) if head is not None else None
    if head is None or position is None or next(_stream_files_of(FileKind.EVENTS, first_page), None) is not None:
        return None  # not a folder of fixed-width block names only

    def at_or_after(number: int) -> Listed | None:
        key = position(number)
        return None if key is None else next(_stream_files_of(FileKind.BLOCK, source.list(key)), None)

    try:
        start, stop = _block_search(source, at_or_after).range(head, first, last)
    except Unsearchable:
        return None

    def before_stop(obj: SourceObject) -> bool:
        name = parse_stream_file_name(obj.key)
        return stop is None or name is None or name.kind is not FileKind.BLOCK or name.sort_key[0] < stop

    return _list_stream_files(takewhile(before_stop, source.list(position(start))))


def _events_until_round(source: ReplaySource, objects: Iterable[SourceObject], last_round: int) -> Iterator[SourceObject]:
    """The listing up to the stretch of it whose latest event file starts after ``last_round``
    (read to tell): a replay of last month neither lists nor reads the year after it. Event file
    names sort in time order, so nothing before that file is left out."""
    objects = iter(objects)
    while stretch := list(islice(objects, EVENT_PROBE_INTERVAL)):
        yield from stretch
        events = list(_stream_files_of(FileKind.EVENTS, stretch))
        if events:
            latest = _read_stream_file(source, *max(events, key=lambda entry: entry[0].sort_key), None)
            if latest.first_round is not None and latest.first_round > last_round:
                return


def load_stream_files(
    source: ReplaySource,
    *,
    workers: int = READ_WORKERS,
    start_after: str | None = None,
    rounds: tuple[int, int | None] | None = None,
) -> StreamFiles:
    """List and read the stream files of ``source``: all of them (whose key sorts after
    ``start_after``), or only what the rounds ``rounds`` need: the event files up to the last
    round, the blocks that hold the rounds (from a large bucket folder of blocks, only those are
    listed)."""
    objects: Iterable[SourceObject] = source.list(start_after)
    listing = None
    if rounds is not None:
        first_page = list(islice(objects, RANGE_LISTING_THRESHOLD))
        if source.positioned_listing and len(first_page) == RANGE_LISTING_THRESHOLD:
            listing = _list_block_range(source, first_page, *rounds)
        objects = chain(first_page, objects)
        if rounds[1] is not None:
            objects = _events_until_round(source, objects, rounds[1])
    if listing is None:
        listing = _list_stream_files(objects)
        if rounds is not None and len(listing.blocks) >= RANGE_SEARCH_THRESHOLD:
            listing.blocks = _blocks_for_rounds(source, listing.blocks, *rounds)
    blocks, events = _read_all(source, listing, workers)
    return StreamFiles(source.url, blocks, events, listing.block_problems, listing.event_problems)


def verify_stream_files(
    files: StreamFiles,
    *,
    from_round: int | None = None,
    to_round: int | None = None,
    kinds: tuple[FileKind, ...] = (FileKind.EVENTS, FileKind.BLOCK),
) -> Inventory:
    """Select the files overlapping the round range and run every check on them."""
    if from_round is not None and to_round is not None and from_round > to_round:
        raise ConfigError(f"The round range {from_round}..{to_round} is empty: the first round is after the last.")
    inventory = Inventory(source=files.source, from_round=from_round, to_round=to_round)
    streams: list[list[StreamFile]] = []
    checker = _Checker(inventory)
    if FileKind.EVENTS in kinds:
        inventory.problems.extend(files.event_problems)
        inventory.event_files = _select(files.events, from_round, to_round)
        checker.check_events(inventory.event_files)
        streams.append(inventory.event_files)
    if FileKind.BLOCK in kinds:
        inventory.problems.extend(files.block_problems)
        inventory.block_files = _select(files.blocks, from_round, to_round)
        checker.check_blocks(inventory.block_files)
        streams.append(inventory.block_files)
    present = (files.events if FileKind.EVENTS in kinds else []) + (files.blocks if FileKind.BLOCK in kinds else [])
    if not present:
        what = " or ".join("event" if kind is FileKind.EVENTS else "block" for kind in kinds)
        inventory.problems.append(Problem(MissingInputError(f"No {what} stream files found in {files.source}.", hint="Check the source path.")))
        return inventory
    checker.check_coverage(streams)
    return inventory


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
