"""The replay plan: which backend applies which rounds from which files, in which order."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..streams.naming import FileKind
from .rate import Rate, Workload


@dataclass(frozen=True)
class Coverage:
    """The rounds a stream holds, first to last complete (gaps inside are the inventory's job)."""

    first: int
    last: int

    def holds(self, round_number: int) -> bool:
        return self.first <= round_number <= self.last


@dataclass(frozen=True)
class StreamRange:
    """Rounds ``first..last`` replayed from one kind of stream."""

    kind: FileKind
    first: int
    last: int


@dataclass(frozen=True)
class StreamChoice:
    """What the selection rule decided, and why (in words, for logs and ``plan``)."""

    ranges: tuple[StreamRange, ...]
    cutover_round: int | None
    reason: str


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


#: How a segment's resulting state is proven, strongest first.
PROVEN_BY = ("stream", "expected-state", "expected-hash", "none")


@dataclass(frozen=True)
class Proof:
    """How the state a segment produces is proven: by the block stream (the footer of ``block``,
    ``reference/hiero-tools.md`` §7.3), by the user's reference, or not at all; ``reason`` says
    which value, or why there is none."""

    by: str
    expected_hash: str | None
    reason: str
    block: int | None = None

    @property
    def verified(self) -> bool:
        return self.expected_hash is not None


@dataclass(frozen=True)
class Segment:
    index: int
    backend: str
    first_round: int
    last_round: int
    source: str
    files: tuple[str, ...]
    #: What the backend is given; its ``out_dir`` is renamed to ``final_dir`` only once verified.
    invocation: Invocation
    final_dir: Path
    #: What proves the state this segment must produce (its expected hash), or why nothing does.
    proof: Proof
    argv: tuple[str, ...]
    #: Rounds, files and estimated consensus time: what the pacer charges for this segment.
    workload: Workload
    #: The checksum of each file of ``files`` as the plan verified it (``None``: recorded before
    #: checksums were): the file staged must still be that one.
    checksums: tuple[int, ...] | None = None

    @property
    def expected_hash(self) -> str | None:
        return self.proof.expected_hash

    @property
    def rounds(self) -> int:
        return self.last_round - self.first_round + 1

    @property
    def state_dir(self) -> Path:
        return self.invocation.state_dir

    @property
    def input_dir(self) -> Path:
        return self.invocation.input_dir

    @property
    def out_dir(self) -> Path:
        return self.invocation.out_dir

    @property
    def folder(self) -> Path:
        """The segment's own folder under the run: staged input, backend log and exit status."""
        return self.invocation.input_dir.parent

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        invocation = dict(data["invocation"])
        for key in ("state_dir", "input_dir", "out_dir"):
            invocation[key] = Path(invocation[key])
        data = dict(data)
        if "proof" not in data:  # recorded before segments were proven by the stream
            expected = data.pop("expected_hash", None)
            data["proof"] = {
                "by": "expected-hash" if expected else "none",
                "expected_hash": expected,
                "reason": "recorded by an older version",
            }
        return cls(
            **{
                **data,
                "proof": Proof(**data["proof"]),
                "files": tuple(data["files"]),
                "invocation": Invocation(**invocation),
                "final_dir": Path(data["final_dir"]),
                "argv": tuple(data["argv"]),
                "workload": Workload(**data["workload"]),
                "checksums": _checksums(data.get("checksums"), len(data["files"])),
            }
        )


def _checksums(recorded: object, files: int) -> tuple[int, ...] | None:
    """A segment's recorded checksums: one CRC-32 per file, or none (recorded by an older version)."""
    if recorded is None:
        return None
    if not isinstance(recorded, list) or len(recorded) != files or not all(type(value) is int and 0 <= value < 2**32 for value in recorded):
        raise ValueError(f"checksums must be one CRC-32 per file ({files}), not {str(recorded)[:80]}")
    return tuple(recorded)


@dataclass(frozen=True)
class ReplayPlan:
    run_id: str
    run_dir: Path
    mode: str
    reason: str
    bootstrap_state: Path
    bootstrap_round: int
    bootstrap_hash: str
    start_round: int
    target_round: int
    cutover_round: int | None
    expected_hash: str | None
    out: Path
    rate: str
    sources: dict[str, str]
    segments: tuple[Segment, ...] = field(default=())
    #: What the plan cannot promise, in words (a tool without a capability, a pace that cannot hold).
    warnings: tuple[str, ...] = ()
    #: What the bootstrap state's HASH was checked against (``none``: not checked, and why).
    bootstrap_proof: Proof | None = None

    @property
    def bootstrap_check(self) -> str:
        """How the bootstrap state was checked against the block stream, in words."""
        return self.bootstrap_proof.reason if self.bootstrap_proof is not None else "-"

    @property
    def bootstrap_proven(self) -> bool:
        return self.bootstrap_proof is not None and self.bootstrap_proof.verified

    @property
    def pace(self) -> Rate:
        """The configured rate."""
        return Rate.parse(self.rate)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplayPlan:
        """The plan a run recorded (for ``run --resume``)."""
        paths = {key: Path(data[key]) for key in ("run_dir", "bootstrap_state", "out")}
        segments = tuple(Segment.from_json(s) for s in data["segments"])
        proof = data.get("bootstrap_proof")
        return cls(
            **{
                **data,
                **paths,
                "segments": segments,
                "warnings": tuple(data.get("warnings", ())),
                "bootstrap_proof": Proof(**proof) if proof else None,
            }
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return str(value) if isinstance(value, Path) else value
