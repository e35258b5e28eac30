"""The orchestrator's own small files, handled so that a hostile folder cannot redirect or stall them.

Writes replace a file atomically: a private temporary file beside the target (random name,
``O_EXCL | O_NOFOLLOW``, mode 0600, as ``tempfile.mkstemp`` creates it), then a rename over the
target; a planted symlink or a guessed temporary name can never redirect the write. Reads open only
regular files, never through a symlink and never blocking (a FIFO planted under the name is refused).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
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


class NotARegularFile(OSError):
    """The name is a symlink, a folder or a special file (FIFO, socket, device)."""


def read_regular_file(path: Path, limit: int = 16 * 2**20) -> bytes:
    """The bytes of ``path`` (at most ``limit``) if it is a regular file; ``NotARegularFile`` for a
    symlink or special file, ``FileNotFoundError`` when absent. Never blocks on a FIFO."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "a symbolic link", str(path)) from error
        raise
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotARegularFile(errno.EINVAL, "a folder or a special file (FIFO, socket, device)", str(path))
        chunks = []
        remaining = limit
        while remaining > 0 and (chunk := os.read(descriptor, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)
