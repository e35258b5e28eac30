"""A local directory as a replay source: plain file reads, no object-store library in between.

The folder is treated as possibly hostile. The walk never follows a directory symlink (``evil -> /``
is not a way to read the machine); a file symlink is used only when it resolves to a regular file
inside the folder; symlinks pointing elsewhere, loops, FIFOs, sockets and devices are listed as
skipped, with the reason, and never opened. Reads refuse what is not a regular file.

A file can also be looked up by name (``probe``: an ``lstat`` of each folder on the way, then of the
file, with the same rules), so that a round range of blocks is found without listing the folder; a
listing from a key leaves out, before any ``stat``, every name that sorts before it.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import MissingInputError, SourceError
from .base import SourceFeatures, SourceObject


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _directly_inside(key: str) -> bool:
    """Is ``key`` a name in the folder itself (no sub-folder, never the folder or its parent)?"""
    return "/" not in key and key not in ("", ".", "..")


def _lstat(path: str, key: str) -> os.stat_result | SourceObject | None:
    """What is at ``path`` (never following a link); ``None`` when nothing is, or why it cannot be examined."""
    try:
        return os.lstat(path)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        return SourceObject(key, 0, skipped=f"cannot be examined ({error.strerror})")


class LocalDirSource:
    kind = "local"
    features = SourceFeatures(cpu_bound_reads=True, positioned_listing=False, read_attempts=1, local=True, probe_by_name=True)
    retries = 0

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.url = str(self.root)
        self._real_root: Path | None = None
        self._real_folders: set[str] = set()  # folders under the root known to be real folders (no link)
        #: Lookups by name so far (``probe``), for the tests that count them.
        self.probes = 0

    def _check_root(self) -> Path:
        try:
            if not self.root.is_dir():
                raise MissingInputError(
                    f"Stream folder {self.root} does not exist or is not a directory.",
                    hint="Check the path given as the stream source.",
                )
            self._real_root = self.root.resolve(strict=True)
        except OSError as error:
            raise MissingInputError(f"Stream folder {self.root} cannot be used: {error.strerror}.", file=str(self.root)) from error
        return self._real_root

    def list(self, start_after: str | None = None) -> Iterator[SourceObject]:
        real_root = self._check_root()
        for obj in self._walk(str(self.root), "", real_root, start_after):
            if start_after is None or obj.key > start_after:
                yield obj

    def probe(self, key: str) -> SourceObject | None:
        """The file at ``key`` looked up by name: an ``lstat`` of each folder on the way (each must
        be a real folder, not a link) and of the file; a link or a special file comes back as a
        listing shows it (used only inside the folder, else skipped). ``None``: nothing there."""
        self.probes += 1
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            return None
        real_root = self._real_root or self._check_root()
        folder = str(self.root)
        for part in parts[:-1]:
            folder = f"{folder}/{part}"
            if folder in self._real_folders:
                continue
            info = _lstat(folder, key)
            if not isinstance(info, os.stat_result):
                return info
            if stat.S_ISLNK(info.st_mode):
                return SourceObject(key, 0, skipped="under a symbolic link to a folder (not followed)")
            if not stat.S_ISDIR(info.st_mode):
                return None
            self._real_folders.add(folder)
        path = f"{folder}/{parts[-1]}"
        info = _lstat(path, key)
        if not isinstance(info, os.stat_result):
            return info
        if stat.S_ISREG(info.st_mode):
            return SourceObject(key, info.st_size)
        if stat.S_ISLNK(info.st_mode):
            return self._linked(path, key, real_root)
        if stat.S_ISDIR(info.st_mode):
            return None
        return SourceObject(key, 0, skipped=_special_kind(info.st_mode))

    def sample(self, folder: str = "", limit: int = 64) -> builtins.list[tuple[str, bool]]:
        """Up to ``limit`` entries of a folder in directory order: one read of the directory, not a listing."""
        if self._real_root is None:
            self._check_root()
        path = f"{self.root}/{folder}" if folder else str(self.root)
        found: builtins.list[tuple[str, bool]] = []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    found.append((entry.name, entry.is_dir(follow_symlinks=False)))
                    if len(found) >= limit:
                        break
        except OSError:
            return []
        return found

    def _walk(self, directory: str, prefix: str, real_root: Path, start_after: str | None = None) -> Iterator[SourceObject]:
        """Names only from the directory (a million ``DirEntry`` objects would be held at once to
        sort them), sorted; from a key, only the names that can sort after it are kept (neither
        ``stat`` nor parsed), then one ``lstat`` per name kept."""
        try:
            if start_after is None:
                names = os.listdir(directory)
            else:  # "/" sorts before "0": every key under a folder sorts before the folder's name + "0"
                with os.scandir(directory) as entries:  # only the names that can sort after start_after are kept
                    names = [entry.name for entry in entries if start_after < prefix + entry.name + "0"]
        except OSError as error:
            raise SourceError(f"Cannot list {directory}: {error.strerror}.", file=directory) from error
        names.sort()
        for name in names:
            key = prefix + name
            path = f"{directory}/{name}"
            try:
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    yield self._linked(path, key, real_root)
                elif stat.S_ISDIR(info.st_mode):
                    yield from self._walk(path, f"{key}/", real_root, start_after)
                elif start_after is not None and key <= start_after:
                    continue
                elif stat.S_ISREG(info.st_mode):
                    yield SourceObject(key, info.st_size)
                else:
                    yield SourceObject(key, 0, skipped=_special_kind(info.st_mode))
            except OSError as error:
                yield SourceObject(key, 0, skipped=f"cannot be examined ({error.strerror})")

    def _linked(self, path: str, key: str, real_root: Path) -> SourceObject:
        """A symlink: used only as a regular file inside the folder; anything else is skipped, with why."""
        try:
            target = Path(path).resolve(strict=True)
            info = target.stat()
        except OSError as error:
            why = "a symbolic link loop" if error.errno == errno.ELOOP else "a dangling symbolic link"
            return SourceObject(key, 0, skipped=why)
        except RuntimeError:  # pathlib reports some loops this way
            return SourceObject(key, 0, skipped="a symbolic link loop")
        if not target.is_relative_to(real_root):
            return SourceObject(key, 0, skipped=f"a symbolic link to {target}, outside the folder (not followed)")
        if stat.S_ISDIR(info.st_mode):
            return SourceObject(key, 0, skipped="a symbolic link to a folder (not followed)")
        if not stat.S_ISREG(info.st_mode):
            return SourceObject(key, 0, skipped=f"a symbolic link to {_special_kind(info.st_mode)}")
        return SourceObject(key, info.st_size)

    def _checked_path(self, key: str) -> Path:
        """The file of ``key``, as a regular file inside the folder (through an inside link at most)."""
        path = self.root / key
        real_root = self._real_root or self._check_root()
        if _directly_inside(key):  # a regular file of the folder itself: one lstat, nothing to resolve
            inside = real_root / key
            with contextlib.suppress(OSError):  # a link or gone: resolving tells
                if stat.S_ISREG(os.lstat(inside).st_mode):
                    return inside
        try:
            target = path.resolve(strict=True)
            info = target.stat()
        except FileNotFoundError as error:
            raise MissingInputError(f"{path} disappeared from the source.", file=key) from error
        except (OSError, RuntimeError) as error:
            raise SourceError(f"Cannot use {path}: {error}.", file=key) from error
        if not target.is_relative_to(real_root) or not stat.S_ISREG(info.st_mode):
            raise SourceError(f"{path} is no longer a regular file inside {self.root}; it is not read.", file=key)
        return target

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        if _directly_inside(key):  # a file of the folder itself: one open, no link followed
            real_root = self._real_root or self._check_root()
            try:
                descriptor = os.open(f"{real_root}/{key}", os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                pass  # a link (used only inside the folder), or gone: the checked path tells
            else:
                with os.fdopen(descriptor, "rb") as handle:
                    if stat.S_ISREG(os.fstat(descriptor).st_mode):
                        return handle.read()
        path = self._checked_path(key)
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(descriptor, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise SourceError(f"{self.root / key} is not a regular file; it is not read.", file=key)
                return handle.read()
        except FileNotFoundError as exc:
            raise MissingInputError(f"{self.root / key} disappeared while it was being read.", file=key) from exc
        except OSError as exc:
            raise SourceError(f"Cannot read {self.root / key}: {exc.strerror}.", file=key) from exc

    def remember(self, key: str, data: bytes) -> None:
        """Local files need no cache."""

    def fetch(self, key: str) -> Path:
        return self._checked_path(key)
