"""Event stream v5 reader and running hash (``reference/stream-formats.md`` §1.2–1.6).

A ``.evts`` file is a header, a start running hash, self-serialized ``CesEvent`` objects and an
end running hash. Two event encodings exist in real files: class version 1 (legacy Java
serialization, 2021) and class version 2 (protobuf ``GossipEvent``, 2025). Only the consensus
trailer of each event is decoded; the running hash covers every byte of every event.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any, NamedTuple

from .decoding import decoding, in_range
from .timestamps import checked_time

EVENT_FILE_VERSION = 5
OBJECT_STREAM_VERSION = 1
HASH_CLASS_ID = 0xF422DA83A251741E
EVENT_CLASS_ID = 0xE250A9FBDCC4B1BA
SHA384_DIGEST_TYPE = 0x58FF811B
HASH_SIZE = 48
#: A ``Hash`` written with its class id: class id, version 1, digest type, length 48, digest.
HASH_PREFIX = struct.pack(">QiiI", HASH_CLASS_ID, 1, SHA384_DIGEST_TYPE, HASH_SIZE)
HASH_RECORD_SIZE = len(HASH_PREFIX) + HASH_SIZE  # 68
FILE_HEADER = struct.pack(">ii", EVENT_FILE_VERSION, OBJECT_STREAM_VERSION)
# Running hash input: HashBuilder writes longs and ints least significant byte first.
_RUNNING_HASH_PREFIX = struct.pack("<Qi", HASH_CLASS_ID, 1)
_NULL_VERSION = -0x80000000
_LONG_MIN = -0x8000000000000000

# CesEvent class version 2 trailer (ConsensusData v2): version, generation, roundCreated, stale,
# lastInRoundReceived, consensus seconds, nanos, roundReceived, consensusOrder.
CONSENSUS_TRAILER_V2 = struct.Struct(">iqq??qqqq")


class StreamEvent(NamedTuple):
    """One event's consensus data (a tuple: a file holds thousands, each built as it is read)."""

    round_received: int
    last_in_round: bool
    consensus_time_ns: int
    consensus_order: int
    #: Byte span of the whole serialized event object inside the file.
    start: int
    end: int


@dataclass(frozen=True)
class EventStreamFile:
    start_hash: bytes
    end_hash: bytes
    computed_end_hash: bytes
    class_versions: frozenset[int]
    events: tuple[StreamEvent, ...]

    @property
    def running_hash_ok(self) -> bool:
        return self.computed_end_hash == self.end_hash

    @property
    def first_round(self) -> int:
        return self.events[0].round_received

    @property
    def last_round(self) -> int:
        return self.events[-1].round_received

    @property
    def last_round_complete(self) -> bool:
        """False when the file's last round continues in the next file."""
        return self.events[-1].last_in_round


class _Cursor:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def take(self, size: int) -> bytes:
        start = self.pos
        self.skip(size)
        return self.data[start : self.pos]

    def skip(self, size: int) -> None:
        end = self.pos + size
        if end > len(self.data) or size < 0:
            raise EOFError(f"needs {size} bytes at offset {self.pos}, file ends at {len(self.data)}")
        self.pos = end

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def int32(self) -> int:
        (value,) = struct.unpack(">i", self.take(4))
        return int(value)

    def int64(self) -> int:
        (value,) = struct.unpack(">q", self.take(8))
        return int(value)


def running_hash_step(previous: bytes, event_bytes: bytes) -> bytes:
    """One step of the running hash: combine the previous running hash with the event's hash."""
    event_hash = hashlib.sha384(event_bytes).digest()
    return hashlib.sha384(_RUNNING_HASH_PREFIX + previous + _RUNNING_HASH_PREFIX + event_hash).digest()


def hash_record(digest: bytes) -> bytes:
    return HASH_PREFIX + digest


def read_event_file(data: bytes, *, name: str) -> EventStreamFile:
    """Decode a whole (decompressed) ``.evts`` v5 file and recompute its running hash."""
    with decoding(name, "not a valid event stream v5 file"):
        return _read_event_file(data)


def _read_hash(cursor: _Cursor, what: str) -> bytes:
    if len(cursor.data) - cursor.pos < HASH_RECORD_SIZE:
        raise EOFError(f"file terminates early: no complete {what} at offset {cursor.pos}")
    prefix = cursor.take(len(HASH_PREFIX))
    if prefix != HASH_PREFIX:
        raise ValueError(f"{what} at offset {cursor.pos - len(prefix)} is not a SHA-384 Hash object")
    return cursor.take(HASH_SIZE)


