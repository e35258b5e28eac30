"""Simulator of ``pcli.sh event-stream recover``.

    python -m hiero_replay.simulate.pcli [-L jar] [-J jvmarg] ... event-stream recover <stateDir> <eventsDir>
        --id N [--out O] [--final-round R] [--ignore-partial] [--load-signing-keys] [--config C]
        [--transaction-offset-nanos T]

Behaves like ``EventRecoveryWorkflow.recoverState`` (``reference/hiero-tools.md`` §2): the wrapper's
own options may appear anywhere and never reach the command; event files are found recursively
(names ending exactly in ``.evts``) and ordered by name; a broken running-hash link is
"missing event stream file prior to ..."; rounds from the state's round + 1 are applied up to the
final round, and when the events run out first it **stops early without failing**. The state is
written straight into ``--out``, plus one PCES file, like the real tool.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import ReplayError
from ..states import read_state_metadata
from ..streams.events import read_event_file
from .state import JavaFailure, RoundLedger, log, next_state_hash, run_like_java, write_state_directory

WORKFLOW = "org.hiero.consensus.pcli.recovery.EventRecoveryWorkflow.recoverState(EventRecoveryWorkflow.java:118)"
# pcli.sh options consumed by the wrapper: name -> takes a value.
_WRAPPER_OPTIONS = {"-L": True, "--load": True, "--cp": True, "-J": True, "--jvm": True, "-D": False, "--debug": False,
                    "-I": False, "--ignore-jars": False, "-M": True, "--memory": True}


def strip_wrapper_options(argv: list[str]) -> list[str]:
    """Remove the options pcli.sh consumes itself, wherever they appear."""
    remaining: list[str] = []
    skip_value = False
    for arg in argv:
        if skip_value:
            skip_value = False
            continue
        name = arg.split("=", 1)[0]
        if name in _WRAPPER_OPTIONS:
            skip_value = _WRAPPER_OPTIONS[name] and "=" not in arg
            continue
        remaining.append(arg)
    return remaining


def _parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="pcli", description="SIMULATOR of the Hiero platform CLI (hiero-replay).", allow_abbrev=False)
    groups = root.add_subparsers(dest="group", required=True)
    event_stream = groups.add_parser("event-stream", allow_abbrev=False).add_subparsers(dest="command", required=True)
    recover = event_stream.add_parser(
        "recover", allow_abbrev=False, description="Build a state file by replaying events from an event stream. (SIMULATOR)"
    )
    recover.add_argument("bootstrap_state")
    recover.add_argument("event_stream_dir")
    recover.add_argument("-i", "--id", required=True, type=int)
    recover.add_argument("-o", "--out", default="./out")
    recover.add_argument("-f", "--final-round", type=int, default=-1)
    recover.add_argument("-p", "--ignore-partial", action="store_true")
    recover.add_argument("-s", "--load-signing-keys", action="store_true")
    recover.add_argument("-c", "--config")
    recover.add_argument("-t", "--transaction-offset-nanos", default="0")
    return root


def _event_files(directory: Path) -> list[Path]:
    found = [Path(folder, name) for folder, _, names in os.walk(directory) for name in names if name.endswith(".evts")]
    return sorted(found, key=lambda path: path.name)


def _rounds(files: list[Path], first_round: int, allow_partial: bool) -> Iterator[tuple[int, list[bytes], int]]:
    """Yield ``(round, [event bytes], consensus time)`` from ``first_round`` on, like EventStreamRoundIterator."""
    previous_end: bytes | None = None
    current: list[bytes] = []
    current_round: int | None = None
    complete = False
    consensus_ns = 0
    for path in files:
        data = path.read_bytes()
        try:
            parsed = read_event_file(data, name=path.name)
        except ReplayError as error:
            raise JavaFailure(f"file `{path}` terminates early", "java.io.IOException", WORKFLOW) from error
        if previous_end is not None and parsed.start_hash != previous_end:
            raise JavaFailure(f"missing event stream file prior to `{path}` detected", "java.io.IOException", WORKFLOW)
        previous_end = parsed.end_hash
        for event in parsed.events:
            if event.round_received < first_round:
                continue
            if current_round is not None and event.round_received != current_round:
                yield current_round, current, consensus_ns
                current = []
            if current_round is None and event.round_received != first_round:
                raise JavaFailure(
                    f"The event stream has no events of round {first_round}: it continues at round {event.round_received}",
                    "java.util.NoSuchElementException",
                    WORKFLOW,
                )
            current_round = event.round_received
            current.append(data[event.start : event.end])
            complete, consensus_ns = event.last_in_round, event.consensus_time_ns
    if current_round is not None and (complete or allow_partial):
        yield current_round, current, consensus_ns


def recover(args: argparse.Namespace) -> None:
    state_dir, events_dir = Path(args.bootstrap_state), Path(args.event_stream_dir)
    for label, path in (("bootstrapStateDir", state_dir), ("eventStreamDir", events_dir)):
        if not path.is_dir():
            print(f"Invalid value for positional parameter '{label}': {path} does not exist or is not a directory", file=sys.stderr)
            sys.exit(2)
    log("INFO", f"SIMULATOR Loading state from {state_dir}")
    try:
        metadata = read_state_metadata(state_dir)
    except ReplayError as error:
        raise JavaFailure(f"Unable to read state from {state_dir}: {error.message}", "java.io.IOException", WORKFLOW) from error
    log("INFO", f"State from round {metadata.round} loaded.")
    log("INFO", f"Loading event stream at {events_dir}")
    log("INFO", "Reapplying transactions")
    ledger = RoundLedger("event-stream-recover")
    state_hash, last_round, last_consensus, event_count = metadata.hash, None, None, 0
    for round_number, events, consensus_ns in _rounds(_event_files(events_dir), metadata.round + 1, not args.ignore_partial):
        if args.final_round != -1 and round_number > args.final_round:
            break
        if last_round is not None and round_number != last_round + 1:
            raise JavaFailure(f"Unexpected round {round_number} after round {last_round}", "java.lang.IllegalStateException", WORKFLOW)
        log("INFO", f"Applying {len(events)} events from round {round_number}")
        state_hash = next_state_hash(state_hash, round_number, events)
        last_round, last_consensus, event_count = round_number, consensus_ns, event_count + len(events)
        ledger.applied(round_number)
    if last_round is None or last_consensus is None:
        raise JavaFailure("lastEvent", "java.lang.NullPointerException", WORKFLOW)
    log("INFO", "Hashing resulting signed state")
    out = Path(args.out)
    log("INFO", f"Finished reapplying transactions, writing state to {out}")
    write_state_directory(out, round_number=last_round, state_hash=state_hash, node_id=args.id, consensus_time_ns=last_consensus, events=event_count)
    ledger.commit()
    day = time.gmtime(last_consensus // 1_000_000_000)
    pces = out / time.strftime("%Y/%m/%d", day) / f"{time.strftime('%Y-%m-%dT%H_%M_%SZ', day)}_seq0_minr{last_round}_maxr{last_round}_orgn{last_round}.pces"
    pces.parent.mkdir(parents=True, exist_ok=True)
    pces.write_bytes(hashlib.sha384(state_hash.encode()).digest())
    log("INFO", "Signed state written to disk")
    log("INFO", "Recovery process completed")


def main(argv: list[str] | None = None) -> None:
    print("PCLI -- hiero-replay SIMULATOR of the Hiero platform CLI", flush=True)
    args = _parser().parse_args(strip_wrapper_options(list(sys.argv[1:] if argv is None else argv)))
    run_like_java(lambda: recover(args))


if __name__ == "__main__":
    main()
