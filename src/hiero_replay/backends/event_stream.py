"""The event-stream backend: PCLI ``event-stream recover`` (``reference/hiero-tools.md`` §2)."""

from __future__ import annotations

import re
from typing import Sequence

from ..config import EventStreamBackendConfig
from ..errors import BackendError, ContinuityError, CorruptFileError, ReplayError
from .base import Invocation, find_line, generic_failure, message_of

_APPLYING = re.compile(r"Applying (\d+) events from round (\d+)")


class EventStreamBackend:
    name = "event-stream"
    checks_expected_hash = False  # PCLI has no expected hash: the orchestrator compares HASH itself

    def __init__(self, config: EventStreamBackendConfig, command: list[str] | None = None) -> None:
        self.command = command or list(config.command)
        self.config = config
        self.timeout = config.timeout

    def argv(self, invocation: Invocation) -> list[str]:
        argv = [
            *self.command,
            "event-stream",
            "recover",
            str(invocation.state_dir),
            str(invocation.input_dir),
            "--id",
            str(invocation.node_id),
            "--ignore-partial",
            "--final-round",
            str(invocation.target_round),
            "--out",
            str(invocation.out_dir),
        ]
        if self.config.config_file is not None:
            argv += ["--config", str(self.config.config_file)]
        if self.config.load_signing_keys:
            argv.append("--load-signing-keys")
        if self.config.transaction_offset_nanos is not None:
            argv += ["--transaction-offset-nanos", str(self.config.transaction_offset_nanos)]
        return [*argv, *self.config.args]

    def progress_round(self, line: str) -> int | None:
        match = _APPLYING.search(line)
        return int(match.group(2)) if match else None

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        line = find_line(tail, "missing event stream file prior to")
        if line is not None:
            return ContinuityError(f"PCLI: {message_of(line)}", hint="Run `hiero-replay inspect` on the event source.")
        line = find_line(tail, "NoSuchElementException")
        if line is not None:
            return ContinuityError(f"PCLI could not find the start round: {message_of(line)}")
        line = find_line(tail, "terminates early")
        if line is not None:
            return CorruptFileError(f"PCLI: {message_of(line)}")
        if find_line(tail, "the JVM classpath is empty") is not None:
            return BackendError(
                "pcli.sh found no jars: the JVM classpath is empty.",
                hint="Add the jars with backends.event_stream.args (e.g. [\"-L\", \"data/lib\"]) or fix backends.event_stream.command.",
            )
        return generic_failure("PCLI event-stream recover", exit_code, tail)