def _read_event_file(data: bytes) -> EventStreamFile:
    cursor = _Cursor(data, 0)
    version, object_version = cursor.unpack(">ii")
    if version != EVENT_FILE_VERSION:
        raise ValueError(f"unexpected event stream version {version}")
    if object_version != OBJECT_STREAM_VERSION:
        raise ValueError(f"unexpected object stream version {object_version}")
    start_hash = _read_hash(cursor, "start running hash")
    running = start_hash
    events: list[StreamEvent] = []
    versions: set[int] = set()
    while True:
        if len(data) - cursor.pos < 12:
            raise EOFError(f"file terminates early at offset {cursor.pos}: no end running hash")
        class_id, class_version = struct.unpack_from(">Qi", data, cursor.pos)
        if class_id == HASH_CLASS_ID:
            end_hash = _read_hash(cursor, "end running hash")
            break
        if class_id != EVENT_CLASS_ID:
            raise ValueError(f"unexpected object class id {class_id:#018x} at offset {cursor.pos}")
        start = cursor.pos
        cursor.pos += 12
        try:
            event = _read_event_body(cursor, class_version, start)
        except EOFError as exc:
            raise EOFError(f"file terminates early inside the event at offset {start}: no end running hash") from exc
        versions.add(class_version)
        running = running_hash_step(running, data[start : cursor.pos])
        events.append(event)
    if cursor.pos != len(data):
        raise ValueError(f"{len(data) - cursor.pos} unexpected bytes after the end running hash")
    if not events:
        raise ValueError("the file does not contain any events")
    return EventStreamFile(start_hash, end_hash, running, frozenset(versions), tuple(events))


def _read_event_body(cursor: _Cursor, class_version: int, start: int) -> StreamEvent:
    if class_version == 2:
        cursor.skip(cursor.int32())  # protobuf GossipEvent: hashed, not needed
        _, _, _, _, last, seconds, nanos, round_received, order = CONSENSUS_TRAILER_V2.unpack(cursor.take(CONSENSUS_TRAILER_V2.size))
        return _event(round_received, last, seconds, nanos, order, start, cursor.pos)
    if class_version == 1:
        return _read_legacy_event(cursor, start)
    raise ValueError(f"unsupported event class version {class_version} at offset {start}")


def _skip_hash_without_class_id(cursor: _Cursor) -> None:
    if cursor.int32() == _NULL_VERSION:
        return
    cursor.int32()  # digest type
    cursor.take(cursor.int32())


def _skip_instant(cursor: _Cursor) -> None:
    if cursor.int64() != _LONG_MIN:
        cursor.int64()


def _read_legacy_event(cursor: _Cursor, start: int) -> StreamEvent:
    """Class version 1 with hashed-data version 2 (the 2021 layout)."""
    hashed_version = cursor.int32()
    if hashed_version != 2:
        raise ValueError(f"unsupported legacy event layout (hashed data version {hashed_version}) at offset {start}")
    cursor.unpack(">qqq")  # creator id, self-parent and other-parent generation
    _skip_hash_without_class_id(cursor)
    _skip_hash_without_class_id(cursor)
    _skip_instant(cursor)  # time created
    cursor.take(cursor.int32())  # transactions
    cursor.unpack(">iqqq")  # unhashed data: version, creator seq, other id, other seq
    cursor.take(cursor.int32())  # signature
    consensus_version = cursor.int32()
    cursor.unpack(">qq")  # generation, round created
    if consensus_version == 1:
        cursor.unpack(">??")  # witness, famous
    _, last = cursor.unpack(">??")
    seconds, nanos, round_received, order = cursor.unpack(">qqqq")
    return _event(round_received, last, seconds, nanos, order, start, cursor.pos)


def _event(round_received: int, last: bool, seconds: int, nanos: int, order: int, start: int, end: int) -> StreamEvent:
    """The consensus data as read, refused when no node could have written it."""
    where = f"of the event at offset {start}"
    return StreamEvent(
        in_range(round_received, f"round received {where}"),
        last,
        checked_time(seconds, nanos, f"consensus time {where}"),
        order,
        start,
        end,
    )


@dataclass(frozen=True)
class EventSignatureFile:
    file_hash: bytes
    metadata_hash: bytes


SIGNATURE_FILE_VERSION = 5


def read_event_signature(data: bytes, *, name: str) -> EventSignatureFile:
    """The entire-file and metadata hashes of a ``.evts_sig`` v5 file (§1.4); signatures are not checked."""
    with decoding(name, "not a valid event signature file"):
        if not data or data[0] != SIGNATURE_FILE_VERSION:
            raise ValueError(f"unexpected signature file version {data[:1].hex() or 'none'}")
        cursor = _Cursor(data, 5)
        file_hash = _read_hash(cursor, "file hash")
        _, _, _, signature_length, _ = cursor.unpack(">Qiiii")  # class id, version, type, length, checksum
        cursor.take(signature_length)
        metadata_hash = _read_hash(cursor, "metadata hash")
    return EventSignatureFile(file_hash, metadata_hash)


def metadata_hash(start_hash: bytes, end_hash: bytes) -> bytes:
    """``SHA384(i32 5 || i32 1 || start hash record || end hash record)``."""
    return hashlib.sha384(FILE_HEADER + hash_record(start_hash) + hash_record(end_hash)).digest()
