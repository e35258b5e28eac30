"""Read an object and check it; where the source can, a damaged copy is fetched again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..errors import CorruptFileError
from .base import ReplaySource

T = TypeVar("T")


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
