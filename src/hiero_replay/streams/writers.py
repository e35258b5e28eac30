"""Writers for synthetic stream data: event stream v5 files and A4 block files.

One synthetic history (rounds of events carrying transactions) can be written as an event stream,
as a block stream, or both, and the files hash and chain exactly like real ones: the readers and
the inventory accept them, and any altered byte breaks a running hash, a gzip CRC or a block link.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message

from . import messages
from .block_hash import EMPTY_HASH, Algorithm, StreamingTree, block_root_hashes
from .events import CONSENSUS_TRAILER_V2, EVENT_CLASS_ID, FILE_HEADER, HASH_SIZE, hash_record, running_hash_step
from .naming import event_file_name

NANOS_PER_SECOND = 1_000_000_000
#: The consensus node's default event file window (``event.eventsLogPeriod`` = 5 s).
EVENT_FILE_WINDOW_NS = 5 * NANOS_PER_SECOND
SYNTHETIC_HAPI = (0, 78, 0)


@dataclass(frozen=True)
class SyntheticEvent:
    creator: int
    birth_round: int
    round_received: int
    last_in_round: bool
    consensus_time_ns: int
    consensus_order: int
    transactions: tuple[bytes, ...]


@dataclass(frozen=True)
class SyntheticRound:
    number: int
    events: tuple[SyntheticEvent, ...]

    @property
    def consensus_time_ns(self) -> int:
        return self.events[0].consensus_time_ns


def generate_rounds(
    first_round: int,
    count: int,
    *,
    start_time_ns: int,
    seed: int = 0,
    events_per_round: int = 4,
    transactions_per_event: int = 2,
    transaction_size: int = 300,
    round_interval_ns: int = NANOS_PER_SECOND // 4,
    first_order: int = 0,
) -> Iterator[SyntheticRound]:
    """A deterministic history: the same arguments always give the same bytes."""
    rng = random.Random(f"{seed}:{first_round}")
    order = first_order
    for index in range(count):
        number = first_round + index
        base_time = start_time_ns + index * round_interval_ns
        events = []
        for position in range(events_per_round):
            transactions = tuple(_transaction(rng, transaction_size) for _ in range(transactions_per_event))
            events.append(
                SyntheticEvent(
                    creator=position % 4,
                    birth_round=number,
                    round_received=number,
                    last_in_round=position == events_per_round - 1,
                    consensus_time_ns=base_time + position * (round_interval_ns // events_per_round),
                    consensus_order=order,
                    transactions=transactions,
                )
            )
            order += 1
        yield SyntheticRound(number, tuple(events))


def _transaction(rng: random.Random, size: int) -> bytes:
    """Transaction-like bytes: part entropy (keys, signatures), part structure, so they compress
    about as well as real stream data does."""
    entropy = rng.randbytes(size * 2 // 5)
    return (entropy + bytes(size - len(entropy)))[:size]


# --------------------------------------------------------------------------------------------
# Event stream


def _timestamp(nanos: int) -> Message:
    seconds, fraction = divmod(nanos, NANOS_PER_SECOND)
    timestamp: Message = messages.Timestamp(seconds=seconds, nanos=fraction)
    return timestamp


def _event_core(event: SyntheticEvent) -> Message:
    core: Message = messages.EventCore(
        creator_node_id=event.creator, birth_round=event.birth_round, time_created=_timestamp(event.consensus_time_ns - 1_000_000)
    )
    return core


def encode_event(event: SyntheticEvent) -> bytes:
    """A ``CesEvent`` of class version 2: protobuf ``GossipEvent`` and the consensus trailer."""
    gossip: bytes = messages.GossipEvent(
        event_core=_event_core(event),
        signature=bytes(64),
        transactions=list(event.transactions),
    ).SerializeToString()
    seconds, nanos = divmod(event.consensus_time_ns, NANOS_PER_SECOND)
    trailer = CONSENSUS_TRAILER_V2.pack(2, -1, -1, False, event.last_in_round, seconds, nanos, event.round_received, event.consensus_order)
    return struct.pack(">Qii", EVENT_CLASS_ID, 2, len(gossip)) + gossip + trailer


@dataclass(frozen=True)
class WrittenEventFile:
    name: str
    data: bytes
    start_hash: bytes
    end_hash: bytes


def write_event_file(events: Sequence[SyntheticEvent], start_hash: bytes) -> WrittenEventFile:
    encoded = [encode_event(event) for event in events]
    running = start_hash
    for event_bytes in encoded:
        running = running_hash_step(running, event_bytes)
    data = b"".join([FILE_HEADER, hash_record(start_hash), *encoded, hash_record(running)])
    return WrittenEventFile(event_file_name(events[0].consensus_time_ns), data, start_hash, running)


def write_event_stream(
    rounds: Iterable[SyntheticRound],
    *,
    start_hash: bytes = bytes(HASH_SIZE),
    window_ns: int = EVENT_FILE_WINDOW_NS,
) -> Iterator[WrittenEventFile]:
    """Split the history into files by consensus-time window, continuing the running hash."""
    pending: list[SyntheticEvent] = []
    running = start_hash
    for synthetic_round in rounds:
        for event in synthetic_round.events:
            if pending and event.consensus_time_ns // window_ns != pending[-1].consensus_time_ns // window_ns:
                written = write_event_file(pending, running)
                running = written.end_hash
                pending = []
                yield written
            pending.append(event)
    if pending:
        yield write_event_file(pending, running)


# --------------------------------------------------------------------------------------------
# Block stream


def _item(**field: object) -> bytes:
    item: bytes = messages.BlockItem(**field).SerializeToString()
    return item


@dataclass(frozen=True)
class WrittenBlock:
    number: int
    data: bytes
    root_hash: bytes
    first_round: int
    last_round: int


#: The state hash after a round (for the footer of the block after it), as a state transition defines it.
StateHashes = Callable[[int], bytes]


class BlockStreamWriter:
    """Writes consecutive A4 blocks whose footers chain to the root hash of the block before, and
    carry the state hash after the block before (``start_state``, random without one)."""

    def __init__(
        self, *, first_number: int = 0, previous_root: bytes = EMPTY_HASH, seed: int = 0, start_state: StateHashes | None = None
    ) -> None:
        self.start_state = start_state
        self.next_number = first_number
        self.previous_root = previous_root
        self._rng = random.Random(f"blocks:{seed}:{first_number}")
        # The root of all previous block hashes is only known from block 0 on.
        self._all_previous: StreamingTree | None = StreamingTree() if first_number == 0 else None

    def write(self, rounds: Sequence[SyntheticRound]) -> WrittenBlock:
        number = self.next_number
        header = messages.BlockHeader(
            hapi_proto_version=messages.SemanticVersion(major=SYNTHETIC_HAPI[0], minor=SYNTHETIC_HAPI[1], patch=SYNTHETIC_HAPI[2]),
            software_version=messages.SemanticVersion(major=SYNTHETIC_HAPI[0], minor=SYNTHETIC_HAPI[1], patch=SYNTHETIC_HAPI[2]),
            number=number,
            block_timestamp=_timestamp(rounds[0].consensus_time_ns).SerializeToString(),
        )
        items = [_item(block_header=header)]
        for synthetic_round in rounds:
            items.append(_item(round_header=messages.RoundHeader(round_number=synthetic_round.number)))
            for event in synthetic_round.events:
                items.append(_item(event_header=messages.EventHeader(event_core=_event_core(event)).SerializeToString()))
                for transaction in event.transactions:
                    items.append(_item(signed_transaction=transaction))
                    items.append(_item(transaction_result=self._rng.randbytes(48)))
                    items.append(_item(state_changes=self._rng.randbytes(len(transaction) // 2)))
        all_previous = self._all_previous.root() if self._all_previous is not None else self._rng.randbytes(HASH_SIZE)
        footer = messages.BlockFooter(
            previous_block_root_hash=self.previous_root,
            root_hash_of_all_block_hashes_tree=all_previous,
            start_of_block_state_root_hash=self._rng.randbytes(HASH_SIZE)
            if self.start_state is None
            else self.start_state(rounds[0].number - 1),
        )
        root = block_root_hashes(
            items,
            [Algorithm.A4],
            previous=footer.previous_block_root_hash,
            all_previous=footer.root_hash_of_all_block_hashes_tree,
            start_state=footer.start_of_block_state_root_hash,
            timestamp=header.block_timestamp,
        )[Algorithm.A4]
        items.append(_item(block_footer=footer))
        proof = messages.BlockProof(block=number, signed_block_proof=messages.TssSignedBlockProof(block_signature=self._rng.randbytes(96)))
        items.append(_item(block_proof=proof))
        data = messages.Block(items=items).SerializeToString()
        if self._all_previous is not None:
            self._all_previous.add_hash(root)
        self.previous_root = root
        self.next_number += 1
        return WrittenBlock(number, data, root, rounds[0].number, rounds[-1].number)


def write_block_stream(
    rounds: Iterable[SyntheticRound],
    *,
    rounds_per_block: int,
    first_number: int = 0,
    previous_root: bytes = EMPTY_HASH,
    seed: int = 0,
    start_state: StateHashes | None = None,
) -> Iterator[WrittenBlock]:
    """Blocks of ``rounds_per_block`` rounds. Written lazily: ``start_state(n)`` is asked for the state
    after round ``n`` only once every block up to it was yielded (so a caller may compute it from them)."""
    writer = BlockStreamWriter(first_number=first_number, previous_root=previous_root, seed=seed, start_state=start_state)
    batch: list[SyntheticRound] = []
    for synthetic_round in rounds:
        batch.append(synthetic_round)
        if len(batch) == rounds_per_block:
            yield writer.write(batch)
            batch = []
    if batch:
        yield writer.write(batch)
