"""Decompression by file extension, with truncation, corruption and decompression bombs reported as
typed errors.

Output is produced incrementally and counted, so a small hostile file (1 MiB of gzip that inflates
to 1 GiB of zeros, a zstd frame that inflates 30,000 times) ends in ``CorruptFileError`` after at
most the bound has been allocated, never after the whole expansion. The bound for one file is
``min(limit, max(RATIO_FLOOR_BYTES, MAX_COMPRESSION_RATIO * compressed size))``.
"""

from __future__ import annotations

import gzip
import io
import re
from typing import cast

import zstandard
from zlib_ng import zlib_ng

from ..errors import CorruptFileError
from .naming import Compression

#: The largest decompressed stream file accepted (config: ``limits.max_decompressed_bytes``). The
#: largest sample block is 407 KB and the largest event file 4 MB: this is hundreds of times more,
#: and still what a preflight worker can afford to hold.
MAX_DECOMPRESSED_BYTES = 256 * 2**20
#: The samples compress 1.1 to 6 times and deflate cannot expand more than ~1032 times, while a
#: zstd frame of zeros expands ~30,000 times: past the floor, such a file is refused long before
#: it reaches the size bound.
MAX_COMPRESSION_RATIO = 1000
#: Output below this size is never refused for its ratio (small files of repetitive items).
RATIO_FLOOR_BYTES = 16 * 2**20

# Output produced per step: zlib stops at exactly this much.
_CHUNK = 2**20
# Input fed per step, so that what a step leaves unconsumed (copied by zlib and zstandard) stays
# small: the work stays linear in the file size however many members or frames it holds.
_PIECE = 2**16
# A zstd frame without a declared size is fed in slices small enough that one step cannot outrun
# the bound by much: a 4-byte RLE block yields 128 KiB, so one slice yields at most 4 MiB.
_ZSTD_SLICE = 128
_ZSTD_MAX_HEADER = 18
_GZIP_MAGIC = b"\x1f\x8b"
_NOT_ZERO = re.compile(b"[^\x00]")
_ZSTD_MAX_WINDOW = 2**27  # libzstd's own default limit, made explicit
# zlib-ng's stubs declare its error class as an instance
_ZLIB_NG_ERROR = cast(type[Exception], zlib_ng.error)


class _TooLarge(Exception):
    pass


class _Configured:
    """This process's bound (``limits.max_decompressed_bytes``, set as settings load, and handed to
    worker processes as they start)."""

    limit = MAX_DECOMPRESSED_BYTES


def set_decompression_limit(limit: int) -> None:
    _Configured.limit = limit


def decompression_limit() -> int:
    return _Configured.limit


def output_bound(compressed_size: int, limit: int | None = None) -> int:
    """The most bytes one compressed file of ``compressed_size`` bytes may decompress to."""
    limit = _Configured.limit if limit is None else limit
    return min(limit, max(RATIO_FLOOR_BYTES, MAX_COMPRESSION_RATIO * compressed_size))


def check_stored_size(size: int, *, name: str) -> None:
    """Refuse, before it is read, a file stored larger than a stream file may decompress to
    (``limits.max_decompressed_bytes``): a plain file's content is its bytes, and a compressed file
    that large is no real stream file either (they compress 1.1 to 6 times)."""
    if size > _Configured.limit:
        raise CorruptFileError(
            f"{name}: {size:,} bytes, more than a stream file may hold ({_Configured.limit:,} bytes, "
            "limits.max_decompressed_bytes); it is not read.",
            hint="No real stream file comes near the default: the file is damaged or hostile; fetch it again from its source "
            "(or, for a genuine file this large, raise limits.max_decompressed_bytes).",
            file=name,
        )


