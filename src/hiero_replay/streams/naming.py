"""Stream file names: what a key or path says about the file, before any byte is read.

Event files are named after the consensus time of their first event; block files after their
block number, either flat (36 or 19 digits, or shorter fixture names) or nested in the bucket layout
``AAAA/BBBB/CCCC/DDDD/EEE`` (19 digits split 4/4/4/4/3). Marker files (``.mf``), pending-proof files
(``.pnd*``) and anything else are not stream files. Ordering always comes from the parsed number or
time, never from the string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .timestamps import format_consensus_time, parse_consensus_time


class Compression(str, Enum):
    NONE = ""
    GZIP = ".gz"
    ZSTD = ".zstd"


class FileKind(str, Enum):
    BLOCK = "block"
    EVENTS = "events"
    EVENT_SIGNATURE = "event-signature"


@dataclass(frozen=True, slots=True)
class StreamFileName:
    """A recognised stream file: ``key`` is its path relative to the source root, with ``/``."""

    key: str
    kind: FileKind
    compression: Compression
    block_number: int | None = None
    consensus_time_ns: int | None = None
    #: Digits of the name's fraction: a 6-digit name only pins the time to the microsecond.
    fraction_digits: int = 9

    @property
    def sort_key(self) -> tuple[int, int]:
        if self.kind is FileKind.BLOCK:
            assert self.block_number is not None
            return (self.block_number, 0)
        assert self.consensus_time_ns is not None
        return (self.consensus_time_ns, 0 if self.kind is FileKind.EVENTS else 1)

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


# Whole names of ASCII digits only: ``\d`` alone also matches other scripts' digits, and ``$`` a
# trailing newline, which would give names no node writes a number or a time.
_EVENT_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}\.(\d{1,9})Z)\.(evts|evts\.gz|evts_sig)", re.ASCII)
_BLOCK_NAME = re.compile(r"(\d{1,36})\.blk(\.gz|\.zstd)?", re.ASCII)
_NESTED_DIR = re.compile(r"\d{4}", re.ASCII)


def parse_stream_file_name(key: str) -> StreamFileName | None:
    """Recognise a stream file by its key; ``None`` for markers, pending files and anything else,
    including names shaped like times that are not real ones (``2021-02-30T25_61_61.0Z.evts``)."""
    parts = key.split("/")
    name = parts[-1]
    event = _EVENT_NAME.fullmatch(name)
    if event:
        stamp, fraction, extension = event.groups()
        kind = FileKind.EVENT_SIGNATURE if extension == "evts_sig" else FileKind.EVENTS
        compression = Compression.GZIP if extension.endswith(".gz") else Compression.NONE
        try:
            time_ns = parse_consensus_time(stamp.replace("_", ":"))
        except ValueError:
            return None
        return StreamFileName(key, kind, compression, consensus_time_ns=time_ns, fraction_digits=len(fraction))
    block = _BLOCK_NAME.fullmatch(name)
    if block:
        digits, extension = block.groups()
        compression = Compression(extension or "")
        if _is_nested(parts, digits):
            digits = "".join(parts[-5:-1]) + digits
        return StreamFileName(key, FileKind.BLOCK, compression, block_number=int(digits))
    return None


def _is_nested(parts: list[str], digits: str) -> bool:
    parents = parts[-5:-1]
    return len(digits) == 3 and len(parents) == 4 and all(_NESTED_DIR.fullmatch(p) for p in parents)


def block_key_positioner(example: StreamFileName) -> Callable[[int], str | None] | None:
    """For a folder of blocks named like ``example``: a function giving, for a block number, a key
    that sorts after the keys of every lower block and before that block's own (``None`` past the
    naming's width). ``None`` when the names are not fixed-width, so key order is not number order."""
    parts = example.key.split("/")
    match = _BLOCK_NAME.fullmatch(parts[-1])
    assert match is not None and example.kind is FileKind.BLOCK
    digits = match.group(1)
    if _is_nested(parts, digits):
        folder, width = parts[:-5], 19
    elif len(digits) in (19, 36):
        folder, width = parts[:-1], len(digits)
    else:
        return None
    nested = len(digits) == 3

    def position(number: int) -> str | None:
        if number >= 10**width:
            return None
        stem = nested_block_key(number, Compression.NONE).removesuffix(".blk") if nested else f"{number:0{width}d}"
        return "/".join([*folder, stem])

    return position


def block_file_name(number: int, compression: Compression = Compression.GZIP, *, digits: int = 36) -> str:
    """The canonical flat name: ``%036d.blk.gz`` (consensus node) or 19 digits (block node)."""
    return f"{number:0{digits}d}.blk{compression.value}"


def nested_block_key(number: int, compression: Compression = Compression.ZSTD) -> str:
    """The bucket layout ``AAAA/BBBB/CCCC/DDDD/EEE.blk.zstd`` of a 19-digit block number."""
    d = f"{number:019d}"
    return f"{d[0:4]}/{d[4:8]}/{d[8:12]}/{d[12:16]}/{d[16:19]}.blk{compression.value}"


def event_file_name(consensus_time_ns: int, compression: Compression = Compression.NONE) -> str:
    """``YYYY-MM-DDTHH_MM_SS.nnnnnnnnnZ.evts``: the first event's consensus time, 9-digit fraction."""
    return format_consensus_time(consensus_time_ns).replace(":", "_") + ".evts" + compression.value


def signed_key(name: StreamFileName) -> str:
    """What pairs an event file with its signature file: its key without ``.gz`` and ``_sig``."""
    return name.key.removesuffix(".gz").removesuffix("_sig")
