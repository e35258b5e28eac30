"""The block-stream backend: the state validator's ``apply-blocks`` (``reference/hiero-tools.md`` §1.3, §7.1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field

from ..errors import BackendError, ConfigError, ContinuityError, CorruptFileError, HashMismatchError, MissingInputError, ReplayError
from ..model.plan import Invocation
from ..streams.naming import Compression, FileKind, StreamFileName, block_file_name
from .base import BackendConfig, FailureRule, ToolBackend, message_of
from .capabilities import Capabilities

_EXPECTED = re.compile(r"Expected:\s*([0-9a-fA-F]+)")
_ACTUAL = re.compile(r"Actual:\s*([0-9a-fA-F]+)")
_PROGRESS = re.compile(r"Block stream recovery: (\d+)%")
_FAILED_READING = re.compile(r"Failed reading block @ (\S+)")


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


def _unreadable_block(line: str, tail: Sequence[str]) -> ReplayError:
    """A block apply-blocks cannot parse: damaged, or (an unknown field: its strict parser) written by
    a HAPI version this build of the tool does not know (reference/hiero-tools.md §7.1)."""
    found = _FAILED_READING.search(line)
    path = found.group(1) if found else None
    where = f"the block file {path}" if path else "a block file"
    if any("unknown field" in entry.lower() for entry in tail):
        return ConfigError(
            f"apply-blocks cannot read {where}: it holds a field this build of the state validator does not know.",
            hint="The blocks' HAPI version and the tool's do not match (`hiero-replay inspect` shows the HAPI version): "
            "use a state validator built from the release that wrote these blocks.",
            file=path,
        )
    return CorruptFileError(
        f"apply-blocks cannot read {where}: {message_of(line)}",
        hint="Run `hiero-replay inspect` on the block source and fetch the file again; .blk.zstd is not readable by apply-blocks.",
        file=path,
    )


class BlockStreamBackend(ToolBackend[BlockStreamBackendConfig]):
    name = "block-stream"
    tool = "apply-blocks"
    stream_kind = FileKind.BLOCK
    checks_expected_hash = True
    creates_output_folder = False  # on main, --out must exist (§7.1)
    log_files: ClassVar[tuple[str, ...]] = ("validator.log", "state-analysis.log")  # log4j2 writes them into the working directory (§7.1)
    simulator = "hiero_replay.simulate.validator"
    config_model = BlockStreamBackendConfig
    failures = (
        FailureRule("hashes do not match", _mismatch),
        FailureRule("Block stream directory is missing", _continuity),
        FailureRule("doesn't have a proper starting round", _continuity),
        FailureRule("Unexpected round number", _continuity),
        FailureRule("Block stream is incomplete", _continuity),
        FailureRule("State directory does not exist", lambda line, _: MissingInputError(f"apply-blocks: {message_of(line)}")),
        FailureRule("Failed reading block @", _unreadable_block),
        FailureRule(
            "Snapshot creation failed",
            lambda line, _: BackendError(
                f"apply-blocks: {message_of(line)}: it could not write the state into its --out folder.",
                hint="Check that the disk of the work directory and --out has room and is writable.",
            ),
        ),
    )

    def adapt(self, capabilities: Capabilities) -> list[str]:
        super().adapt(capabilities)
        self.paces_rounds = "--rate" in capabilities.options
        if capabilities.starts and not self.paces_rounds:
            return ["the installed apply-blocks has no --rate (an older build): the orchestrator paces it between segments"]
        return []

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

    def capability_lines(self) -> list[tuple[str, str]]:
        if self.paces_rounds:
            return [("--rate", "yes: apply-blocks paces every round itself at a rate in rounds/s")]
        return [("--rate", "no (an older build): with a rate, the orchestrator releases segments at the pace instead")]

    def probe_argv(self) -> list[str]:
        """``apply-blocks`` without its required options: picocli answers with its usage."""
        return [*self.command, ".", "apply-blocks"]

    def progress_round(self, line: str, first: int, last: int) -> int | None:
        """``Block stream recovery: N%`` of the rounds after the state (§7.1)."""
        match = _PROGRESS.search(line)
        if match is None:
            return None
        return first - 1 + (last - first + 1) * min(100, int(match.group(1))) // 100
