"""Files replaced atomically: written to a private temporary file beside the target (random name,
``O_EXCL | O_NOFOLLOW``, mode 0600, as ``tempfile.mkstemp`` creates it), flushed, then renamed over
the target. A planted symlink or a guessed temporary name can never redirect the write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes | str, *, durable: bool = False) -> None:
    """Replace ``path`` with ``data``; ``durable`` also syncs the file and its folder (a power loss
    leaves the old file or the new one)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if durable:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
