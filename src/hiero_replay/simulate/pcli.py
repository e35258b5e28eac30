"""Simulator of ``pcli.sh event-stream recover``, as it behaves on upstream main.

    python -m hiero_replay.simulate.pcli [--profile main|older|bare[,...]] [-L jar] [-J jvmarg] ...
        event-stream recover <stateDir> <eventsDir> --id N [--out O] [--final-round R] [--ignore-partial]
        [--load-signing-keys] [--config C] [--transaction-offset-nanos T]

Every behaviour comes from ``reference/hiero-tools.md`` (section in brackets):
- The wrapper consumes exactly ``-L/--load``, ``-J/--jvm``, ``-D/--debug``, ``-M/--memory`` and
  ``-B/--banner``, wherever they appear; any other token (``--cp``, ``-I``, ``--load=x``) reaches
  picocli [§7.2]. The banner prints only with ``-B`` [§7.2]. Without a module path (no sdk beside the
  script, ``--profile bare``, and no existing ``-L`` path) it prints ``ERROR: the JVM module path is
  empty!`` and exits 1 [§2.1, §7.2].
- picocli exit codes 0/1/2 [§2.1]; ``--transaction-offset-nanos`` exists only since PR #25250:
  ``--profile older`` rejects it with exit 2 [§7.2].
- Event files are found recursively (names ending exactly in ``.evts``) and ordered by name; a
  broken running-hash link is "missing event stream file prior to ..." [§2.3, §3]. Events that start
  after the state's round + 1: ``NoSuchElementException: Requested value is not in the specified
  range`` [§7.2].
- Rounds from the state's round + 1 are applied up to the final round, each logged as ``Applying N
  events from round R``; when the events run out first it **stops early without failing** [§2.3].
- ``--out`` is created and the state written straight into it, plus one PCES file [§2.3, §7.2].
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .state import JavaFailure, PicocliParser, RoundLedger, log, run_like_java

WORKFLOW = "org.hiero.consensus.pcli.recovery.EventRecoveryWorkflow.recoverState(EventRecoveryWorkflow.java:118)"
#: pcli.sh options consumed by the wrapper on main, as exact tokens: name -> takes a value [§7.2].
_WRAPPER_OPTIONS = {"-L": True, "--load": True, "-J": True, "--jvm": True, "-D": False, "--debug": False,
                    "-M": True, "--memory": True, "-B": False, "--banner": False}  # fmt: skip
BANNER = "PCLI -- hiero-replay SIMULATOR of the Hiero platform CLI"


def strip_wrapper_options(argv: list[str], *, sdk: bool = True) -> tuple[list[str], bool]:
    """Remove the options pcli.sh consumes itself, wherever they appear. Returns what reaches
    Java and whether the banner was asked for; exits like the wrapper when the module path is empty."""
    remaining: list[str] = []
    module_path = ["sdk"] if sdk else []
    banner = False
    arguments = iter(argv)
    for arg in arguments:
        if arg not in _WRAPPER_OPTIONS:
            remaining.append(arg)
        elif _WRAPPER_OPTIONS[arg]:
            value = next(arguments, "")
            if arg in ("-L", "--load") and Path(value).exists():
                module_path.append(value)
        elif arg in ("-B", "--banner"):
            banner = True
    if not module_path:
        print("ERROR: the JVM module path is empty!", flush=True)
        sys.exit(1)
    return remaining, banner


def _parser(profiles: set[str]) -> argparse.ArgumentParser:
    root = PicocliParser(prog="pcli", description="SIMULATOR of the Hiero platform CLI (hiero-replay).", allow_abbrev=False)
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
    if "older" not in profiles:
        recover.add_argument("-t", "--transaction-offset-nanos", default="0")
    return root


def _event_files(directory: Path) -> list[Path]:
    found = [Path(folder, name) for folder, _, names in os.walk(directory) for name in names if name.endswith(".evts")]
    return sorted(found, key=lambda path: path.name)


def _rounds(files: list[Path], first_round: int, allow_partial: bool) -> Iterator[tuple[int, list[bytes], int]]:
    """Yield ``(round, [event bytes], consensus time)`` from ``first_round`` on, like EventStreamRoundIterator."""
    from ..errors import ReplayError
    from ..streams.events import read_event_file

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
                raise JavaFailure("Requested value is not in the specified range", "java.util.NoSuchElementException", WORKFLOW)
            current_round = event.round_received
            current.append(data[event.start : event.end])
            complete, consensus_ns = event.last_in_round, event.consensus_time_ns
    if current_round is not None and (complete or allow_partial):
        yield current_round, current, consensus_ns


def recover(args: argparse.Namespace) -> None:
    from ..errors import ReplayError
    from ..states import read_state_metadata
    from .state import event_transactions, next_state_hash, with_faults, write_state_directory

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
    transition = with_faults(next_state_hash)
    ledger = RoundLedger("event-stream-recover")
    state_hash, last_round, last_consensus, event_count = metadata.hash, None, None, 0
    for round_number, events, consensus_ns in _rounds(_event_files(events_dir), metadata.round + 1, not args.ignore_partial):
        if args.final_round != -1 and round_number > args.final_round:
            break
        if last_round is not None and round_number != last_round + 1:
            raise JavaFailure(f"Unexpected round {round_number} after round {last_round}", "java.lang.IllegalStateException", WORKFLOW)
        log("INFO", f"Applying {len(events)} events from round {round_number}")
        state_hash = transition(state_hash, round_number, event_transactions(events))
        last_round, last_consensus, event_count = round_number, consensus_ns, event_count + len(events)
        ledger.applied(round_number)
    if last_round is None or last_consensus is None:
        raise JavaFailure("lastEvent", "java.lang.NullPointerException", WORKFLOW)
    log("INFO", "Hashing resulting signed state")
    out = Path(args.out)
    log("INFO", f"Finished reapplying transactions, writing state to {out}")
    write_state_directory(
        out, round_number=last_round, state_hash=state_hash, node_id=args.id, consensus_time_ns=last_consensus, events=event_count
    )
    ledger.commit()
    day = time.gmtime(last_consensus // 1_000_000_000)
    pces = (
        out
        / time.strftime("%Y/%m/%d", day)
        / f"{time.strftime('%Y-%m-%dT%H_%M_%SZ', day)}_seq0_minr{last_round}_maxr{last_round}_orgn{last_round}.pces"
    )
    pces.parent.mkdir(parents=True, exist_ok=True)
    pces.write_bytes(hashlib.sha384(state_hash.encode()).digest())
    log("INFO", "Signed state written to disk")
    log("INFO", "Recovery process completed")


def main(argv: list[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    profiles = {"main"}
    if arguments[:1] == ["--profile"] and len(arguments) > 1:
        profiles, arguments = set(arguments[1].split(",")), arguments[2:]
    remaining, banner = strip_wrapper_options(arguments, sdk="bare" not in profiles)
    if banner:
        print(BANNER, flush=True)
    args = _parser(profiles).parse_args(remaining)
    run_like_java(lambda: recover(args), lambda message: log("ERROR", message, stream=sys.stderr))


if __name__ == "__main__":
    main()
