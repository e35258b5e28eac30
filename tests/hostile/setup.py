"""Hostile and careless inputs for ``hiero-replay`` (issue 13): the set-up every case works in.

Each ``Case`` builds its hostile set-up under the test's own folder and returns the command line;
``tests/test_hostile_inputs.py`` runs it as a subprocess and checks the invariants every case shares
(documented exit code, no traceback, the offending thing named, nothing changed outside the work
dir and ``--out``, nothing promoted on failure, no hang). This module holds the constants, the
``Setup`` a builder works in, the ``Case`` a row of the table describes, the small tools builders
share and ``snapshot``, which hashes what must not change; the builders are in the other modules of
this package.

Builders only use the CLI contract (flags, files, folders), the project's stream writers and the
synthetic history, never the orchestrator's internals: the source is being restructured.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from hiero_replay.simulate.history import History
from hiero_replay.streams.naming import Compression, block_file_name

CLI = [sys.executable, "-m", "hiero_replay"]
#: The documented exit codes (README, issue 13): anything else is a failure in itself.
DOCUMENTED_EXIT_CODES = {0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 70}
DEFAULT_TIMEOUT = 60.0
#: Cases that hang today (a FIFO opened for reading, a walk of the whole machine) use a shorter
#: limit: a correct implementation answers them in well under a second of work.
HANG_TIMEOUT = 10.0
WRONG_HASH = "ab" * 48
NODE = "3"
START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z, as the synthetic history
#: A consensus time in the year ~10^11 (still inside a signed 64-bit count of seconds).
YEAR_1E11_NS = 100_000_000_000 * 31_556_952 * 1_000_000_000


# --------------------------------------------------------------------------------------------
# The set-up every builder works in


@dataclass
class Shared:
    """Module-wide material: the synthetic history (never changed by a case; hashed around each)."""

    history: History


@dataclass
class Setup:
    tmp: Path
    shared: Shared
    #: This case's own copy of the history (cases may damage it).
    events: Path
    blocks: Path
    bootstrap: Path
    expected: Path
    work: Path
    out: Path
    victim: Path
    env: dict[str, str]
    #: Further inputs (folders or files) whose content must not change.
    inputs: list[Path] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: Set by builders that need to know something after the run (a port, a run id).
    notes: dict[str, object] = field(default_factory=dict)

    @classmethod
    def create(cls, tmp: Path, shared: Shared, env: dict[str, str]) -> Setup:
        history = shared.history
        copy = tmp / "in"
        shutil.copytree(history.root, copy, symlinks=True)

        def mine(path: Path) -> Path:
            return copy / path.relative_to(history.root)

        victim = tmp / "victim.txt"
        victim.write_text("precious data that no hiero-replay run may touch\n")
        (tmp / "cwd").mkdir()
        return cls(
            tmp=tmp,
            shared=shared,
            events=mine(history.events_dir),
            blocks=mine(history.blocks_dir),
            bootstrap=mine(history.bootstrap_state),
            expected=mine(history.expected_state),
            work=tmp / "work",
            out=tmp / "out",
            victim=victim,
            env=dict(env),
        )

    # command lines ---------------------------------------------------------------------------

    def args(self, *extra: object, events: object = None, blocks: object = None, bootstrap: object = None) -> list[str]:
        """``--simulate`` replay flags over this case's history (auto mode, newest round)."""
        return [
            "--simulate",
            "--events", str(events or self.events),
            "--blocks", str(blocks or self.blocks),
            "--bootstrap-state", str(bootstrap or self.bootstrap),
            "--node-id", NODE,
            "--work-dir", str(self.work),
            "--out", str(self.out),
            *map(str, extra),
        ]  # fmt: skip

    def quick(self, *extra: object, events: object = None, bootstrap: object = None, target: int = 20) -> list[str]:
        """A short event-stream replay (rounds 11..target): the cheapest complete run."""
        return [
            "--simulate",
            "--mode", "event-stream",
            "--events", str(events or self.events),
            "--bootstrap-state", str(bootstrap or self.bootstrap),
            "--target-round", str(target),
            "--node-id", NODE,
            "--work-dir", str(self.work),
            "--out", str(self.out),
            *map(str, extra),
        ]  # fmt: skip

    def cli(self, *args: object, timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run the CLI as part of building a case (e.g. a run that fails first)."""
        return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=self.env, cwd=self.tmp / "cwd")

    # stream files ----------------------------------------------------------------------------

    def event_files(self) -> list[Path]:
        return sorted(self.events.glob("*.evts"))

    def block_files(self) -> list[Path]:
        return sorted(self.blocks.glob("*.blk.gz"))

    def next_block_name(self, compression: Compression = Compression.GZIP) -> str:
        return block_file_name(len(self.block_files()), compression)


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Setup], list[str]]
    #: The documented exit code (a few cases leave the fix a choice, e.g. skip-and-report vs refuse).
    expect: int | tuple[int, ...]
    #: Must match the combined output: the offending file, key, round, URL or variable (a function
    #: of the set-up when it depends on it).
    names: str | Callable[[Setup], str]
    #: Must not match the combined output.
    forbid: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    #: Called with the process id right after the CLI starts (races another user's planted files).
    during: Callable[[Setup, int], None] | None = None
    #: Extra assertions after the common ones.
    check: Callable[[Setup, str], None] | None = None

    @property
    def expected_codes(self) -> tuple[int, ...]:
        return self.expect if isinstance(self.expect, tuple) else (self.expect,)


# --------------------------------------------------------------------------------------------
# Small tools


def write_toml(setup: Setup, text: str, name: str = "replay.toml") -> Path:
    path = setup.tmp / name
    path.write_text(text)
    return path


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def unix_socket(setup: Setup, path: Path) -> Path:
    """A bound Unix socket at ``path`` (paths over ~100 bytes are bound from their folder)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.getcwd()
    os.chdir(path.parent)
    try:
        server.bind(path.name)
    finally:
        os.chdir(previous)
    setup.cleanups.append(server.close)
    return path


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 16):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def with_round(metadata: Path, round_text: str, hash_text: str | None = None) -> str:
    """stateMetadata.txt text with ROUND (and HASH) replaced."""
    lines = []
    for line in metadata.read_text().splitlines():
        key = line.partition(":")[0].strip()
        if key == "ROUND":
            line = f"ROUND:                      {round_text}"
        elif key == "HASH" and hash_text is not None:
            line = f"HASH:                       {hash_text}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def bootstrap_at(s: Setup, round_number: int) -> Path:
    """A copy of the bootstrap state claiming another ROUND (for block-only replays)."""
    state = s.tmp / f"b{round_number}"
    shutil.copytree(s.bootstrap, state)
    (state / "stateMetadata.txt").write_text(with_round(s.bootstrap / "stateMetadata.txt", str(round_number)))
    s.inputs.append(state)
    return state


