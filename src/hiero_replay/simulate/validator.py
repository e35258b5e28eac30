"""Simulator of the state validator's ``apply-blocks``, as it behaves on upstream main.

    python -m hiero_replay.simulate.validator [--profile main|older] [--cleanup-temp] <stateDir> apply-blocks
        --block-stream-dir D --node-id N [--out O] [--target-round R] [--expected-hash H] [--rate r]

Every behaviour comes from ``reference/hiero-tools.md`` (section in brackets):
- picocli exit codes: 0, 1 for an exception (stack trace on stderr), 2 for a usage error with the
  usage text [§1.1, §7.1]; ``--profile older`` is a build without ``--rate`` [§1.3, §1.4].
- log4j2 sends only CONSOLE lines to stdout; everything else goes to ``validator.log`` and
  ``state-analysis.log`` in the working directory [§7.1].
- Blocks are every file named ``<number>.blk…`` under the folder, walked recursively and ordered by
  number [§1.5]; missing numbers between files fail, the list truncated to 20, and the check is
  skipped with fewer than 2 files [§1.3, §7.1]. Every file is parsed, also past the target round, and
  parsing is strict: a field main's protobuf lacks (the HAPI 0.69 ``BlockProof`` field 5) fails with
  ``Failed reading block @`` [§7.1].
- Rounds before the state's are skipped; the first round must be the state's + 1; rounds must be
  consecutive; the stream must reach the target round [§1.3].
- ``--rate`` is a minimum spacing between rounds, with no catch-up [§7.1].
- ``Block stream recovery: N%`` on stdout at each 10%, only with ``--target-round`` [§7.1].
- The state goes straight into ``--out``, which must already exist: ``Snapshot creation failed for
  round N`` otherwise [§7.1]; main's extra outputs (``consensusSnapshot.json``, metadata keys) are
  written [§7.1]; the expected hash is compared after writing, "Excepted" typo included [§1.3, §7.1].
- The state HASH after a block is what the synthetic history's next footer carries [§7.3]: both use
  ``state.next_state_hash``, over a round's transactions, so the PCLI simulator reaches the same state
  for a round the two streams both record [§5]. ``HIERO_REPLAY_SIMULATOR_DIVERGE_FROM_ROUND`` is a
  test fault, not a behaviour of the tool.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

from .state import JavaFailure, PicocliParser, RoundLedger, Transition, block_transactions, next_state_hash, run_like_java, with_faults

LONG_MAX = 9223372036854775807
INT_MAX = 2147483647
WORKFLOW = "com.hedera.statevalidation.blockstream.BlockStreamRecoveryWorkflow.applyBlocks(BlockStreamRecoveryWorkflow.java:142)"
LOG_FILES = ("validator.log", "state-analysis.log")
#: Blocks listed at most in the missing-blocks message [§7.1].
MISSING_SHOWN = 20


def _parser(profile: str) -> argparse.ArgumentParser:
    root = PicocliParser(
        prog="operator",
        description="SIMULATOR of the Hiero state validator (hiero-replay); implements apply-blocks only.",
        allow_abbrev=False,
    )
    root.add_argument("-V", "--version", action="version", version="hedera-state-validator simulator (hiero-replay)")
    root.add_argument("--cleanup-temp", action="store_true")
    root.add_argument("state_dir", nargs="?", help="round directory holding stateMetadata.txt")
    commands = root.add_subparsers(dest="command", required=True)
    apply = commands.add_parser(
        "apply-blocks", add_help=False, allow_abbrev=False, description="Update the state by applying blocks from a block stream."
    )
    apply.add_argument("-d", "--block-stream-dir", required=True)
    apply.add_argument("-id", "--node-id", required=True, type=int)
    apply.add_argument("-o", "--out", default="./out")
    apply.add_argument("-t", "--target-round", type=int, default=LONG_MAX)
    apply.add_argument("-h", "--expected-hash", default="")
    if profile != "older":
        apply.add_argument("-r", "--rate", type=int, default=INT_MAX)
    apply.add_argument("-bp", "--billing-project")
    apply.add_argument("-dt", "--download-threads", type=int, default=32)
    return root


def log(level: str, message: str) -> None:
    """A non-CONSOLE log line: into ``validator.log`` in the working directory, never to stdout."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    with open(LOG_FILES[0], "a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {level:<5} [main] {message}\n")


