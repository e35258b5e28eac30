"""The ``ReplayBackend`` protocol: what a replay tool reads, how a segment becomes its command line,
how it is paced, how its progress and failures read.

A backend describes itself (``stream_kind``, ``paces_rounds``, ``stops_early_silently``, ...): the
planner and the runner ask it instead of testing its name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendError, ReplayError
from ..model.plan import Invocation
from ..streams.naming import Compression, FileKind, StreamFileName
from .capabilities import Capabilities

TAIL_LINES = 15


class BackendConfig(BaseModel):
    """What every backend's section of the configuration holds (``[backends.<name>]``)."""

    model_config = ConfigDict(extra="forbid")

    command: list[str] = Field(min_length=1, description="Argument vector prefix that starts the tool.")
    args: list[str] = Field(default_factory=list, description="Extra arguments appended to every invocation.")
    timeout: float | None = Field(None, gt=0, description="Seconds before a segment's process is stopped.")


class ReplayBackend(Protocol):
    #: The registry name, which is also the ``--mode`` that replays with this backend only.
    name: ClassVar[str]
    #: How messages name the tool.
    tool: ClassVar[str]
    #: The stream this backend replays.
    stream_kind: ClassVar[FileKind]
    #: Does the tool itself fail on an expected-hash mismatch (apply-blocks) or not (PCLI)?
    checks_expected_hash: ClassVar[bool]
    #: Does the tool exit 0 when its input ends before the target round (PCLI)?
    stops_early_silently: ClassVar[bool]
    #: Does the tool create its output folder (PCLI), or must it exist before it starts (apply-blocks on main)?
    creates_output_folder: ClassVar[bool]
    #: Files the tool writes into its working directory (the segment's folder), shown on failure.
    log_files: ClassVar[tuple[str, ...]]
    #: Does the installed tool take a rounds-per-second rate of its own (apply-blocks ``--rate``)?
    paces_rounds: bool
    #: What the capability probe found (``None`` until probed).
    capabilities: Capabilities | None
    #: Seconds a segment may take before its process is stopped.
    timeout: float | None

    def argv(self, invocation: Invocation) -> list[str]:
        """The exact argument vector; never run through a shell."""
        ...

    def probe_argv(self) -> list[str]:
        """A command line the tool rejects with its usage, which names every option it accepts."""
        ...

    def adapt(self, capabilities: Capabilities) -> list[str]:
        """Take what the installed tool supports into account; returns what that changes, in words
        (a ``ConfigError`` when the configuration asks for something the tool lacks)."""
        ...

    def capability_lines(self) -> list[tuple[str, str]]:
        """Each optional capability the backend uses, and what a replay does with (or without) it."""
        ...

    def staged_name(self, name: StreamFileName) -> tuple[str, Compression]:
        """The file name the tool reads a stream file under, and the compression that copy must have."""
        ...

    def progress_round(self, line: str, first: int, last: int) -> int | None:
        """The round a line of the tool's output reports as applied, if any, in a segment of rounds ``first..last``."""
        ...

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        """The typed error for a non-zero exit, from the known messages in the output's tail."""
        ...


ConfigT = TypeVar("ConfigT", bound=BackendConfig)


@dataclass(frozen=True)
class FailureRule:
    """A known failure: the first tail line holding ``marker`` becomes ``error(line, tail)``."""

    marker: str
    error: Callable[[str, Sequence[str]], ReplayError]


class ToolBackend(ABC, Generic[ConfigT]):
    """What the backends share: their command from the configuration and a failure table."""

    name: ClassVar[str]
    tool: ClassVar[str]
    stream_kind: ClassVar[FileKind]
    checks_expected_hash: ClassVar[bool] = False
    stops_early_silently: ClassVar[bool] = False
    creates_output_folder: ClassVar[bool] = True
    log_files: ClassVar[tuple[str, ...]] = ()
    #: The module that simulates the tool (``--simulate``), run as ``python -m``.
    simulator: ClassVar[str]
    config_model: ClassVar[type[BackendConfig]]
    failures: ClassVar[tuple[FailureRule, ...]] = ()

    def __init__(self, config: ConfigT, command: Sequence[str] | None = None) -> None:
        self.config = config
        self.command = list(command or config.command)
        self.timeout = config.timeout
        self.paces_rounds = False
        self.capabilities: Capabilities | None = None

    def adapt(self, capabilities: Capabilities) -> list[str]:
        self.capabilities = capabilities
        return []

    def capability_lines(self) -> list[tuple[str, str]]:
        return []

    @abstractmethod
    def argv(self, invocation: Invocation) -> list[str]: ...

    @abstractmethod
    def staged_name(self, name: StreamFileName) -> tuple[str, Compression]: ...

    @abstractmethod
    def probe_argv(self) -> list[str]: ...

    @abstractmethod
    def progress_round(self, line: str, first: int, last: int) -> int | None: ...

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        for rule in self.failures:
            line = find_line(tail, rule.marker)
            if line is not None:
                return rule.error(line, tail)
        return generic_failure(self.tool, exit_code, tail)


def generic_failure(tool: str, exit_code: int, tail: Sequence[str]) -> BackendError:
    shown = "\n".join(f"  | {line}" for line in tail[-TAIL_LINES:]) or "  | (no output)"
    if exit_code == 2:
        what = f"{tool} rejected its command line (usage error, exit 2)"
        hint = "Check that the installed tool matches the documented contract (run it with --help)."
    elif exit_code < 0:
        what = f"{tool} was killed by signal {-exit_code}"
        hint = "Check the machine's memory and the process limits; rerun the run."
    else:
        what = f"{tool} failed with exit code {exit_code}"
        hint = "Read the tool's output above; fix the cause and rerun."
    return BackendError(f"{what}. Last lines of its output:\n{shown}\n", hint=hint)


def find_line(tail: Sequence[str], marker: str) -> str | None:
    return next((line for line in reversed(tail) if marker in line), None)


def message_of(line: str) -> str:
    """The message part of a Java exception line or a log line."""
    for separator in ("Exception: ", "Error: ", "] "):
        if separator in line:
            return line.split(separator, 1)[1].strip()
    return line.strip()
