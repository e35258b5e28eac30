"""The block-stream backend: the state validator's ``apply-blocks`` (``reference/hiero-tools.md`` §1.3)."""

from __future__ import annotations

import re
from typing import Sequence

from ..config import BlockStreamBackendConfig
from ..errors import ContinuityError, CorruptFileError, HashMismatchError, MissingInputError, ReplayError
from .base import Invocation, find_line, generic_failure, message_of

_EXPECTED = re.compile(r"Expected:\s*([0-9a-fA-F]+)")
_ACTUAL = re.compile(r"Actual:\s*([0-9a-fA-F]+)")
# Known failure messages -> error class; the tool's own words are kept in the message.
_CONTINUITY_MARKERS = (
    "Block stream directory is missing",
    "doesn't have a proper starting round",
    "Unexpected round number",
    "Block stream is incomplete",
)


class BlockStreamBackend:
    name = "block-stream"
    checks_expected_hash = True

    def __init__(self, config: BlockStreamBackendConfig, command: list[str] | None = None) -> None:
        self.command = command or list(config.command)
        self.extra_args = list(config.args)
        self.timeout = config.timeout

    def argv(self, invocation: Invocation) -> list[str]:
        argv = [
            *self.command,
            str(invocation.state_dir),
            "apply-blocks",
            "--block-stream-dir",
            str(invocation.input_dir),
            "--node-id",
            str(invocation.node_id),
            "--target-round",
            str(invocation.target_round),
        ]
        if invocation.expected_hash:
            argv += ["--expected-hash", invocation.expected_hash]
        if invocation.rounds_per_second is not None:
            argv += ["--rate", str(invocation.rounds_per_second)]
        return [*argv, "--out", str(invocation.out_dir), *self.extra_args]

    def progress_round(self, line: str) -> int | None:
        return None  # apply-blocks logs nothing per round

    def failure(self, exit_code: int, tail: Sequence[str]) -> ReplayError:
        text = "\n".join(tail)
        if "hashes do not match" in text:
            expected, actual = _EXPECTED.search(text), _ACTUAL.search(text)
            return HashMismatchError(
                "apply-blocks: the resulting state's hash is not the expected hash.",
                expected=expected.group(1).lower() if expected else None,
                actual=actual.group(1).lower() if actual else None,
            )
        for marker in _CONTINUITY_MARKERS:
            line = find_line(tail, marker)
            if line is not None:
                return ContinuityError(f"apply-blocks: {message_of(line)}", hint="Run `hiero-replay inspect` on the block source.")
        line = find_line(tail, "State directory does not exist")
        if line is not None:
            return MissingInputError(f"apply-blocks: {message_of(line)}")
        line = find_line(tail, "Failed reading block @")
        if line is not None:
            return CorruptFileError(f"apply-blocks: {message_of(line)}", hint="Fetch the block again; .blk.zstd is not readable by apply-blocks.")
        return generic_failure("apply-blocks", exit_code, tail)

