"""Block root hash algorithms A2, A3 and A4 (``reference/stream-formats.md`` §3.5).

All three hash every block item's exact bytes into per-category subtrees and combine the subtree
roots with the footer hashes and the block timestamp. They differ in leaf/node prefixes, in how a
subtree is folded and in the shape of the top tree.

A block holds hundreds of small items, so the per-item work is kept inside C: leaves and tree
levels are hashed with ``map`` over ``hashlib`` rather than one Python call per hash.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from enum import Enum

HASH_SIZE = 48
ZERO_HASH = bytes(HASH_SIZE)
_LEAF, _SINGLE, _NODE = b"\x00", b"\x01", b"\x02"
#: ``SHA384(0x00)``: the empty subtree of A3/A4 and the genesis previous-block hash from HAPI 0.72 on.
EMPTY_HASH = hashlib.sha384(_LEAF).digest()
#: ``SHA384(b"")``: the padding and empty subtree of A2.
A2_EMPTY_HASH = hashlib.sha384(b"").digest()

_sha384 = hashlib.sha384
# Tree nodes hash 97 bytes, where CPython's built-in SHA-384 has less per-call overhead than OpenSSL.
try:
    from _sha2 import sha384 as _node_sha384  # type: ignore[import-not-found]  # CPython 3.12+'s private module, no stubs
except ImportError:
    try:
        from _sha512 import sha384 as _node_sha384  # type: ignore[import-not-found]  # CPython 3.11's private module, no stubs
    except ImportError:  # pragma: no cover - builds without the built-in hashes
        _node_sha384 = hashlib.sha384
_digest = operator.methodcaller("digest")


class Algorithm(str, Enum):
    A2 = "A2"
    A3 = "A3"
    A4 = "A4"


# Subtree categories, in the order the top trees take them.
CONSENSUS_HEADERS, INPUTS, OUTPUTS, STATE_CHANGES, TRACE = range(5)
EXTENSIONS = range(5, 13)
NOT_HASHED = -1
UNSUPPORTED = -2

RECORD_FILE_FIELD = 10
# BlockItem field number -> subtree category. Only A4 hashes record_file.
_KNOWN_CATEGORIES = {
    1: OUTPUTS,  # block_header
    2: CONSENSUS_HEADERS,  # event_header
    3: CONSENSUS_HEADERS,  # round_header
    4: INPUTS,  # signed_transaction / event_transaction
    5: OUTPUTS,  # transaction_result
    6: OUTPUTS,  # transaction_output
    7: STATE_CHANGES,  # state_changes
    9: NOT_HASHED,  # block_proof
    RECORD_FILE_FIELD: OUTPUTS,  # record_file
    11: TRACE,  # trace_data
    12: NOT_HASHED,  # block_footer
}
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
    return _sha384(b"".join(parts)).digest()


def leaf_hash(data: bytes) -> bytes:
    return _sha384(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    digest: bytes = _node_sha384(_NODE + left + right).digest()
    return digest


def _python_hash_each(prefix: bytes, values: Sequence[bytes]) -> list[bytes]:
    return list(map(_digest, map(_sha384, map(prefix.__add__, values))))


def _python_pair_level(prefix: bytes, level: Sequence[bytes]) -> list[bytes]:
    return list(map(_digest, map(_node_sha384, map(bytes.__add__, map(prefix.__add__, level[0::2]), level[1::2]))))


def _python_group(values: Sequence[bytes], table: bytes) -> list[list[bytes]]:
    groups: list[list[bytes]] = [[] for _ in range(max(table) + 1)]
    for value in values:
        groups[table[value[0]]].append(value)
    return groups


def _python_fold(prefix: bytes, values: Sequence[bytes]) -> bytes:
    """The streaming fold of ``values`` (at least one): streaming leaves in pairs as soon as they
    complete leaves one perfect subtree per set bit of the count, largest first; the root folds
    those right to left, each pair hashed after ``prefix``."""
    count = len(values)
    roots = []
    start = 0
    for bit in reversed(range(count.bit_length())):
        size = 1 << bit
        if count & size:
            level = values[start : start + size]
            while len(level) > 1:
                level = _python_pair_level(prefix, level)
            roots.append(level[0])
            start += size
    result = roots[-1]
    for value in reversed(roots[:-1]):
        result = _node_sha384(prefix + value + result).digest()
    return result


# The C accelerators (setup.py) give the same results without Python's per-item cost and hashlib's
# per-hash set-up, and hash without the GIL; without a compiler the pure-Python versions are used.
try:
    from ._accel import each as _accel_each, fold as _accel_fold, group as _accel_group

    _hash_each, _fold, group_by_first_byte = _accel_each, _accel_fold, _accel_group
except ImportError:  # pragma: no cover - depends on the build
    _hash_each, _fold, group_by_first_byte = _python_hash_each, _python_fold, _python_group


def _fold_any(prefix: bytes, values: Sequence[bytes]) -> bytes:
    """``_fold`` of values of any length: a footer's hashes are taken as read, and a damaged one
    may be short (the C fold takes 48-byte hashes only)."""
    return _fold(prefix, values) if all(len(value) == HASH_SIZE for value in values) else _python_fold(prefix, values)


def fold_hashes(values: Sequence[bytes]) -> bytes:
    """The A3/A4 streaming fold of 48-byte hashes, computed in one go (pairs hashed as ``node``).
    Empty -> ``EMPTY``."""
    return _fold(_NODE, values) if values else EMPTY_HASH


class StreamingTree:
    """The same fold, fed one hash at a time (the root of all previous block hashes grows per block)."""

    __slots__ = ("_count", "_stack")

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


def _a2_root(values: Sequence[bytes]) -> bytes:
    """A2 subtree: a perfect tree padded with ``SHA384(b"")``, nodes ``SHA384(left || right)``."""
    if not values:
        return A2_EMPTY_HASH
    width = 1 << (len(values) - 1).bit_length()
    return _fold_any(b"", [*values, *[A2_EMPTY_HASH] * (width - len(values))])  # one perfect tree


def item_field_number(item: bytes) -> int:
    """The field number of a BlockItem's single oneof field: the varint key of its first field.

    Every BlockItem field is a message or bytes, so any other wire type means a damaged item.
    """
    key = shift = 0
    for byte in item[:5]:
        key |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if key & 0x7 != 2:
                raise ValueError(f"block item key {key:#x} is not a length-delimited field")
            if shift and not byte:
                # An overlong key (0x9a 0x00 for 0x1a) would be one item to the readers, which group
                # items by their first byte, and another to the hash: no writer produces one.
                raise ValueError(f"block item key {item[: shift // 7 + 1].hex()} is not minimally encoded")
            return key >> 3
        shift += 7
    raise ValueError("block item has no valid field key")


def key_table(groups: dict[int, int], default: int) -> bytes:
    """A ``group_by_first_byte`` table: BlockItem field number -> group, by the item's one-byte key.

    Every known item is a length-delimited field below 16, so its whole key is its first byte.
    """
    table = bytearray([default]) * 256
    for field, group in groups.items():
        table[(field << 3) | 2] = group
    return bytes(table)


_HASH_GROUPS = 13  # the categories; then one group for items not hashed, one for the rest
_NOT_HASHED_GROUP, _OTHER_GROUP = _HASH_GROUPS, _HASH_GROUPS + 1
# Record files (wrapped record blocks) take the ordered path: only A4 hashes them, in item order.
_CATEGORY_TABLE = key_table(
    {
        **{field: category if category >= 0 else _NOT_HASHED_GROUP for field, category in _KNOWN_CATEGORIES.items()},
        RECORD_FILE_FIELD: _OTHER_GROUP,
    },
    _OTHER_GROUP,
)


def _ordered_buckets(items: Sequence[bytes], *, with_record_files: bool) -> list[list[bytes]]:
    """Items per subtree category, classified one by one: record files, future or damaged keys."""
    buckets: list[list[bytes]] = [[] for _ in range(_HASH_GROUPS)]
    for item in items:
        field = item_field_number(item)
        category = item_category(field)
        if category == UNSUPPORTED:
            raise ValueError(f"block item field {field} (filtered or redacted) cannot be hashed")
        if category >= 0 and (with_record_files or field != RECORD_FILE_FIELD):
            buckets[category].append(item)
    return buckets


def block_root_hashes(
    items: Sequence[bytes],
    algorithms: Sequence[Algorithm],
    *,
    previous: bytes,
    all_previous: bytes,
    start_state: bytes,
    timestamp: bytes,
) -> dict[Algorithm, bytes]:
    """A block's root hash under each algorithm, from its items' exact bytes.

    ``timestamp`` is the header's serialized ``block_timestamp``. Raises ``ValueError`` for items
    that no algorithm can hash (filtered or redacted streams).
    """
    groups = group_by_first_byte(items, _CATEGORY_TABLE)
    ordered = bool(groups[_OTHER_GROUP])

    def buckets(with_record_files: bool) -> list[list[bytes]]:
        return _ordered_buckets(items, with_record_files=with_record_files) if ordered else groups[:_HASH_GROUPS]

    subtrees_by_view: dict[bool, list[bytes]] = {}

    def prefixed_subtrees(with_record_files: bool) -> list[bytes]:
        view = with_record_files if ordered else True  # without record files both views are one
        if view not in subtrees_by_view:
            subtrees_by_view[view] = [fold_hashes(_hash_each(_LEAF, b)) if b else EMPTY_HASH for b in buckets(with_record_files)]
        return subtrees_by_view[view]

    roots: dict[Algorithm, bytes] = {}
    for algorithm in algorithms:
        if algorithm is Algorithm.A2:
            subtrees = [_a2_root(_hash_each(b"", bucket)) for bucket in buckets(False)[:5]]
            top = _a2_root([previous, all_previous, start_state, *subtrees])
            zeros = _a2_root([ZERO_HASH] * 8)
            roots[algorithm] = sha384(sha384(timestamp), sha384(top, zeros))
        elif algorithm is Algorithm.A3:  # A3 does not hash record files
            top = _fold_any(_NODE, [previous, all_previous, start_state or ZERO_HASH, *prefixed_subtrees(False)[:5]])  # 8: perfect
            roots[algorithm] = node_hash(leaf_hash(timestamp), sha384(_SINGLE, top))
        else:
            top = _fold_any(_NODE, [previous, all_previous, start_state or EMPTY_HASH, *prefixed_subtrees(True)])
            roots[algorithm] = node_hash(leaf_hash(timestamp), top)
    return roots
