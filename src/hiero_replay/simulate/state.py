"""What both simulators share: the simulated state transition and the round-directory writer."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, NoReturn

from ..states import format_state_metadata
from ..streams.timestamps import format_consensus_time

#: Optional file to which every applied round is appended ("<tool> <round>"), for tests.
LEDGER_ENV = "HIERO_REPLAY_SIMULATOR_LEDGER"
#: Optional seconds of simulated work per round (the Java tools take real time per round).
ROUND_SECONDS_ENV = "HIERO_REPLAY_SIMULATOR_ROUND_SECONDS"


#: Test fault, not a behaviour of the tools: from this round on, every state the simulators write
#: differs from the one the history records (a replay that diverges).
DIVERGE_ENV = "HIERO_REPLAY_SIMULATOR_DIVERGE_FROM_ROUND"

#: A state transition: the state hash after a round, from the one before and the round's transactions.
Transition = Callable[[str, int, Iterable[bytes]], str]

#: ``BlockItem.signed_transaction`` (``reference/stream-formats.md`` §3.3).
SIGNED_TRANSACTION = 4
#: Bytes before a ``CesEvent``'s body: class id (8) and class version (4); class version 2's body
#: starts with the length (4) of its protobuf ``GossipEvent``.
_EVENT_HEADER = 12


def next_state_hash(state_hash: str, round_number: int, transactions: Iterable[bytes]) -> str:
    """The simulated transition: fold one round's transactions into the state hash. Both streams
    record the same transactions for a round (they overlap around the cutover, ``reference/
    hiero-tools.md`` §5), so a round gives the same state whichever tool replays it, like the node's
    state, whatever the cutover. The synthetic history uses it too, for its states and its block
    footers: simulators and history agree."""
    content = hashlib.sha384()
    for transaction in transactions:
        content.update(transaction)
    return hashlib.sha384(bytes.fromhex(state_hash) + round_number.to_bytes(8, "big") + content.digest()).hexdigest()


def event_transactions(events: Iterable[bytes]) -> list[bytes]:
    """The transactions of serialized events (``CesEvent``), in order: those of each class version 2
    event's ``GossipEvent``; a legacy (class version 1) event counts as one, whole (no block stream
    records that era's rounds)."""
    from ..streams import messages

    found: list[bytes] = []
    for event in events:
        if int.from_bytes(event[8:_EVENT_HEADER], "big") != 2:
            found.append(event)
            continue
        length = int.from_bytes(event[_EVENT_HEADER : _EVENT_HEADER + 4], "big")
        body = event[_EVENT_HEADER + 4 : _EVENT_HEADER + 4 + length]
        found.extend(messages.GossipEvent.FromString(body).transactions)
    return found


def block_transactions(items: Iterable[bytes]) -> list[bytes]:
    """The transactions of a round's block items, in order (its ``signed_transaction`` items)."""
    from ..streams import messages
    from ..streams.block_hash import item_field_number

    return [messages.BlockItem.FromString(item).signed_transaction for item in items if item_field_number(item) == SIGNED_TRANSACTION]


def with_faults(transition: Transition) -> Transition:
    """``transition``, diverging from the round DIVERGE_ENV names, when it names one."""
    named = os.environ.get(DIVERGE_ENV)
    if not named:
        return transition
    first = int(named)

    def diverging(state_hash: str, round_number: int, round_items: Iterable[bytes]) -> str:
        reached = transition(state_hash, round_number, round_items)
        return hashlib.sha384(bytes.fromhex(reached) + b"diverged").hexdigest() if round_number >= first else reached

    return diverging


class RoundLedger:
    """Records the rounds a run applied (when asked to) and spends the simulated work time.

    A round counts as applied once the state holding it is written: ``commit`` appends one line per
    round, ``<tool> <round> <monotonic time it was applied>``, to the file named by LEDGER_ENV.
    """

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.path = os.environ.get(LEDGER_ENV)
        self._work = float(os.environ.get(ROUND_SECONDS_ENV, "0") or 0)
        self._applied: list[tuple[int, float]] = []

    def applied(self, round_number: int) -> None:
        if self._work:
            time.sleep(self._work)
        self._applied.append((round_number, time.monotonic()))

    def commit(self) -> None:
        if self.path is None:
            return
        with open(self.path, "a", encoding="utf-8") as ledger:
            ledger.write("".join(f"{self.tool} {number} {at:.6f}\n" for number, at in self._applied))
            ledger.flush()
            os.fsync(ledger.fileno())


