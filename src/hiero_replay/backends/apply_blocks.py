"""The block-stream backend: the state validator's ``apply-blocks`` (``reference/hiero-tools.md`` §1.3, §7.1)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field

from ..errors import ContinuityError, CorruptFileError, HashMismatchError, MissingInputError, ReplayError
from ..model.plan import Invocation
from ..streams.naming import Compression, FileKind, StreamFileName, block_file_name
from .base import BackendConfig, FailureRule, ToolBackend, message_of

_EXPECTED = re.compile(r"Expected:\s*([0-9a-fA-F]+)")
_ACTUAL = re.compile(r"Actual:\s*([0-9a-fA-F]+)")


class BlockStreamBackendConfig(BackendConfig):
    command: list[str] = Field(default_factory=lambda: ["java", "-jar", "hedera-state-validator.jar"], min_length=1)


def _mismatch(_: str, tail: Sequence[str]) -> ReplayError:
    text = "\n".join(tail)
    expected, actual = _EXPECTED.search(text), _ACTUAL.search(text)
    return HashMismatchError(
        "apply-blocks: the resulting state's hash is not the expected hash.",
        expected=expected.group(1).lower() if expected else None,
        actual=actual.group(1).lower() if actual else None,
    )


def _continuity(line: str, _: Sequence[str]) -> ReplayError:
    return ContinuityError(f"apply-blocks: {message_of(line)}", hint="Run `hiero-replay inspect` on the block source.")


class BlockStreamBackend(ToolBackend[BlockStreamBackendConfig]):
    name = "block-stream"
    tool = "apply-blocks"
    stream_kind = FileKind.BLOCK
    checks_expected_hash = True
    paces_rounds = True  # --rate: rounds per second, paced at every round
    simulator = "hiero_replay.simulate.validator"
    config_model = BlockStreamBackendConfig
    failures = (
        FailureRule("hashes do not match", _mismatch),
        FailureRule("Block stream directory is missing", _continuity),
        FailureRule("doesn't have a proper starting round", _continuity),
        FailureRule("Unexpected round number", _continuity),
        FailureRule("Block stream is incomplete", _continuity),
        FailureRule("State directory does not exist", lambda line, _: MissingInputError(f"apply-blocks: {message_of(line)}")),
        FailureRule(
            "Failed reading block @",
            lambda line, _: CorruptFileError(
                f"apply-blocks: {message_of(line)}", hint="Fetch the block again; .blk.zstd is not readable by apply-blocks."
            ),
        ),
    )

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
        return [*argv, "--out", str(invocation.out_dir), *self.config.args]

    def staged_name(self, name: StreamFileName) -> tuple[str, Compression]:
        """apply-blocks parses the number from a flat base name and reads raw or gzip only: nested
        and zstd blocks are staged as flat ``%036d`` names, zstd decompressed."""
        assert name.block_number is not None
        compression = Compression.NONE if name.compression is Compression.ZSTD else name.compression
        return block_file_name(name.block_number, compression), compression

    def progress_round(self, line: str) -> int | None:
        return None  # apply-blocks logs nothing per round
