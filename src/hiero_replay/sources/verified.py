"""Read an object and check it; where the source can, a damaged copy is fetched again. A copy
verified once is known by its checksum from then on: a later copy must be the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from zlib_ng import zlib_ng

from ..errors import CorruptFileError
from .base import ReplaySource

T = TypeVar("T")

#: Bytes read at a time to checksum a file.
CHUNK = 1 << 20


def checksum(data: bytes) -> int:
    """The checksum a verified copy is known by: zlib-ng's CRC-32 (the same value as zlib's, 14
    times faster)."""
    return zlib_ng.crc32(data)


def file_checksum(path: Path) -> int:
    """``checksum`` of a file's bytes, read a chunk at a time."""
    value = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            value = zlib_ng.crc32(chunk, value)
    return value


def not_the_verified_copy(where: str, key: str, *, since: str, hint: str) -> CorruptFileError:
    """A copy whose checksum is not that of the copy verified ``since``: it changed, or was damaged."""
    return CorruptFileError(f"{where} is not the copy verified {since}: it changed, or was damaged.", hint=hint, file=key)


def _never(_: object) -> bool:
    return False


def read_verified(source: ReplaySource, key: str, decode: Callable[[bytes], T], damaged: Callable[[T], bool] = _never) -> T:
    """``decode`` the object's bytes (it raises ``CorruptFileError`` when they are not its format).

    A copy that does not decode, or that ``damaged`` rejects (a hash that does not match: damaged
    in transit), is read again, fresh, while the source's ``read_attempts`` last; only a good copy
    is remembered. A copy still damaged after the last attempt is returned for the caller to report."""
    for attempt in range(1, source.features.read_attempts + 1):
        data = source.read(key, fresh=attempt > 1)
        try:
            result = decode(data)
        except CorruptFileError:
            if attempt == source.features.read_attempts:
                raise
            continue
        if not damaged(result):
            source.remember(key, data)
            return result
        if attempt == source.features.read_attempts:
            return result
    raise AssertionError("read_attempts must be at least 1")
