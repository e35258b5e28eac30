"""Is this object a usable stream file? The integrity check a download must pass before it is cached."""

from __future__ import annotations

from ..errors import CorruptFileError
from .blocks import read_block
from .compression import decompress
from .events import read_event_file, read_event_signature
from .naming import FileKind, parse_stream_file_name


def validate_stream_file(key: str, data: bytes, *, limit: int | None = None) -> None:
    """Decompress and decode ``data`` as the format its name says; raise ``CorruptFileError`` if it
    is not one. Objects that are not stream files (state files, markers) pass unchecked.
    ``limit`` caps the decompressed size (``compression.MAX_DECOMPRESSED_BYTES`` by default)."""
    name = parse_stream_file_name(key)
    if name is None:
        return
    content = decompress(data, name.compression, name=key, limit=limit)
    if name.kind is FileKind.BLOCK:
        read_block(content, name=key)
    elif name.kind is FileKind.EVENTS:
        parsed = read_event_file(content, name=key)
        if not parsed.running_hash_ok:
            raise CorruptFileError(f"{key}: its events do not hash to its end running hash (damaged in transit?).", file=key)
    else:
        read_event_signature(content, name=key)
