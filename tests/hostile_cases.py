"""Hostile and careless inputs for ``hiero-replay``, as a table (issue 13).

Each ``Case`` builds its hostile set-up under the test's own folder and returns the command line;
``tests/test_hostile_inputs.py`` runs it as a subprocess and checks the invariants every case shares
(documented exit code, no traceback, the offending thing named, nothing changed outside the work
dir and ``--out``, nothing promoted on failure, no hang).

Builders only use the CLI contract (flags, files, folders), the project's stream writers and the
synthetic history, never the orchestrator's internals: the source is being restructured.
"""

from __future__ import annotations

import contextlib
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
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import zstandard

from hiero_replay.simulate.history import History
from hiero_replay.store import RunStore
from hiero_replay.streams.compression import compress
from hiero_replay.streams.naming import Compression, block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream, write_event_file

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
# Builders, by category.  Each returns the argv after ``hiero-replay``.

# config ----------------------------------------------------------------------------------------


def config_toml_syntax(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replay\nmode = 'auto'\n", "broken.toml")), *s.quick()]


def config_wrong_type(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, '[replay]\nsegment_rounds = "many"\n')), *s.quick()]


def config_unknown_key(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replay]\nbootstrap_round = 10\n")), *s.quick()]


def config_unknown_section(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replya]\nmode = 'auto'\n")), *s.quick()]


