"""The event-stream backend: PCLI ``event-stream recover`` (``reference/hiero-tools.md`` §2, §7.2)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from ..errors import ConfigError, ContinuityError, CorruptFileError, ReplayError
from ..model.plan import Invocation
from ..streams.naming import Compression, FileKind, StreamFileName
from .base import BackendConfig, FailureRule, ToolBackend, message_of
from .capabilities import Capabilities

_APPLYING = re.compile(r"Applying (\d+) events from round (\d+)")


class EventStreamBackendConfig(BackendConfig):
    command: list[str] = Field(default_factory=lambda: ["pcli.sh"], min_length=1)
    config_file: Path | None = Field(None, description="PCLI --config settings file.")
    load_signing_keys: bool = Field(False, description="PCLI --load-signing-keys.")
    transaction_offset_nanos: int | None = Field(None, ge=0, description="PCLI --transaction-offset-nanos.")


def _no_jars(line: str, _: Sequence[str]) -> ReplayError:
    return ConfigError(
        f"pcli.sh found no jars to run: {line.removeprefix('ERROR: ').strip()}",
        hint='Add the jars with backends.event_stream.args (e.g. ["-L", "/opt/hedera/data/lib", "-L", "/opt/hedera/data/apps"]) '
        "or fix backends.event_stream.command.",
    )


def _no_such_element(line: str, _: Sequence[str]) -> ReplayError:
    """Another ``NoSuchElementException``: one PCLI variant throws it when ``--config`` is missing (§7.2)."""
    return ConfigError(
        f"PCLI failed: {message_of(line)}",
        hint="Some PCLI builds need a settings file: set backends.event_stream.config_file.",
    )


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
            "Requested value is not in the specified range",
            lambda _line, _tail: ContinuityError(
                "PCLI found no events of the round after the bootstrap state: the event files start later (NoSuchElementException).",
                hint="Add the event files that hold the rounds right after the bootstrap state, or start from a later state.",
            ),
        ),
        FailureRule("NoSuchElementException", _no_such_element),
        FailureRule("terminates early", lambda line, _: CorruptFileError(f"PCLI: {message_of(line)}")),
        FailureRule("the JVM module path is empty", _no_jars),  # pcli.sh on main (§7.2)
        FailureRule("the JVM classpath is empty", _no_jars),  # older pcli.sh (§2.1)
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

    def probe_argv(self) -> list[str]:
        """``recover`` without its parameters (the configured wrapper options kept): picocli answers with its usage."""
        return [*self.command, "event-stream", "recover", *self.config.args]

    def adapt(self, capabilities: Capabilities) -> list[str]:
        super().adapt(capabilities)
        offset = "--transaction-offset-nanos"
        if capabilities.starts and self.config.transaction_offset_nanos is not None and offset not in capabilities.options:
            raise ConfigError(
                f"backends.event_stream.transaction_offset_nanos is set, but the installed PCLI ({' '.join(self.command)}) "
                f"has no {offset} option (added in May 2026, PR #25250).",
                hint="Remove backends.event_stream.transaction_offset_nanos, or install a newer PCLI.",
            )
        return []

    def capability_lines(self) -> list[tuple[str, str]]:
        offset = "--transaction-offset-nanos"
        supported = self.capabilities is not None and offset in self.capabilities.options
        configured = self.config.transaction_offset_nanos
        if supported:
            use = f"passed as configured ({configured})" if configured is not None else "not configured: PCLI's default (0) applies"
            return [(offset, f"yes; {use}")]
        if configured is not None:
            return [(offset, f"no (an older build), but configured ({configured}): runs are refused until the key is removed")]
        return [(offset, "no (an older build); not configured, so nothing changes")]

    def progress_round(self, line: str, first: int, last: int) -> int | None:
        """``Applying N events from round R``: round R is being applied (§2.3)."""
        match = _APPLYING.search(line)
        return int(match.group(2)) if match else None
