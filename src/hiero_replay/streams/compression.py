"""Decompression by file extension, with truncation and corruption reported as typed errors."""

from __future__ import annotations

import gzip
import zlib

import zstandard

from ..errors import CorruptFileError
from .naming import Compression


def decompress(data: bytes, compression: Compression, *, name: str) -> bytes:
    try:
        if compression is Compression.GZIP:
            decompressor = zlib.decompressobj(wbits=31)
            result = decompressor.decompress(data)
            if not decompressor.eof:
                raise EOFError("gzip stream ends early")
            # Rare multi-member files: let gzip walk every member.
            return gzip.decompress(data) if decompressor.unused_data else result
        if compression is Compression.ZSTD:
            decompressor = zstandard.ZstdDecompressor().decompressobj()
            result = decompressor.decompress(data)
            if not decompressor.eof:
                raise EOFError("zstd frame ends early")
            return result
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        raise CorruptFileError(
            f"{name}: cannot decompress ({compression.name.lower()}): {exc}.",
            hint="The file is truncated or corrupted; fetch it again from its source.",
            file=name,
        ) from exc
    return data


def compress(data: bytes, compression: Compression) -> bytes:
    if compression is Compression.GZIP:
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression is Compression.ZSTD:
        return zstandard.ZstdCompressor(write_content_size=True).compress(data)
    return data