def write_state_directory(
    out: Path,
    *,
    round_number: int,
    state_hash: str,
    node_id: int,
    consensus_time_ns: int | None,
    events: int = 0,
) -> None:
    """Write a round directory in the real layout, metadata first and not atomically, like the tools."""
    out.mkdir(parents=True, exist_ok=True)
    # Key order of the enum on main, main's keys included (reference/hiero-tools.md §4, §7.1).
    fields = {
        "ROUND": str(round_number),
        "HASH": state_hash,
        "HASH_MNEMONIC": "-".join(state_hash[i : i + 4] for i in range(0, 16, 4)),
        "NUMBER_OF_CONSENSUS_EVENTS": str(events),
        "CONSENSUS_TIMESTAMP": format_consensus_time(consensus_time_ns) if consensus_time_ns else "null",
        "LEGACY_RUNNING_EVENT_HASH": "null",
        "LEGACY_RUNNING_EVENT_HASH_MNEMONIC": "null",
        "MINIMUM_BIRTH_ROUND_NON_ANCIENT": str(max(1, round_number - 26)),
        "SOFTWARE_VERSION": "0.78.0-simulated",
        "WALL_CLOCK_TIME": format_consensus_time(time.time_ns()),
        "NODE_ID": str(node_id),
        "SIGNING_NODES": str(node_id),
        "SIGNING_WEIGHT_SUM": "1",
        "TOTAL_WEIGHT": "1",
        "FREEZE_STATE": "false",
    }
    (out / "stateMetadata.txt").write_text(format_state_metadata(fields), encoding="utf-8")
    (out / "hashInfo.txt").write_text(f"(root) VirtualMap    state    /    {fields['HASH_MNEMONIC']}\n", encoding="utf-8")
    (out / "currentRoster.json").write_text(json.dumps({"rosterEntries": [{"nodeId": node_id, "weight": 1}]}), encoding="utf-8")
    (out / "settingsUsed.txt").write_text("# simulated by hiero-replay\n", encoding="utf-8")
    (out / "signatureSet.pbj").write_bytes(b"")
    (out / "consensusSnapshot.json").write_text(json.dumps({"round": round_number}), encoding="utf-8")
    state = out / "data" / "state"
    state.mkdir(parents=True, exist_ok=True)
    (state / "state.bin").write_bytes(bytes.fromhex(state_hash))


def log(level: str, message: str, *, stream: IO[str] | None = None) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    print(f"{stamp} {level:<5} [main] {message}", file=stream or sys.stdout, flush=True)


class PicocliParser(argparse.ArgumentParser):
    """argparse that fails the way picocli does: the error in picocli's words, then the full usage
    help (every option with its long name), on stderr, exit 2 (``reference/hiero-tools.md`` §1.1)."""

    def _long_name(self, name: str) -> str:
        for action in self._actions:
            if name in action.option_strings:
                return max(action.option_strings, key=len)
        return name

    def error(self, message: str) -> NoReturn:
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        missing = re.match(r"the following arguments are required: (.*)", message)
        if unknown:
            names = [f"'{token}'" for token in unknown.group(1).split() if token.startswith("-")] or [f"'{unknown.group(1)}'"]
            message = f"Unknown option{'s' if len(names) > 1 else ''}: {', '.join(names)}"
        elif missing:
            names = [self._long_name(name.split("/")[0]) for name in missing.group(1).split(", ")]
            options = [f"'{name}'" for name in names if name.startswith("-")]
            parameters = [f"'<{name}>'" for name in names if not name.startswith("-")]
            message = "; ".join(
                ([f"Missing required option{'s' if len(options) > 1 else ''}: {', '.join(options)}"] if options else [])
                + ([f"Missing required parameter{'s' if len(parameters) > 1 else ''}: {', '.join(parameters)}"] if parameters else [])
            )
        print(message, file=sys.stderr)
        self.print_help(sys.stderr)
        sys.exit(2)


class JavaFailure(Exception):
    """A failure the real tool reports as an uncaught Java exception (exit code 1)."""

    def __init__(self, message: str, java_class: str = "java.lang.RuntimeException", frame: str = "", cause: str | None = None) -> None:
        super().__init__(message)
        self.java_class = java_class
        self.frame = frame
        self.cause = cause


def die_like_java(failure: JavaFailure, log_error: Callable[[str], None]) -> NoReturn:
    """Log the failure, print it the way picocli prints an uncaught exception, and exit 1."""
    log_error(str(failure))
    print(f"{failure.java_class}: {failure}", file=sys.stderr)
    for frame in (
        failure.frame,
        "picocli.CommandLine.executeUserObject(CommandLine.java:2045)",
        "picocli.CommandLine.execute(CommandLine.java:2174)",
    ):
        if frame:
            print(f"\tat {frame}", file=sys.stderr)
    if failure.cause:
        print(f"Caused by: {failure.cause}", file=sys.stderr)
    sys.stderr.flush()
    sys.exit(1)


def run_like_java(action: Callable[[], None], log_error: Callable[[str], None]) -> None:
    """Run a simulated command; fail the way picocli reports an uncaught exception (exit 1), also
    for a bug in the simulator itself. ``log_error`` is where the tool's logger puts the error."""
    try:
        action()
    except JavaFailure as failure:
        die_like_java(failure, log_error)
    except Exception:  # noqa: BLE001 - a crash of the tool is still exit 1 with a stack trace
        die_like_java(JavaFailure(traceback.format_exc().strip().splitlines()[-1], "java.lang.IllegalStateException"), log_error)