def console(message: str) -> None:
    """A CONSOLE-marked line: the only output on stdout."""
    print(message, flush=True)


def _block_files(directory: Path) -> list[tuple[int, Path]]:
    """Like ``BlockStreamAccess``: every regular file whose name parses as ``<number>.blk…``."""
    found = []
    for folder, _, names in os.walk(directory):
        for name in names:
            if ".blk" in name and name[: name.index(".blk")].isdigit():
                found.append((int(name[: name.index(".blk")]), Path(folder, name)))
    return sorted(found)


def _parse_all(files: list[tuple[int, Path]]) -> list[tuple[Path, bytes]]:
    """Every file, decompressed and parsed strictly (the real reader gunzips ``.gz`` and parses
    anything else as raw protobuf)."""
    from ..errors import ReplayError
    from ..streams.blocks import read_block
    from ..streams.compression import decompress
    from ..streams.naming import Compression

    parsed = []
    for _, path in files:
        compression = Compression.GZIP if path.name.endswith(".gz") else Compression.NONE
        try:
            data = decompress(path.read_bytes(), compression, name=str(path))
            block = read_block(data, name=str(path))
        except (ReplayError, OSError) as error:
            raise JavaFailure(f"Failed reading block @ {path}", frame=WORKFLOW, cause=f"java.io.IOException: {error}") from error
        if "legacy_sibling_hashes" in block.proofs:
            raise JavaFailure(
                f"Failed reading block @ {path}",
                frame=WORKFLOW,
                cause="com.hedera.pbj.runtime.ParseException: Unknown field 5 in message com.hedera.hapi.block.stream.BlockProof (strict mode)",
            )
        parsed.append((path, data))
    return parsed


class _RateLimiter:
    """The platform ``RateLimiter``: at least ``1/rate`` between two rounds, never catching up."""

    def __init__(self, rate: int) -> None:
        self.interval = 1.0 / rate
        self.last: float | None = None

    def acquire(self) -> None:
        if self.last is not None:
            wait = self.last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self.last = time.monotonic()


class _Progress:
    """``ProgressReporter``: ``<label>: NN%`` each time a new 10% step is reached."""

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.shown = 0

    def done(self, count: int) -> None:
        step = min(10, count * 10 // self.total)
        while self.shown < step:
            self.shown += 1
            console(f"Block stream recovery: {self.shown * 10}%")


def apply_blocks(args: argparse.Namespace, transition: Transition) -> None:
    from ..errors import ReplayError
    from ..states import read_state_metadata
    from ..streams.blocks import read_block, read_round_items
    from .state import write_state_directory

    for name in LOG_FILES:
        Path(name).touch()
    if args.state_dir is None:
        raise JavaFailure("apply-blocks requires a state directory", "java.lang.IllegalArgumentException")
    state_dir = Path(args.state_dir)
    if not state_dir.exists():
        raise JavaFailure(f"State directory does not exist: {state_dir}")
    if args.block_stream_dir.startswith("gs://"):
        raise JavaFailure("the simulator reads local block stream directories only", "java.lang.UnsupportedOperationException")
    blocks_dir = Path(args.block_stream_dir)
    if not blocks_dir.is_dir():
        print(f"Invalid value for option '--block-stream-dir': path does not exist: {blocks_dir}", file=sys.stderr)
        sys.exit(2)
    try:
        metadata = read_state_metadata(state_dir)
    except ReplayError as error:
        raise JavaFailure(f"Unable to load state from {state_dir}: {error.message}", "java.io.UncheckedIOException") from error
    log("INFO", f"SIMULATOR apply-blocks: loaded state round {metadata.round} from {state_dir}")
    first_round = metadata.round + 1
    target = args.target_round

    files = _block_files(blocks_dir)
    numbers = [number for number, _ in files]
    missing = [n for a, b in itertools.pairwise(numbers) for n in range(a + 1, b)]
    if missing and len(numbers) >= 2:
        raise JavaFailure(
            f"Block stream directory is missing {len(missing)} block file(s). First present block = {numbers[0]}, "
            f"last present block = {numbers[-1]}. Missing blocks: {missing[:MISSING_SHOWN]}",
            frame=WORKFLOW,
        )
    if len(numbers) >= 2:
        log("INFO", f"Block file contiguity validated: {len(numbers)} block files present, range [{numbers[0]}, {numbers[-1]}]")
    limiter = None
    rate = getattr(args, "rate", INT_MAX)
    if rate != INT_MAX:
        if rate <= 0:
            print("Invalid value for option '--rate': must be positive", file=sys.stderr)
            sys.exit(2)
        limiter = _RateLimiter(rate)
        log("INFO", f"Rate limiter created: {rate}rounds/s (interval={1000 / rate:g} ms)")
    progress = _Progress(target - metadata.round) if target != LONG_MAX else None

    ledger = RoundLedger("apply-blocks")
    state_hash, last_applied, consensus_ns = metadata.hash, metadata.round, None
    seen_first = done = False
    for path, data in _parse_all(files):
        if done:
            continue  # parsed (above), not applied
        block = read_block(data, name=str(path))
        for round_number, items in read_round_items(data, name=str(path)):
            if round_number < first_round:
                continue
            if not seen_first and round_number > first_round:
                raise JavaFailure(
                    "Given blockstream doesn't have a proper starting round. Must have a block item with a round = "
                    f"{first_round}. The oldest round found is {round_number}",
                    frame=WORKFLOW,
                )
            seen_first = True
            if round_number > target:
                done = True
                break
            if round_number != last_applied + 1:
                raise JavaFailure(f"Unexpected round number. Expected = {last_applied + 1}, actual = {round_number}", frame=WORKFLOW)
            transactions = block_transactions(items)  # read before the limiter: it spaces the rounds' application
            if limiter is not None:
                limiter.acquire()
            state_hash = transition(state_hash, round_number, transactions)
            last_applied, consensus_ns = round_number, block.timestamp_ns
            ledger.applied(round_number)
            if progress is not None:
                progress.done(last_applied - metadata.round)
    if target != LONG_MAX and last_applied != target:
        raise JavaFailure(
            f"Block stream is incomplete. Expected target round is {target}, last applied round is {last_applied}", frame=WORKFLOW
        )
    out = Path(args.out)
    if not out.is_dir():
        raise JavaFailure(f"Snapshot creation failed for round {last_applied}", "java.io.IOException", WORKFLOW)
    write_state_directory(out, round_number=last_applied, state_hash=state_hash, node_id=args.node_id, consensus_time_ns=consensus_ns)
    ledger.commit()
    log("INFO", f"SIMULATOR apply-blocks: state of round {last_applied} written to {out}")
    if args.expected_hash and args.expected_hash != state_hash:
        raise JavaFailure(
            f"Excepted and actual hashes do not match. \n Expected: {args.expected_hash} \n Actual: {state_hash} ", frame=WORKFLOW
        )


def main(argv: list[str] | None = None, transition: Transition = next_state_hash) -> None:
    """Run the simulator; ``transition`` is the simulated state transition (a test double may bring its own)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    profile = "main"
    if arguments[:1] == ["--profile"] and len(arguments) > 1:
        profile, arguments = arguments[1], arguments[2:]
    args = _parser(profile).parse_args(arguments)
    started = time.monotonic()
    run_like_java(lambda: apply_blocks(args, with_faults(transition)), lambda message: log("ERROR", message))
    log("INFO", f"Execution time: {int((time.monotonic() - started) * 1000)} ms.")


if __name__ == "__main__":
    main()
