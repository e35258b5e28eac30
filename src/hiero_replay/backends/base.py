"""The ``ReplayBackend`` protocol: how one segment becomes a command line, and how its failures read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, Sequence

from ..errors import BackendError, ReplayError

BackendName = Literal["event-stream", "block-stream"]
TAIL_LINES = 15


@dataclass(frozen=True)
class Invocation:
    """Everything a backend needs to apply one segment."""

    state_dir: Path
    input_dir: Path
    node_id: int
    target_round: int
    out_dir: Path
    expected_hash: str | None = None
    rounds_per_second: int | None = None


class ReplayBackend(Protocol):
    name: BackendName
    #: Does the tool itself fail on an expected-hash mismatch (apply-blocks) or not (PCLI)?
    checks_expected_hash: bool
    timeout: float | None

    def argv(self, invocation: Invocation) -> list[str]:
        """The exact argument vector; never run through a shell."""
        ...

    def progress_round(self, line: str) -> int | None:
        """The round a line of the tool's output reports as applied, if any."""
        ...

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        """The typed error for a non-zero exit, from the known messages in the output's tail."""
        ...


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
