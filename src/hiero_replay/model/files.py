"""Stream files as the inventory keeps them: a name, what reading it produced, or its error."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from ..errors import HashMismatchError, ReplayError
from ..streams.blocks import BlockFile
from ..streams.events import EventStreamFile
from ..streams.naming import FileKind, StreamFileName


@dataclass(frozen=True, slots=True)
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
    def of(cls, parsed: EventStreamFile) -> EventFileInfo:
        events = parsed.events
        faults: list[str] = []
        for before, after in itertools.pairwise(events):
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

    def with_signature_fault(self, fault: HashMismatchError) -> EventFileInfo:
        return replace(self, signature_fault=fault)


@dataclass(frozen=True, slots=True)
class StreamFile:
    """One stream file of the inventory: its name, and what reading it produced (or its error)."""

    name: StreamFileName
    size: int
    block: BlockFile | None = None
    events: EventFileInfo | None = None
    error: ReplayError | None = None
    #: The checksum of the stored bytes read (``sources.verified.checksum``): a later copy must be the same.
    checksum: int | None = None

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file set, as the typed error a replay would stop with."""

    error: ReplayError

    @property
    def kind(self) -> str:
        return self.error.kind

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "file": self.error.file, "message": str(self.error), "exit_code": self.error.exit_code}


@dataclass(frozen=True, slots=True)
class Ignored:
    """A file of the source that is not used, and why (a marker, a temporary file, a link out of the folder)."""

    key: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.key, "reason": self.reason}


@dataclass
class StreamFiles:
    """Every stream file of a source, read and ordered, before any range is chosen or checked."""

    source: str
    blocks: list[StreamFile] = field(default_factory=list)
    events: list[StreamFile] = field(default_factory=list)
    block_problems: list[Problem] = field(default_factory=list)
    event_problems: list[Problem] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    #: Stream files of each kind the listing found, before any was left out for a round range.
    found: dict[FileKind, int] = field(default_factory=dict)

    def of_kind(self, kind: FileKind) -> list[StreamFile]:
        return self.blocks if kind is FileKind.BLOCK else self.events
