"""Block root hash algorithms A2, A3 and A4 (``reference/stream-formats.md`` §3.5).

All three hash every block item's exact bytes into per-category subtrees and combine the subtree
roots with the footer hashes and the block timestamp. They differ in leaf/node prefixes, in how a
subtree is folded and in the shape of the top tree.
"""

from __future__ import annotations

import hashlib
from enum import Enum
from typing import Iterable, Sequence

HASH_SIZE = 48
ZERO_HASH = bytes(HASH_SIZE)
_LEAF, _SINGLE, _NODE = b"\x00", b"\x01", b"\x02"
#: ``SHA384(0x00)``: the empty subtree of A3/A4 and the genesis previous-block hash from HAPI 0.72 on.
EMPTY_HASH = hashlib.sha384(_LEAF).digest()
#: ``SHA384(b"")``: the padding and empty subtree of A2.
A2_EMPTY_HASH = hashlib.sha384(b"").digest()


class Algorithm(str, Enum):
    A2 = "A2"
    A3 = "A3"
    A4 = "A4"


# Subtree categories, in the order the top trees take them.
CONSENSUS_HEADERS, INPUTS, OUTPUTS, STATE_CHANGES, TRACE = range(5)
EXTENSIONS = range(5, 13)
NOT_HASHED = -1
UNSUPPORTED = -2

# BlockItem field number -> subtree category. Only A4 hashes record_file (BlockHasher decides).
_KNOWN_CATEGORIES = {
    1: OUTPUTS,  # block_header
    2: CONSENSUS_HEADERS,  # event_header
    3: CONSENSUS_HEADERS,  # round_header
    4: INPUTS,  # signed_transaction / event_transaction
    5: OUTPUTS,  # transaction_result
    6: OUTPUTS,  # transaction_output
    7: STATE_CHANGES,  # state_changes
    9: NOT_HASHED,  # block_proof
    10: OUTPUTS,  # record_file
    11: TRACE,  # trace_data
    12: NOT_HASHED,  # block_footer
}
RECORD_FILE_FIELD = 10
# Forward compatibility for unknown fields >= 20: category = field mod 20 (block node rule).
_FUTURE_CATEGORIES = {0: NOT_HASHED, 19: NOT_HASHED, 3: CONSENSUS_HEADERS, 4: INPUTS, 5: OUTPUTS, 6: STATE_CHANGES, 7: TRACE}
_FUTURE_CATEGORIES.update({8 + i: EXTENSIONS[i] for i in range(8)})


def item_category(field_number: int) -> int:
    """The subtree an item belongs to, ``NOT_HASHED``, or ``UNSUPPORTED`` (filtered/redacted items)."""
    if field_number in _KNOWN_CATEGORIES:
        return _KNOWN_CATEGORIES[field_number]
    if field_number >= 20:
        return _FUTURE_CATEGORIES.get(field_number % 20, UNSUPPORTED)
    return UNSUPPORTED


def sha384(*parts: bytes) -> bytes:
    digest = hashlib.sha384()
    for part in parts:
        digest.update(part)
    return digest.digest()


def leaf_hash(data: bytes) -> bytes:
    return sha384(_LEAF, data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha384(_NODE, left, right)


class StreamingTree:
    """The A3/A4 streaming binary fold: no padding, pairs merged as soon as they are complete."""

    __slots__ = ("_stack", "_count")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self._count = 0

    def add_hash(self, value: bytes) -> None:
        stack = self._stack
        stack.append(value)
        merged = self._count
        while merged & 1:
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
            merged >>= 1
        self._count += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_HASH
        result = self._stack[-1]
        for value in reversed(self._stack[:-1]):
            result = node_hash(value, result)
        return result


def fold_hashes(values: Iterable[bytes]) -> bytes:
    tree = StreamingTree()
    for value in values:
        tree.add_hash(value)
    return tree.root()


def _a2_perfect_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return A2_EMPTY_HASH
    level = list(leaves)
    width = 1
    while width < len(level):
        width *= 2
    level.extend([A2_EMPTY_HASH] * (width - len(level)))
    while len(level) > 1:
        level = [sha384(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _a3_perfect8(values: Sequence[bytes]) -> bytes:
    level = list(values)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class BlockHasher:
    """Feeds a block's items once and yields its root hash under one or more algorithms.

    A3 and A4 share leaves (A4 also hashes ``record_file`` into the outputs), so asking for both
    costs one pass; A2 has its own unprefixed leaves.
    """

    def __init__(self, algorithms: Sequence[Algorithm]) -> None:
        self.algorithms = tuple(algorithms)
        self._unprefixed = Algorithm.A2 in self.algorithms
        self._prefixed = any(a is not Algorithm.A2 for a in self.algorithms)
        self._a2_leaves: list[list[bytes]] = [[] for _ in range(5)]
        # Prefixed leaves per category; outputs keep a flag marking record-file leaves (A4 only).
        self._leaves: list[list[bytes]] = [[] for _ in range(13)]
        self._outputs: list[tuple[bytes, bool]] = []

    def add_item(self, field_number: int, item: bytes) -> None:
        """Add one item's exact bytes; raise ``ValueError`` for items no algorithm can hash."""
        category = item_category(field_number)
        if category == NOT_HASHED:
            return
        if category == UNSUPPORTED:
            raise ValueError(f"block item field {field_number} (filtered or redacted) cannot be hashed")
        is_record_file = field_number == RECORD_FILE_FIELD
        if self._unprefixed and category < 5 and not is_record_file:
            self._a2_leaves[category].append(sha384(item))
        if self._prefixed:
            leaf = leaf_hash(item)
            if category == OUTPUTS:
                self._outputs.append((leaf, is_record_file))
            else:
                self._leaves[category].append(leaf)

    def roots(self, *, previous: bytes, all_previous: bytes, start_state: bytes, timestamp: bytes) -> dict[Algorithm, bytes]:
        """Root hash per algorithm; ``timestamp`` is the header's serialized ``block_timestamp``."""
        roots: dict[Algorithm, bytes] = {}
        for algorithm in self.algorithms:
            if algorithm is Algorithm.A2:
                subtrees = [_a2_perfect_root(leaves) for leaves in self._a2_leaves]
                top = _a2_perfect_root([previous, all_previous, start_state, *subtrees])
                zeros = _a2_perfect_root([ZERO_HASH] * 8)
                roots[algorithm] = sha384(sha384(timestamp), sha384(top, zeros))
                continue
            with_record_files = algorithm is Algorithm.A4
            subtrees = [fold_hashes(leaves) for leaves in self._leaves]
            subtrees[OUTPUTS] = fold_hashes(leaf for leaf, is_record in self._outputs if with_record_files or not is_record)
            if algorithm is Algorithm.A3:
                top = _a3_perfect8([previous, all_previous, start_state or ZERO_HASH, *subtrees[:5]])
                roots[algorithm] = node_hash(leaf_hash(timestamp), sha384(_SINGLE, top))
            else:
                top = fold_hashes([previous, all_previous, start_state or EMPTY_HASH, *subtrees])
                roots[algorithm] = node_hash(leaf_hash(timestamp), top)
        return roots
