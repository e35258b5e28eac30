"""The one guard every reader decodes under: damaged or hostile bytes end in ``CorruptFileError``.

Decoding arbitrary bytes can fail in many ways (a short read, an unpack past the end, a protobuf
``DecodeError``, a value out of range). Each reader runs inside ``decoding`` so that whatever the
input, the caller sees the typed error (exit 7) naming the file, never a stray built-in exception.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager

from google.protobuf.message import DecodeError

from ..errors import CorruptFileError

#: What malformed input makes decoding raise. ``TypeError`` and ``AttributeError`` are left out on
#: purpose: they are mistakes in the code, not in the file.
MALFORMED_INPUT: tuple[type[BaseException], ...] = (
    EOFError,
    ValueError,  # includes UnicodeDecodeError
    IndexError,
    KeyError,
    OverflowError,
    RecursionError,
    struct.error,
    DecodeError,
)

#: Java ``long`` (block numbers, rounds): a larger value cannot come from a node and would not fit
#: the run store's SQLite integers either.
MAX_LONG = 2**63 - 1


@contextmanager
def decoding(name: str, what: str, hint: str = "The file is truncated or corrupted; fetch it again from its source.") -> Iterator[None]:
    """Turn ``MALFORMED_INPUT`` raised inside into ``CorruptFileError("<name>: <what>: <reason>.")``."""
    try:
        yield
    except MALFORMED_INPUT as exc:
        reason = str(exc) or type(exc).__name__
        raise CorruptFileError(f"{name}: {what}: {reason}.", hint=hint, file=name) from exc


def in_range(value: int, what: str, *, low: int = 0, high: int = MAX_LONG) -> int:
    """``value`` if ``low <= value <= high``, else ``ValueError`` naming ``what``."""
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is out of range [{low}, {high}]")
    return value
