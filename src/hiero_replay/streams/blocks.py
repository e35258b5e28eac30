"""Block stream reader: one ``Block`` message per file (``reference/stream-formats.md`` §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from . import messages
from .block_hash import EMPTY_HASH, ZERO_HASH, Algorithm, block_root_hashes, group_by_first_byte, item_field_number, key_table
from .decoding import decoding, in_range
from .timestamps import checked_time

BLOCK_HEADER, ROUND_HEADER, BLOCK_PROOF, RECORD_FILE, BLOCK_FOOTER = 1, 3, 9, 10, 12
_PROOF_KINDS = {2: "signed_block_proof", 3: "block_state_proof", 4: "signed_record_file_proof"}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BlockFooter:
    previous_block_root_hash: bytes
    root_hash_of_all_block_hashes_tree: bytes
    start_of_block_state_root_hash: bytes


@dataclass(frozen=True, slots=True)
class WrappedRecordFile:
    creation_time_ns: int
    contents_size: int
    sidecar_count: int


#: One copy of each small value that repeats from block to block (HAPI versions, proof kinds,
#: algorithm tuples): a scan of a million blocks holds one of each, not a million.
_SHARED: dict[object, object] = {}
HASH_SIZE = 48


def _shared(value: T) -> T:
    return _SHARED.setdefault(value, value)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BlockFile:
    """What the orchestrator needs of one block: coverage, chain links and its own root hash.

    Kept compact, since a full scan holds one per block of the set (a million for a month): the
    footer's three hashes and the root hashes are one ``bytes`` (``footer`` and ``root_hashes`` are
    rebuilt from it when asked for), consecutive rounds are their first and last, a block's proof
    of itself is implied, and repeating tuples are shared. Build one with ``BlockFile.of``."""

    number: int
    hapi_version: tuple[int, int, int]
    timestamp_ns: int
    first_round: int | None
    last_round: int | None
    proofs: tuple[str, ...]
    record_file: WrappedRecordFile | None
    item_count: int
    #: The footer's hashes (previous root, root of all previous, start state), then the root hash
    #: of each algorithm in ``algorithms``; one ``bytes`` when each is 48 bytes long, else a tuple.
    hashes: bytes | tuple[bytes, ...]
    has_footer: bool
    #: The algorithms of the root hashes, most likely first.
    algorithms: tuple[Algorithm, ...]
    #: The rounds, only when they are not consecutive from ``first_round`` to ``last_round``.
    odd_rounds: tuple[int, ...] | None = None
    #: The block numbers the proofs prove, only when that is not this block's number for each.
    odd_proof_blocks: tuple[int, ...] | None = None

    @classmethod
    def of(
        cls,
        *,
        number: int,
        hapi_version: tuple[int, int, int],
        timestamp_ns: int,
        rounds: tuple[int, ...],
        footer: BlockFooter | None,
        proofs: tuple[str, ...],
        proof_blocks: tuple[int, ...],
        record_file: WrappedRecordFile | None,
        item_count: int,
        root_hashes: dict[Algorithm, bytes],
    ) -> BlockFile:
        parts = [*(() if footer is None else (footer.previous_block_root_hash, footer.root_hash_of_all_block_hashes_tree,
                                               footer.start_of_block_state_root_hash)), *root_hashes.values()]  # fmt: skip
        consecutive = rounds == tuple(range(rounds[0], rounds[-1] + 1)) if rounds else True
        return cls._shared(
            number, hapi_version, timestamp_ns, rounds[0] if rounds else None, rounds[-1] if rounds else None, proofs, record_file,
            item_count, b"".join(parts) if all(len(part) == HASH_SIZE for part in parts) else tuple(parts), footer is not None,
            tuple(root_hashes), None if consecutive else rounds, None if proof_blocks == (number,) * len(proofs) else proof_blocks,
        )  # fmt: skip

    @classmethod
    def _shared(cls, *values: object) -> BlockFile:
        """A block whose repeating tuples are the shared copies (also what unpickling calls)."""
        fields = list(values)
        for index in (1, 5, 10):  # hapi_version, proofs, algorithms
            fields[index] = _shared(fields[index])
        if fields[4] == fields[3]:
            fields[4] = fields[3]  # one int object for a block of one round
        return cls(*fields)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return BlockFile._shared, tuple(getattr(self, name) for name in self.__slots__)

    def _hash(self, index: int) -> bytes:
        if isinstance(self.hashes, tuple):
            return self.hashes[index]
        return self.hashes[index * HASH_SIZE : (index + 1) * HASH_SIZE]

    @property
    def rounds(self) -> tuple[int, ...]:
        if self.odd_rounds is not None:
            return self.odd_rounds
        return () if self.first_round is None or self.last_round is None else tuple(range(self.first_round, self.last_round + 1))

    @property
    def proof_blocks(self) -> tuple[int, ...]:
        """The block number each proof says it proves."""
        return self.odd_proof_blocks if self.odd_proof_blocks is not None else (self.number,) * len(self.proofs)

    @property
    def footer(self) -> BlockFooter | None:
        return BlockFooter(self._hash(0), self._hash(1), self._hash(2)) if self.has_footer else None

    @property
    def root_hashes(self) -> dict[Algorithm, bytes]:
        """Root hash under each candidate algorithm for this HAPI version, most likely first."""
        first = 3 if self.has_footer else 0
        return {algorithm: self._hash(first + index) for index, algorithm in enumerate(self.algorithms)}

    @property
    def hapi(self) -> str:
        return "{}.{}.{}".format(*self.hapi_version)

    @property
    def genesis_previous_hash(self) -> bytes:
        """Block 0's ``previous_block_root_hash``: zeros up to HAPI 0.71, ``SHA384(0x00)`` after."""
        if self.record_file is None and self.hapi_version[:2] <= (0, 71):
            return ZERO_HASH
        return EMPTY_HASH


