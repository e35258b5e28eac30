"""One run at a time per work directory: an advisory lock the kernel releases if we die."""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import AlreadyRunningError, ConfigError
from .workdir import prepare_work_dir

RUN_LOCK = "lock"
SCHEDULER_LOCK = "schedule.lock"
HISTORY_LOCK = "history.lock"


def is_held(work_dir: Path, name: str) -> bool:
    """Is ``work_dir/name`` locked now? Read from the kernel's table of locks (Linux ``/proc/locks``),
    so that looking takes no lock (a command starting meanwhile never finds it taken by a reader)."""
    try:
        info = os.stat(work_dir / name, follow_symlinks=False)
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    lock_file = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    return any(lock_file in line.split() for line in table.splitlines())


@contextmanager
def work_dir_lock(work_dir: Path, *, name: str = RUN_LOCK, holder: str = "run") -> Iterator[None]:
    """Hold ``work_dir/name`` exclusively; ``AlreadyRunningError`` (exit 9) when someone else does."""
    prepare_work_dir(work_dir)
    path = work_dir / name
    try:  # never through a planted link, never onto something that is not a plain file
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise ConfigError(
            f"The lock file {path} cannot be used ({error.strerror}).", hint="Remove it; it must be a plain file.", file=str(path)
        ) from error
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ConfigError(f"The lock file {path} is not a plain file.", hint="Remove it.", file=str(path))
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(descriptor, 200, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunningError(
                f"Another hiero-replay {holder} is already running in {work_dir} ({owner}).",
                hint="Wait for it to finish, or use another --work-dir.",
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{holder}, pid {os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the lock