BOMB_SIZE = 1 << 30


def gzip_bomb() -> bytes:
    """About 1 MiB of valid gzip that inflates to 1 GiB of zeros.

    Built without deflating 1 GiB: one MiB of zeros is deflated and fully flushed (a self-contained,
    byte-aligned piece), repeated 1024 times, then closed by an empty final block and the trailer."""
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_SIZE // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = crc.to_bytes(4, "little") + (BOMB_SIZE % 2**32).to_bytes(4, "little")
    return header + piece * (BOMB_SIZE // len(chunk)) + b"\x03\x00" + trailer


def zstd_bomb() -> bytes:
    """A few KiB of zstd that inflate to 1 GiB of zeros (content size declared in the frame)."""
    return zstandard.ZstdCompressor(level=1, write_content_size=True).compress(bytes(BOMB_SIZE))


def hold_lock(setup: Setup) -> None:
    """Another run holds the work directory's lock (an advisory flock on ``lock``)."""
    setup.work.mkdir(mode=0o700)
    descriptor = os.open(setup.work / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(descriptor, b"run, pid 1\n")
    setup.cleanups.append(lambda: os.close(descriptor))


def failed_run(setup: Setup, *extra: object) -> None:
    """A run in this case's work dir that ends in a hash mismatch (exit 5)."""
    result = setup.cli("run", *setup.quick("--expected-hash", WRONG_HASH, *extra))
    assert result.returncode == 5, result.stderr
    setup.out = setup.tmp / "out-2"  # the next command must not reuse the failed run's --out


# --------------------------------------------------------------------------------------------
# Hashing: what must not change


def snapshot(root: Path, exclude: set[Path] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """Every entry under ``root`` (or ``root`` itself when it is not a folder), by relative path:
    type, permission bits and content hash for files, target for symlinks. Never follows a
    symlink, never opens anything but a regular file."""
    entries: dict[str, str] = {}

    def describe(path: Path) -> str:
        info = os.lstat(path)
        kind = stat.S_IFMT(info.st_mode)
        mode = f"{stat.S_IMODE(info.st_mode):o} {info.st_uid}"
        if kind == stat.S_IFLNK:
            return f"link -> {os.readlink(path)}"
        if kind == stat.S_IFREG:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(descriptor, "rb") as handle:
                return f"file {mode} {hashlib.sha256(handle.read()).hexdigest()}"
        if kind == stat.S_IFDIR:
            return f"dir {mode}"
        return f"special {kind:o} {mode}"

    if not os.path.lexists(root):
        return {".": "absent"}
    entries["."] = describe(root)
    if not entries["."].startswith("dir"):
        return entries
    for directory, folders, files in os.walk(root, followlinks=False):
        here = Path(directory)
        folders[:] = [name for name in folders if here / name not in exclude]
        for name in folders + files:
            path = here / name
            if path not in exclude:
                entries[str(path.relative_to(root))] = describe(path)
    return entries
