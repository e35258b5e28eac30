"""The event-stream backend: PCLI ``event-stream recover`` (``reference/hiero-tools.md`` §2, §7.2)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from ..errors import BackendError, ContinuityError, CorruptFileError
from ..model.plan import Invocation
from ..streams.naming import Compression, FileKind, StreamFileName
from .base import BackendConfig, FailureRule, ToolBackend, message_of

_APPLYING = re.compile(r"Applying (\d+) events from round (\d+)")


class EventStreamBackendConfig(BackendConfig):
    command: list[str] = Field(default_factory=lambda: ["pcli.sh"], min_length=1)
    config_file: Path | None = Field(None, description="PCLI --config settings file.")
    load_signing_keys: bool = Field(False, description="PCLI --load-signing-keys.")
    transaction_offset_nanos: int | None = Field(None, ge=0, description="PCLI --transaction-offset-nanos.")


class EventStreamBackend(ToolBackend[EventStreamBackendConfig]):
    name = "event-stream"
    tool = "PCLI event-stream recover"
    stream_kind = FileKind.EVENTS
    stops_early_silently = True  # the orchestrator checks the output's ROUND and HASH itself
    simulator = "hiero_replay.simulate.pcli"
    config_model = EventStreamBackendConfig
    failures = (
        FailureRule(
            "missing event stream file prior to",
            lambda line, _: ContinuityError(f"PCLI: {message_of(line)}", hint="Run `hiero-replay inspect` on the event source."),
        ),
        FailureRule(
            "NoSuchElementException", lambda line, _: ContinuityError(f"PCLI could not find the start round: {message_of(line)}")
        ),
        FailureRule("terminates early", lambda line, _: CorruptFileError(f"PCLI: {message_of(line)}")),
        FailureRule(
            "the JVM classpath is empty",
            lambda _line, _tail: BackendError(
                "pcli.sh found no jars: the JVM classpath is empty.",
                hint='Add the jars with backends.event_stream.args (e.g. ["-L", "data/lib"]) or fix backends.event_stream.command.',
            ),
        ),
    )

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

    def staged_name(self, name: StreamFileName) -> tuple[str, Compression]:
        """PCLI reads only names ending in ``.evts``: gzip copies are staged decompressed."""
        return name.name.removesuffix(".gz"), Compression.NONE

    def progress_round(self, line: str) -> int | None:
        match = _APPLYING.search(line)
        return int(match.group(2)) if match else None