def decompress(data: bytes, compression: Compression, *, name: str, limit: int | None = None) -> bytes:
    """``data`` decompressed as ``compression`` says (``NONE``: returned as is).

    ``limit`` caps the decompressed size (default: this process's, ``limits.max_decompressed_bytes``);
    the ratio guard applies as well. Anything that is not one complete, intact stream raises ``CorruptFileError``.
    """
    if compression is Compression.NONE:
        return data
    bound = output_bound(len(data), limit)
    try:
        if compression is Compression.GZIP:
            return _gunzip(data, bound)
        return _unzstd(data, bound)
    except _TooLarge as exc:
        cap = _Configured.limit if limit is None else limit
        raise CorruptFileError(
            f"{name}: decompresses ({compression.name.lower()}) to more than {bound:,} bytes from {len(data):,} "
            f"(at most {MAX_COMPRESSION_RATIO} times the compressed size past {RATIO_FLOOR_BYTES:,} bytes, "
            f"and never more than {cap:,}, limits.max_decompressed_bytes): {exc}.",
            hint="No real stream file comes near the default: the file is damaged or hostile; fetch it again from its source "
            "(or, for a genuine file this large, raise limits.max_decompressed_bytes).",
            file=name,
        ) from None
    except (OSError, EOFError, ValueError, _ZLIB_NG_ERROR, zstandard.ZstdError) as exc:
        raise CorruptFileError(
            f"{name}: cannot decompress ({compression.name.lower()}): {exc}.",
            hint="The file is truncated or corrupted; fetch it again from its source.",
            file=name,
        ) from exc


class _Output:
    """Decompressed chunks, counted against the bound; one chunk is returned without a copy."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.size = 0
        self._first = b""
        self._buffer: io.BytesIO | None = None

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.bound:
            raise _TooLarge(f"stopped after {self.size:,} bytes")
        if self._buffer is None and not self._first:
            self._first = chunk
            return
        if self._buffer is None:
            self._buffer = io.BytesIO()
            self._buffer.write(self._first)
            self._first = b""
        self._buffer.write(chunk)

    def value(self) -> bytes:
        # BytesIO.getvalue() hands over its buffer without copying it.
        return self._first if self._buffer is None else self._buffer.getvalue()


def _gunzip(data: bytes, bound: int) -> bytes:
    """Every gzip member in turn (zero padding between and after members is allowed, as ``gzip`` does).

    zlib-ng inflates the same streams as zlib, about a third faster (0.45 against 0.29 CPU-s for the
    2,000 blocks of ``bench/fetch.py``): this is most of the CPU a preflight spends per block."""
    output = _Output(bound)
    view = memoryview(data)
    position = 0
    while True:
        decompressor = zlib_ng.decompressobj(wbits=31)
        while not decompressor.eof:
            # Input not consumed (output full, or past the member's end) is fed again from ``position``.
            # Past the member's end it is ``unused_data`` alone: a member that ends in a step after
            # one that filled the output leaves the same bytes in ``unconsumed_tail`` too (zlib and
            # zlib-ng alike), and counting both moved ``position`` back into the member.
            piece = view[position : position + _PIECE]
            chunk = decompressor.decompress(piece, _CHUNK)
            output.add(chunk)
            left = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            position += len(piece) - len(left)
            if not piece and not chunk:
                raise EOFError("gzip stream ends early")
        padding_end = _NOT_ZERO.search(data, position)
        if padding_end is None:
            return output.value()
        position = padding_end.start()
        if data[position : position + 2] != _GZIP_MAGIC:
            raise ValueError(f"the {len(data) - position:,} bytes after a complete gzip member are not gzip")


def _unzstd(data: bytes, bound: int) -> bytes:
    """Every zstd frame in turn. A frame that declares its size is refused before it is decoded if
    that size is too large (libzstd stops a frame that outgrows its declared size); a frame without
    a size is fed in small slices so its output is counted as it grows."""
    output = _Output(bound)
    dctx = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
    view = memoryview(data)
    position = 0
    while True:
        try:
            declared = zstandard.get_frame_parameters(view[position : position + _ZSTD_MAX_HEADER]).content_size
        except zstandard.ZstdError as exc:
            if not position:
                raise
            raise ValueError(f"the {len(data) - position:,} bytes after a complete zstd frame are not a frame ({exc})") from exc
        sized = declared != zstandard.CONTENTSIZE_UNKNOWN
        if sized and output.size + declared > bound:
            raise _TooLarge(f"a frame declares {declared:,} bytes")
        piece_size = _PIECE if sized else _ZSTD_SLICE
        decompressor = dctx.decompressobj()
        while not decompressor.eof:
            piece = view[position : position + piece_size]
            if not piece:
                raise EOFError("zstd frame ends early")
            output.add(decompressor.decompress(piece))
            position += len(piece) - len(decompressor.unused_data)
        if position == len(data):
            return output.value()


def compress(data: bytes, compression: Compression) -> bytes:
    if compression is Compression.GZIP:
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression is Compression.ZSTD:
        return zstandard.ZstdCompressor(write_content_size=True).compress(data)
    return data