def link_algorithm(previous: BlockFile, following: BlockFile) -> Algorithm | None:
    """The algorithm under which ``previous``'s root hash is the one ``following``'s footer names
    (``None``: they do not chain, or ``previous`` has no supported algorithm)."""
    if following.footer is None:
        return None
    claimed = following.footer.previous_block_root_hash
    return next((algorithm for algorithm, root in previous.root_hashes.items() if root == claimed), None)


def candidate_algorithms(hapi_version: tuple[int, int, int], *, wrapped_records: bool) -> tuple[Algorithm, ...]:
    """Root hash generations to try, most likely first (reference §3.5 and §5).

    The release that switched A3 to A4 is unknown, so 0.72+ tries both and the chain decides.
    Wrapped record blocks are hashed by A4, the only generation that covers ``record_file``.
    Native blocks before HAPI 0.68 used A0/A1, which are not supported: no candidate.
    """
    major, minor, _ = hapi_version
    if wrapped_records:
        return (Algorithm.A4, Algorithm.A3)
    if major > 0 or minor >= 78:
        return (Algorithm.A4, Algorithm.A3)
    if minor >= 72:
        return (Algorithm.A3, Algorithm.A4)
    if minor >= 68:
        return (Algorithm.A2,)
    return ()


def read_block(data: bytes, *, name: str) -> BlockFile:
    """Decode one block and compute its root hash; ``data`` is already decompressed."""
    with decoding(name, "not a valid block", "The file is corrupted or not a block stream file; fetch it again from its source."):
        return _read_block(data, name)


# The items decoded here, grouped by their one-byte keys; then the other one-byte keys of a
# length-delimited field; every other first byte (a multi-byte key, or a damaged one) lands in the
# last group, whose few items have their key checked one by one.
_DECODED = {ROUND_HEADER: 0, BLOCK_FOOTER: 1, BLOCK_PROOF: 2, RECORD_FILE: 3}
_DECODED_TABLE = key_table({**dict.fromkeys(range(1, 16), 4), **_DECODED}, 5)


def _read_block(data: bytes, name: str) -> BlockFile:
    items = messages.Block.FromString(data).items
    if not items:
        raise ValueError("no block items")
    if item_field_number(items[0]) != BLOCK_HEADER:
        raise ValueError("the first item is not a block_header")
    header = messages.BlockItem.FromString(items[0]).block_header
    version = header.hapi_proto_version
    hapi_version = (version.major, version.minor, version.patch)
    timestamp = messages.Timestamp.FromString(header.block_timestamp)

    round_items, footer_items, proof_items, record_items, _, odd_items = group_by_first_byte(items, _DECODED_TABLE)
    for item in odd_items:
        item_field_number(item)  # a block holds BlockItems only: refuse anything else even without a footer
    rounds = [in_range(messages.BlockItem.FromString(item).round_header.round_number, "round number") for item in round_items]
    footer: BlockFooter | None = None
    for item in footer_items:
        raw = messages.BlockItem.FromString(item).block_footer
        footer = BlockFooter(raw.previous_block_root_hash, raw.root_hash_of_all_block_hashes_tree, raw.start_of_block_state_root_hash)
    proofs: list[str] = []
    proof_blocks: list[int] = []
    for item in proof_items:
        proof = messages.BlockItem.FromString(item).block_proof
        proofs.append(proof.WhichOneof("proof") or ("legacy_sibling_hashes" if proof.legacy_sibling_hashes else "unknown"))
        proof_blocks.append(proof.block)
    record_file: WrappedRecordFile | None = None
    for item in record_items:
        wrapped_file = messages.BlockItem.FromString(item).record_file
        record_file = WrappedRecordFile(
            checked_time(wrapped_file.creation_time.seconds, wrapped_file.creation_time.nanos, "record file creation time"),
            len(wrapped_file.record_file_contents),
            len(wrapped_file.sidecar_file_contents),
        )

    roots: dict[Algorithm, bytes] = {}
    if footer is not None:
        roots = block_root_hashes(
            items,
            candidate_algorithms(hapi_version, wrapped_records=record_file is not None),
            previous=footer.previous_block_root_hash,
            all_previous=footer.root_hash_of_all_block_hashes_tree,
            start_state=footer.start_of_block_state_root_hash,
            timestamp=header.block_timestamp,
        )
    return BlockFile.of(
        number=in_range(header.number, "block number"),
        hapi_version=hapi_version,
        timestamp_ns=checked_time(timestamp.seconds, timestamp.nanos, "block timestamp"),
        rounds=tuple(rounds),
        footer=footer,
        proofs=tuple(proofs),
        proof_blocks=tuple(proof_blocks),
        record_file=record_file,
        item_count=len(items),
        root_hashes=roots,
    )


def read_round_items(data: bytes, *, name: str) -> list[tuple[int, list[bytes]]]:
    """Each round of a block with the exact bytes of its items, from its round header up to the
    next round header or the footer (what a state transition applies for that round)."""
    rounds: list[tuple[int, list[bytes]]] = []
    with decoding(name, "not a valid block"):
        current: list[bytes] | None = None
        for item in messages.Block.FromString(data).items:
            field = item_field_number(item)
            if field == ROUND_HEADER:
                current = [item]
                rounds.append((in_range(messages.BlockItem.FromString(item).round_header.round_number, "round number"), current))
            elif field in (BLOCK_FOOTER, BLOCK_PROOF):
                current = None
            elif current is not None:
                current.append(item)
    return rounds