def config_rate_bare_number(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[pace]\nrate = 20\n")), *s.quick()]


def config_rate_zero(s: Setup) -> list[str]:
    return ["run", *s.quick("--rate", "0 rounds/s")]


def config_file_missing(s: Setup) -> list[str]:
    return ["run", "--config", str(s.tmp / "absent.toml"), *s.quick()]


def config_file_is_fifo(s: Setup) -> list[str]:
    return ["run", "--config", str(fifo(s.tmp / "piped.toml")), *s.quick()]


def config_expected_state_and_target(s: Setup) -> list[str]:
    return ["run", *s.args("--expected-state", s.expected, "--target-round", "50")]


def config_target_round_past_2_63(s: Setup) -> list[str]:
    return ["run", *s.quick()[:-2], "--target-round", str(2**64), "--out", str(s.out)]


def config_unsupported_url(s: Setup) -> list[str]:
    return ["run", *s.quick(events="ftp://mirror.example/events_0.0.3")]


def config_http_endpoint_remote(s: Setup) -> list[str]:
    toml = write_toml(s, '[buckets]\nendpoint = "http://198.51.100.7:9000"\n')  # plain HTTP, not opted in
    return ["run", "--config", str(toml), *s.quick(events="s3://bucket/events_0.0.3")]


def env_rate_with_space(s: Setup) -> list[str]:
    return ["plan", *s.quick()]


def env_bad_integer(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def env_bad_list(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def env_unknown_key(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def metrics_port_in_use(s: Setup) -> list[str]:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    s.cleanups.append(taken.close)
    s.notes["port"] = taken.getsockname()[1]
    return ["run", *s.quick("--metrics-port", s.notes["port"])]


def pushgateway_down_keeps_exit_code(s: Setup) -> list[str]:
    return ["run", *s.quick("--pushgateway", "http://127.0.0.1:9", bootstrap=s.tmp / "no-such-state")]


def textfile_unwritable_keeps_exit_code(s: Setup) -> list[str]:
    (s.tmp / "not-a-folder").write_text("a file where the textfile's folder should be\n")
    s.inputs.append(s.tmp / "not-a-folder")
    return ["run", *s.quick("--expected-hash", WRONG_HASH, "--metrics-textfile", s.tmp / "not-a-folder" / "replay.prom")]


# files -----------------------------------------------------------------------------------------


def file_truncated_event(s: Setup) -> list[str]:
    truncate_half(s.event_files()[1])
    return ["inspect", str(s.events)]


def file_truncated_block(s: Setup) -> list[str]:
    truncate_half(s.block_files()[3])
    return ["inspect", str(s.blocks)]


def file_corrupt_block(s: Setup) -> list[str]:
    flip_middle(s.block_files()[2])
    return ["inspect", str(s.blocks)]


def _bootstrap_at(s: Setup, round_number: int) -> Path:
    """A copy of the bootstrap state claiming another ROUND (for block-only replays)."""
    state = s.tmp / f"b{round_number}"
    shutil.copytree(s.bootstrap, state)
    (state / "stateMetadata.txt").write_text(with_round(s.bootstrap / "stateMetadata.txt", str(round_number)))
    s.inputs.append(state)
    return state


def file_corrupt_block_run(s: Setup) -> list[str]:
    state = _bootstrap_at(s, 60)
    flip_middle(s.block_files()[2])
    return ["run", *s.args("--mode", "block-stream", "--target-round", "100", bootstrap=state)]


def file_empty_event(s: Setup) -> list[str]:
    (s.events / "2026-01-01T00_00_02.500000000Z.evts").write_bytes(b"")
    return ["inspect", str(s.events)]


def file_garbage_block(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name(Compression.NONE)).write_bytes(os.urandom(4096))
    return ["inspect", str(s.blocks)]


def file_gzip_bomb(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name()).write_bytes(gzip_bomb())
    return ["inspect", str(s.blocks)]


def file_zstd_bomb(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name(Compression.ZSTD)).write_bytes(zstd_bomb())
    return ["inspect", str(s.blocks)]


def file_event_time_year_1e11(s: Setup) -> list[str]:
    folder = s.tmp / "events-absurd" / "events_0.0.3"
    folder.mkdir(parents=True)
    events = [event for r in generate_rounds(1, 3, start_time_ns=START_NS) for event in r.events]
    events[-1] = replace(events[-1], consensus_time_ns=YEAR_1E11_NS)
    written = write_event_file(events, bytes(48))
    (folder / written.name).write_bytes(written.data)
    s.notes["file"] = written.name
    s.inputs.append(folder)
    return ["inspect", str(folder)]


def file_block_time_year_1e11(s: Setup) -> list[str]:
    folder = s.tmp / "blocks-absurd"
    folder.mkdir()
    for block in write_block_stream(generate_rounds(1, 6, start_time_ns=YEAR_1E11_NS), rounds_per_block=3):
        (folder / block_file_name(block.number)).write_bytes(compress(block.data, Compression.GZIP))
    s.inputs.append(folder)
    return ["inspect", str(folder)]


def file_block_round_past_2_63(s: Setup) -> list[str]:
    folder = s.tmp / "blocks-huge-rounds"
    folder.mkdir()
    # Round numbers are uint64 in a block's round header; the events inside keep small birth rounds.
    rounds = [replace(r, number=2**63 + index) for index, r in enumerate(generate_rounds(1, 6, start_time_ns=START_NS))]
    for block in write_block_stream(rounds, rounds_per_block=3):
        (folder / block_file_name(block.number)).write_bytes(compress(block.data, Compression.GZIP))
    s.inputs.append(folder)
    state = _bootstrap_at(s, 2**63 - 1)
    return ["run", "--simulate", "--mode", "block-stream", "--blocks", str(folder), "--bootstrap-state", str(state),
            "--node-id", NODE, "--work-dir", str(s.work), "--out", str(s.out)]  # fmt: skip


def file_bootstrap_round_past_2_64(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_text(with_round(s.bootstrap / "stateMetadata.txt", str(2**64)))
    return ["run", *s.args()]


def _copy_event_as(s: Setup, name: str) -> list[str]:
    shutil.copyfile(s.event_files()[-1], s.events / name)
    return ["inspect", str(s.events)]


def file_event_name_month_13(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-13-01T00_00_00.000000000Z.evts")


def file_event_name_feb_30(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-02-30T00_00_00.000000000Z.evts")


def file_event_name_hour_25(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-01-01T25_00_00.000000000Z.evts")


def file_renamed_block(s: Setup) -> list[str]:
    blocks = s.block_files()
    blocks[3].rename(s.blocks / block_file_name(9))
    return ["inspect", str(s.blocks)]


def file_corrupt_signature(s: Setup) -> list[str]:
    first = s.event_files()[0]
    first.with_name(first.name + "_sig").write_bytes(b"\x05" + os.urandom(200))
    return ["inspect", str(s.events)]


# layouts ---------------------------------------------------------------------------------------


def layout_events_at_blocks(s: Setup) -> list[str]:
    return ["run", *s.quick(events=s.blocks)]


def layout_blocks_at_events(s: Setup) -> list[str]:
    state = _bootstrap_at(s, 60)
    return ["run", *s.args("--mode", "block-stream", blocks=s.events, bootstrap=state)]


def layout_swapped_auto(s: Setup) -> list[str]:
    return ["run", *s.args(events=s.blocks, blocks=s.events)]


def layout_two_nodes(s: Setup) -> list[str]:
    parent = s.events.parent
    shutil.copytree(s.events, parent / "events_0.0.4")
    return ["run", *s.quick(events=parent)]


def layout_empty_events(s: Setup) -> list[str]:
    (s.tmp / "empty-events").mkdir()
    return ["run", *s.quick(events=s.tmp / "empty-events")]


def layout_events_is_file(s: Setup) -> list[str]:
    return ["run", *s.quick(events=s.event_files()[0])]


def layout_bootstrap_is_metadata_file(s: Setup) -> list[str]:
    return ["plan", *s.quick(bootstrap=s.bootstrap / "stateMetadata.txt")]


def layout_out_is_events(s: Setup) -> list[str]:
    s.out = s.events
    return ["run", *s.quick()]


# outputs inside inputs -------------------------------------------------------------------------


def inside_out_in_events(s: Setup) -> list[str]:
    s.out = s.events / "replayed"
    return ["run", *s.quick()]


def inside_work_in_events(s: Setup) -> list[str]:
    s.work = s.events / "work"
    return ["run", *s.quick()]


def inside_work_is_events(s: Setup) -> list[str]:
    s.work = s.events
    return ["run", *s.quick()]


def inside_work_in_blocks(s: Setup) -> list[str]:
    s.work = s.blocks / "work"
    return ["run", *s.args("--expected-state", s.expected)]


def inside_out_in_bootstrap(s: Setup) -> list[str]:
    s.out = s.bootstrap / "replayed"
    return ["run", *s.quick()]


def inside_work_is_expected_state(s: Setup) -> list[str]:
    s.work = s.expected
    return ["run", *s.args("--expected-state", s.expected)]


def inside_out_in_expected_state(s: Setup) -> list[str]:
    s.out = s.expected / "replayed"
    return ["run", *s.args("--expected-state", s.expected)]


# states ----------------------------------------------------------------------------------------


def state_no_metadata(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    return ["run", *s.quick()]


def state_metadata_binary(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_bytes(b"\xff\xfe\x00ROUND\x00" + os.urandom(64))
    return ["run", *s.quick()]


def state_metadata_no_hash(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_text("ROUND: 10\n")
    return ["run", *s.quick()]


def state_metadata_is_directory(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").mkdir()
    return ["run", *s.quick()]


def state_metadata_fifo(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    fifo(s.bootstrap / "stateMetadata.txt")
    return ["run", *s.quick()]


def state_expected_metadata_socket(s: Setup) -> list[str]:
    (s.expected / "stateMetadata.txt").unlink()
    unix_socket(s, s.expected / "stateMetadata.txt")
    return ["run", *s.args("--expected-state", s.expected)]


def state_metadata_dev_null(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").symlink_to("/dev/null")
    return ["run", *s.quick()]


def state_metadata_symlink_outside(s: Setup) -> list[str]:
    elsewhere = s.tmp / "elsewhere-metadata.txt"
    shutil.copyfile(s.bootstrap / "stateMetadata.txt", elsewhere)
    s.inputs.append(elsewhere)
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").symlink_to(elsewhere)
    return ["plan", *s.quick()]


def state_bootstrap_is_file(s: Setup) -> list[str]:
    return ["run", *s.quick(bootstrap=s.bootstrap / "hashInfo.txt")]


def state_expected_hash_odd(s: Setup) -> list[str]:
    (s.expected / "stateMetadata.txt").write_text(with_round(s.expected / "stateMetadata.txt", "120", "abc"))
    return ["run", *s.args("--expected-state", s.expected)]


# symlinks --------------------------------------------------------------------------------------


def symlink_loop_pair(s: Setup) -> list[str]:
    (s.events / "2026-01-01T00_00_30.000000000Z.evts").symlink_to("2026-01-01T00_00_35.000000000Z.evts")
    (s.events / "2026-01-01T00_00_35.000000000Z.evts").symlink_to("2026-01-01T00_00_30.000000000Z.evts")
    return ["inspect", str(s.events)]


def symlink_self_block(s: Setup) -> list[str]:
    name = s.next_block_name()
    (s.blocks / name).symlink_to(name)
    return ["inspect", str(s.blocks)]


def symlink_dir_loop(s: Setup) -> list[str]:
    (s.events / "again").symlink_to(".")
    return ["inspect", str(s.events)]


def symlink_evil_root(s: Setup) -> list[str]:
    (s.events / "evil").symlink_to("/")
    return ["inspect", str(s.events)]


def _outside_event(s: Setup, index: int) -> Path:
    """Move one event file out of the folder and leave a symlink to it in its place."""
    original = s.event_files()[index]
    outside = s.tmp / "outside" / original.name
    outside.parent.mkdir(exist_ok=True)
    original.rename(outside)
    original.symlink_to(outside)
    s.inputs.append(outside.parent)
    return original


def symlink_file_outside_inspect(s: Setup) -> list[str]:
    _outside_event(s, -1)
    return ["inspect", str(s.events)]


def symlink_file_outside_run(s: Setup) -> list[str]:
    _outside_event(s, 0)
    return ["run", *s.quick()]


def symlink_dir_outside(s: Setup) -> list[str]:
    other = s.tmp / "other-node" / "events_0.0.4"
    shutil.copytree(s.events, other)
    s.inputs.append(other.parent)
    (s.events / "more").symlink_to(other)
    return ["inspect", str(s.events)]


def symlink_dev_null_block(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name()).symlink_to("/dev/null")
    return ["inspect", str(s.blocks)]


def symlink_loop_bootstrap(s: Setup) -> list[str]:
    (s.tmp / "loop-state").symlink_to("loop-state")
    return ["run", *s.quick(bootstrap=s.tmp / "loop-state")]


def symlink_out_dangling(s: Setup) -> list[str]:
    s.out = s.tmp / "out-link"
    s.out.symlink_to(s.tmp / "somewhere-else")
    s.inputs.append(s.out)
    return ["run", *s.quick()]


LONG = "n" * 300


def name_too_long_bootstrap(s: Setup) -> list[str]:
    return ["run", *s.quick(bootstrap=s.tmp / LONG)]


def name_too_long_out(s: Setup) -> list[str]:
    s.out = s.tmp / LONG
    return ["run", *s.quick()]


def name_too_long_inspect(s: Setup) -> list[str]:
    return ["inspect", str(s.tmp / LONG)]


def name_too_long_work(s: Setup) -> list[str]:
    s.work = s.tmp / LONG
    return ["run", *s.quick()]


# hidden folders and temporary files ------------------------------------------------------------


def hidden_staging_events(s: Setup) -> list[str]:
    """A half-finished copy in a hidden folder (an rsync or gsutil staging area)."""
    staging = s.events / ".staging"
    staging.mkdir()
    shutil.copyfile(s.event_files()[1], staging / s.event_files()[1].name)
    return ["inspect", str(s.events)]


def hidden_staging_blocks_plan(s: Setup) -> list[str]:
    staging = s.blocks / ".staging"
    staging.mkdir()
    damaged = staging / s.block_files()[2].name
    shutil.copyfile(s.block_files()[2], damaged)
    truncate_half(damaged)
    return ["plan", *s.args()]


def temporary_files(s: Setup) -> list[str]:
    """Downloads in progress and editor backups named after real event files."""
    last = s.event_files()[-1]
    for name in (f"{last.name}.tmp", f"{last.name}.part", f"{last.name}~", f"#{last.name}#", f".{last.name}.swp"):
        shutil.copyfile(last, s.events / name)
    (s.events / f".#{last.name}").symlink_to("root@host.12345:1767225600")  # an Emacs lock: a dangling link
    return ["inspect", str(s.events)]


# special files ---------------------------------------------------------------------------------


def special_fifo_event(s: Setup) -> list[str]:
    fifo(s.events / "2026-01-01T00_00_30.000000000Z.evts")
    return ["inspect", str(s.events)]


def special_fifo_signature(s: Setup) -> list[str]:
    first = s.event_files()[0]
    fifo(first.with_name(first.name + "_sig"))
    return ["inspect", str(s.events)]


def special_socket_block(s: Setup) -> list[str]:
    unix_socket(s, s.blocks / s.next_block_name())
    return ["inspect", str(s.blocks)]


def special_fifo_events_folder(s: Setup) -> list[str]:
    return ["run", *s.quick(events=fifo(s.tmp / "events-pipe"))]


def special_fifo_status_json(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    fifo(s.work / "status.json")
    return ["status", "--work-dir", str(s.work)]


# work-dir attacks ------------------------------------------------------------------------------


def work_is_regular_file(s: Setup) -> list[str]:
    s.work.write_text("not a folder\n")
    s.inputs.append(s.work)
    return ["run", *s.quick()]


def work_under_regular_file(s: Setup) -> list[str]:
    (s.tmp / "plain-file").write_text("not a folder\n")
    s.inputs.append(s.tmp / "plain-file")
    s.work = s.tmp / "plain-file" / "work"
    return ["run", *s.quick()]


def work_group_writable(s: Setup) -> list[str]:
    s.work.mkdir()
    s.work.chmod(0o775)
    return ["run", *s.quick()]


def work_world_writable(s: Setup) -> list[str]:
    s.work.mkdir()
    s.work.chmod(0o777)
    return ["run", *s.quick()]


def work_owned_by_other(s: Setup) -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("giving the work dir to another user needs root")
    s.work.mkdir(mode=0o700)
    os.chown(s.work, 65534, 65534)
    return ["run", *s.quick()]


def work_lock_symlink_to_victim(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "lock").symlink_to(s.victim)
    return ["run", *s.quick()]


def work_status_tmp_symlink(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    return ["run", *s.quick()]


def plant_status_tmp(s: Setup, pid: int) -> None:
    """Another user predicts the temporary name of status.json and plants a symlink there."""
    with contextlib.suppress(FileExistsError):  # the run was faster: the next status write finds the link instead
        (s.work / f".status.json.{pid}.tmp").symlink_to(s.victim)


def work_runs_db_symlink_to_victim(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "runs.db").symlink_to(s.victim)
    return ["run", *s.quick()]


def work_runs_db_garbage(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "runs.db").write_bytes(b"this is not a database" * 100)
    return ["status", "--work-dir", str(s.work)]


def work_status_json_damaged(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    (s.work / "status.json").write_text('{"run_id": "x", "state": "runn')
    return ["status", "--work-dir", str(s.work)]


def work_status_json_symlink_to_victim(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    (s.work / "status.json").symlink_to(s.victim)
    return ["status", "--work-dir", str(s.work)]


def work_already_running(s: Setup) -> list[str]:
    hold_lock(s)
    return ["run", *s.quick()]


# report, status and resume misuse --------------------------------------------------------------


def report_into_missing_folder(s: Setup) -> list[str]:
    failed_run(s)
    return ["report", "--html", str(s.tmp / "no-such-folder" / "report.html"), "--work-dir", str(s.work)]


def report_onto_directory(s: Setup) -> list[str]:
    failed_run(s)
    (s.tmp / "a-folder").mkdir()
    return ["report", "--html", str(s.tmp / "a-folder"), "--work-dir", str(s.work)]


def report_unknown_run(s: Setup) -> list[str]:
    failed_run(s)
    return ["report", "no-such-run", "--html", str(s.tmp / "report.html"), "--work-dir", str(s.work)]


def status_work_dir_is_file(s: Setup) -> list[str]:
    s.work.write_text("not a folder\n")
    s.inputs.append(s.work)
    return ["status", "--work-dir", str(s.work)]


def resume_after_hash_mismatch(s: Setup) -> list[str]:
    failed_run(s)
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_after_early_stop(s: Setup) -> list[str]:
    early = (  # a PCLI that stops 5 rounds short of its final round, without failing (its usage unchanged)
        "import sys; from hiero_replay.simulate.pcli import main; a = sys.argv[1:]\n"
        "if '--final-round' in a: i = a.index('--final-round'); a[i + 1] = str(int(a[i + 1]) - 5)\n"
        "main(a)"
    )
    toml = write_toml(s, f"[backends.event_stream]\ncommand = [{sys.executable!r}, '-c', {early!r}]\n")
    args = s.quick()
    args.remove("--simulate")
    first = s.cli("run", "--config", toml, *args)
    assert first.returncode == 4, first.stderr
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_nothing(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_unknown_run_id(s: Setup) -> list[str]:
    failed_run(s)
    return ["run", "--resume", "--run-id", "20990101T000000Z-ffffff", "--work-dir", str(s.work)]


# the last resort -------------------------------------------------------------------------------


def internal_error(s: Setup) -> list[str]:
    """A fault nobody planned for (here: the JSON encoder breaks) must still end in one line."""
    inject = s.tmp / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import json\ndef _broken(*args, **kwargs):\n    raise RuntimeError('hostile injected fault')\njson.dumps = _broken\n"
    )
    s.env["PYTHONPATH"] = str(inject)
    return ["run", *s.quick()]


def internal_error_log_holds_traceback(s: Setup, output: str) -> None:
    import re

    match = re.search(r"internal error.*?see (\S+?)\.?$", output, re.MULTILINE | re.IGNORECASE)
    assert match, output
    log = Path(match.group(1))
    if not log.is_absolute():
        log = s.tmp / "cwd" / log
    text = log.read_text()
    assert "Traceback" in text and "hostile injected fault" in text


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
