"""The inventory: the ordered, checked file set of one source for a round range, and what is wrong with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import CorruptFileError, HashMismatchError, ReplayError
from ..streams.timestamps import format_consensus_time
from .files import Ignored, Problem, StreamFile


@dataclass(frozen=True)
class Gap:
    """Missing data: ``blocks`` or ``rounds`` (first..last inclusive), or ``event-files`` between two files."""

    kind: str
    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def _values(attribute: str, files: Iterable[StreamFile]) -> list[int]:
    return [value for f in files if (value := getattr(f, attribute)) is not None]


@dataclass
class Inventory:
    source: str
    block_files: list[StreamFile] = field(default_factory=list)
    event_files: list[StreamFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    verified_links: int = 0
    unverifiable_links: int = 0
    from_round: int | None = None
    to_round: int | None = None

    @property
    def files(self) -> list[StreamFile]:
        return self.event_files + self.block_files

    @property
    def kind(self) -> str:
        if self.block_files and self.event_files:
            return "mixed"
        if self.block_files:
            return "block-stream"
        return "event-stream" if self.event_files else "empty"

    @property
    def chain_breaks(self) -> list[Problem]:
        """The problems that break a hash chain: a hash that does not match, a file that does not decode."""
        return [p for p in self.problems if isinstance(p.error, CorruptFileError) or type(p.error) is HashMismatchError]

    @property
    def hash_chain(self) -> str:
        """``verified`` only when every link was checked and held; else ``broken``, ``interrupted``
        (by missing files) or ``unverifiable``."""
        if self.chain_breaks:
            return "broken"
        if any(gap.kind in ("blocks", "event-files") for gap in self.gaps):
            return "interrupted"
        if self.unverifiable_links or not self.verified_links:
            return "unverifiable"
        return "verified"

    @property
    def wrapped_records_only(self) -> bool:
        """Every file is a wrapped record block: such blocks carry no rounds."""
        return (
            bool(self.block_files)
            and not self.event_files
            and all(f.block is not None and f.block.record_file is not None for f in self.block_files)
        )

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_round(self) -> int | None:
        return min(_values("first_round", self.files), default=None)

    @property
    def last_round(self) -> int | None:
        return max(_values("last_round", self.files), default=None)

    def to_json(self) -> dict[str, Any]:
        blocks = [f.block.number for f in self.block_files if f.block is not None]
        first_times = _values("first_time_ns", self.files)
        last_times = _values("last_time_ns", self.files)
        return {
            "source": self.source,
            "kind": self.kind,
            "files": len(self.files),
            "block_files": len(self.block_files),
            "event_files": len(self.event_files),
            "first_block": min(blocks, default=None),
            "last_block": max(blocks, default=None),
            "first_round": self.first_round,
            "last_round": self.last_round,
            "first_consensus_time": format_consensus_time(min(first_times)) if first_times else None,
            "last_consensus_time": format_consensus_time(max(last_times)) if last_times else None,
            "hapi_versions": sorted({f.block.hapi for f in self.block_files if f.block is not None}),
            "hash_chain": self.hash_chain,
            "verified_links": self.verified_links,
            "unverifiable_links": self.unverifiable_links,
            "chain_breaks": [problem.to_json() for problem in self.chain_breaks],
            "gaps": [gap.to_json() for gap in self.gaps],
            "problems": [problem.to_json() for problem in self.problems],
            "ignored": [entry.to_json() for entry in self.ignored],
        }

    def first_error(self) -> ReplayError | None:
        return self.problems[0].error if self.problems else None

    def raise_for_problems(self) -> None:
        error = self.first_error()
        if error is not None:
            raise error
