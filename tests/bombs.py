"""Decompression bombs built without holding their output, and a peak-memory probe, for the bound tests."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from collections.abc import Callable

import zstandard

GIB = 2**30


def gzip_zeros(size: int) -> bytes:
    """A valid one-member gzip of ``size`` zero bytes (a multiple of 1 MiB), built without holding
    them: after a full flush deflate starts afresh, so every further MiB compresses to the same block."""
    mib = bytes(2**20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    crc = 0
    for _ in range(size // len(mib)):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * (size // len(mib)) + b"\x03\x00" + struct.pack("<II", crc, size % 2**32)


def zstd_zeros(size: int, *, declare_size: bool) -> bytes:
    """A zstd frame of ``size`` zero bytes, compressed a MiB at a time."""
    compressor = zstandard.ZstdCompressor(write_content_size=declare_size).compressobj(size=size if declare_size else -1)
    mib = bytes(2**20)
    return b"".join([*(compressor.compress(mib) for _ in range(size // len(mib))), compressor.flush()])


def peak_while(action: Callable[[], object]) -> tuple[Exception | None, int]:
    """What ``action()`` raised, and the peak of memory it allocated meanwhile, in bytes."""
    raised: Exception | None = None
    tracemalloc.start()
    try:
        action()
    except Exception as error:
        raised = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak
