"""Simulator of the state validator (``hedera-state-validator``) ``apply-blocks`` command.

    python -m hiero_replay.simulate.validator [--cleanup-temp] <stateDir> apply-blocks
        --block-stream-dir D --node-id N [--out O] [--target-round R] [--expected-hash H] [--rate r]

Behaves like ``BlockStreamRecoveryWorkflow.applyBlocks`` (``reference/hiero-tools.md`` §1.3–1.5):
picocli exit codes (0 ok, 1 failure with a stack trace, 2 usage), the same preconditions and
messages, blocks found by walking the directory and ordered by number, rounds before the state
skipped, the output written straight into ``--out``, and the expected hash compared after writing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

from ..errors import ReplayError
from ..states import read_state_metadata
from ..streams.blocks import read_block, read_round_items
from ..streams.compression import decompress
from ..streams.naming import Compression
from .state import JavaFailure, RoundLedger, log, next_state_hash, run_like_java, write_state_directory

LONG_MAX = 9223372036854775807
INT_MAX = 2147483647
WORKFLOW = "com.hedera.statevalidation.blockstream.BlockStreamRecoveryWorkflow.applyBlocks(BlockStreamRecoveryWorkflow.java:142)"


def _parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="hedera-state-validator",
        description="SIMULATOR of the Hiero state validator (hiero-replay); implements apply-blocks only.",
        allow_abbrev=False,
    )
    root.add_argument("-V", "--version", action="version", version="hedera-state-validator simulator (hiero-replay)")
    root.add_argument("--cleanup-temp", action="store_true")
    root.add_argument("state_dir", nargs="?", help="round directory holding stateMetadata.txt")
    commands = root.add_subparsers(dest="command", required=True)
    apply = commands.add_parser("apply-blocks", add_help=False, allow_abbrev=False)
    apply.add_argument("-d", "--block-stream-dir", required=True)
    apply.add_argument("-id", "--node-id", required=True, type=int)
    apply.add_argument("-o", "--out", default="./out")
    apply.add_argument("-t", "--target-round", type=int, default=LONG_MAX)
    apply.add_argument("-h", "--expected-hash", default="")
    apply.add_argument("-r", "--rate", type=int, default=INT_MAX)
    apply.add_argument("-bp", "--billing-project")
    apply.add_argument("-dt", "--download-threads", type=int, default=32)
    return root


def _block_files(directory: Path) -> list[tuple[int, Path]]:
    """Like ``BlockStreamAccess``: every regular file whose name parses as ``<number>.blk…``."""
    found = []
    for folder, _, names in os.walk(directory):
        for name in names:
            if ".blk" in name and name[: name.index(".blk")].isdigit():
                found.append((int(name[: name.index(".blk")]), Path(folder, name)))
    return sorted(found)


def _read(path: Path) -> bytes:
    # The real reader gunzips names ending in .gz and parses anything else as raw protobuf.
    compression = Compression.GZIP if path.name.endswith(".gz") else Compression.NONE
    try:
        return decompress(path.read_bytes(), compression, name=str(path))
    except (ReplayError, OSError) as error:
        raise JavaFailure(f"Failed reading block @ {path}", frame=WORKFLOW) from error


class _RateLimiter:
    """``WorkRateLimiter``: a cumulative schedule of ``1/rate`` per round from the first acquire."""

    def __init__(self, rate: int) -> None:
        self.interval = 1.0 / rate
        self.start: float | None = None
        self.completed = 0

    def acquire(self) -> None:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        due = self.start + self.completed * self.interval
        if due - now >= 0.001:
            time.sleep(due - now)
        self.completed += 1


def apply_blocks(args: argparse.Namespace) -> None:
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
    if missing:
        raise JavaFailure(
            f"Block stream directory is missing {len(missing)} block file(s). First present block = {numbers[0]}, "
            f"last present block = {numbers[-1]}. Missing blocks: {missing}",
            frame=WORKFLOW,
        )
    if numbers:
        log("INFO", f"Block file contiguity validated: {len(numbers)} block files present, range [{numbers[0]}, {numbers[-1]}]")
    limiter = None
    if args.rate != INT_MAX:
        if args.rate <= 0:
            print("Invalid value for option '--rate': must be positive", file=sys.stderr)
            sys.exit(2)
        limiter = _RateLimiter(args.rate)
        log("INFO", f"Rate limiter created: {args.rate}rounds/s (interval={1000 / args.rate:g} ms)")

    ledger = RoundLedger("apply-blocks")
    state_hash, last_applied, consensus_ns = metadata.hash, metadata.round, None
    seen_first = False
    for _, path in files:
        data = _read(path)
        block = read_block(data, name=str(path))
        done = False
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
            if limiter is not None:
                limiter.acquire()
            state_hash = next_state_hash(state_hash, round_number, items)
            last_applied, consensus_ns = round_number, block.timestamp_ns
            ledger.applied(round_number)
        if done:
            break
    if target != LONG_MAX and last_applied != target:
        raise JavaFailure(
            f"Block stream is incomplete. Expected target round is {target}, last applied round is {last_applied}", frame=WORKFLOW
        )
    out = Path(args.out)
    write_state_directory(out, round_number=last_applied, state_hash=state_hash, node_id=args.node_id, consensus_time_ns=consensus_ns)
    ledger.commit()
    log("INFO", f"SIMULATOR apply-blocks: state of round {last_applied} written to {out}")
    if args.expected_hash and args.expected_hash != state_hash:
        raise JavaFailure(f"Excepted and actual hashes do not match. \n Expected: {args.expected_hash} \n Actual: {state_hash} ", frame=WORKFLOW)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    run_like_java(lambda: apply_blocks(args))
    log("INFO", f"Execution time: {int((time.monotonic() - started) * 1000)} ms.")


if __name__ == "__main__":
    main()
