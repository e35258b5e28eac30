"""Execute a replay plan: stage each segment's files, run its backend, verify its output, and only
then rename the output into place, chaining states from segment to segment."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backends.output import verify_output
from .backends.process import run_backend
from .errors import ConfigError, HashMismatchError, ReplayError
from .observe.logging import bind_run_context, get_logger, unbind_run_context
from .plan import PlanInputs, ReplayPlan, Segment
from .sources.base import ReplaySource
from .streams.compression import decompress
from .streams.naming import Compression, FileKind, block_file_name, parse_stream_file_name


@dataclass(frozen=True)
class SegmentResult:
    index: int
    backend: str
    first_round: int
    last_round: int
    round: int
    hash: str
    seconds: float

    @property
    def rounds_per_second(self) -> float:
        return (self.last_round - self.first_round + 1) / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class RunResult:
    plan: ReplayPlan
    segments: list[SegmentResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_round(self) -> int:
        return self.segments[-1].round

    @property
    def final_hash(self) -> str:
        return self.segments[-1].hash

    @property
    def rounds(self) -> int:
        return sum(s.last_round - s.first_round + 1 for s in self.segments)

    @property
    def rounds_per_second(self) -> float:
        return self.rounds / self.seconds if self.seconds > 0 else float("inf")

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.plan.run_id,
            "out": str(self.plan.out),
            "final_round": self.final_round,
            "final_hash": self.final_hash,
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
            "rounds_per_second": round(self.rounds_per_second, 3),
            "segments": [
                {**s.__dict__, "seconds": round(s.seconds, 3), "rounds_per_second": round(s.rounds_per_second, 3)}
                for s in self.segments
            ],
        }


def _staged_name(key: str) -> tuple[str, Compression]:
    """The name a backend can read, and the compression the staged copy must have.

    apply-blocks parses the number from the base name and reads only raw or gzip; PCLI keeps only
    names ending in ``.evts``. Nested or zstd names are therefore rewritten.
    """
    name = parse_stream_file_name(key)
    assert name is not None, key
    if name.kind is FileKind.BLOCK:
        assert name.block_number is not None
        compression = Compression.NONE if name.compression is Compression.ZSTD else name.compression
        return block_file_name(name.block_number, compression), compression
    return name.name.removesuffix(".gz"), Compression.NONE


def stage_inputs(segment: Segment, source: ReplaySource) -> None:
    """Give the segment its own input folder: hard links where possible, copies across file systems."""
    segment.input_dir.mkdir(parents=True, exist_ok=True)
    for key in segment.files:
        original = source.fetch(key)
        staged_name, compression = _staged_name(key)
        target = segment.input_dir / staged_name
        if target.exists():
            continue
        stored = parse_stream_file_name(key)
        assert stored is not None
        if stored.compression is not compression:
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_bytes(decompress(original.read_bytes(), stored.compression, name=key))
            os.replace(temporary, target)
            continue
        try:
            os.link(original, target)
        except OSError:
            shutil.copyfile(original, target)


def _remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


class Runner:
    def __init__(self, plan: ReplayPlan, inputs: PlanInputs) -> None:
        self.plan = plan
        self.inputs = inputs
        self.log = get_logger()

    def run(self) -> RunResult:
        plan = self.plan
        if plan.out.exists():
            raise ConfigError(f"The output {plan.out} already exists; hiero-replay never overwrites a state.", hint="Choose a new --out.")
        plan.run_dir.mkdir(parents=True, exist_ok=False)
        (plan.run_dir / "plan.json").write_text(json.dumps(plan.to_json(), indent=2), encoding="utf-8")
        bind_run_context(run_id=plan.run_id)
        self.log.info(
            "run started",
            mode=plan.mode,
            reason=plan.reason,
            start_round=plan.start_round,
            target_round=plan.target_round,
            cutover_round=plan.cutover_round,
            segments=len(plan.segments),
            rate=plan.rate,
        )
        result = RunResult(plan)
        started = time.monotonic()
        for segment in plan.segments:
            result.segments.append(self._run_segment(segment))
        result.seconds = time.monotonic() - started
        (plan.run_dir / "result.json").write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")
        unbind_run_context("backend", "segment")
        self.log.info("run finished", final_round=result.final_round, final_hash=result.final_hash, seconds=round(result.seconds, 3))
        return result

    def _run_segment(self, segment: Segment) -> SegmentResult:
        plan = self.plan
        backend = self.inputs.backends[segment.backend]
        bind_run_context(backend=segment.backend, segment=f"{segment.index}/{len(plan.segments)}")
        self.log.info(
            "segment started",
            first_round=segment.first_round,
            last_round=segment.last_round,
            files=len(segment.files),
            state=str(segment.state_dir),
            argv=list(segment.argv),
        )
        started = time.monotonic()
        stage_inputs(segment, self.inputs.sources[segment.source])
        _remove(segment.out_dir)
        try:
            progress = _ProgressLog(self.log, segment)
            run_backend(backend, segment.invocation, on_line=self._log_line, on_round=progress.applied)
            metadata = verify_output(
                segment.out_dir,
                tool=backend.name,
                target_round=segment.last_round,
                expected_hash=segment.expected_hash,
                stops_early_silently=not backend.checks_expected_hash,
            )
        except HashMismatchError as error:
            kept = self._keep_mismatched_state(segment)
            if kept is not None:
                error.hint = f"The resulting state is kept at {kept}; {plan.out} was not created."
            raise
        except BaseException:
            _remove(segment.out_dir)
            raise
        os.replace(segment.out_dir, segment.final_dir)
        seconds = time.monotonic() - started
        result = SegmentResult(segment.index, segment.backend, segment.first_round, segment.last_round, metadata.round, metadata.hash, seconds)
        self.log.info(
            "segment verified",
            round=metadata.round,
            hash=metadata.hash,
            state=str(segment.final_dir),
            seconds=round(seconds, 3),
            rounds_per_second=round(result.rounds_per_second, 2),
        )
        return result

    def _keep_mismatched_state(self, segment: Segment) -> Path | None:
        if not segment.out_dir.exists():
            return None
        kept = self.plan.run_dir / "mismatched-state"
        os.replace(segment.out_dir, kept)
        self.log.error("hash mismatch: resulting state kept", state=str(kept))
        return kept

    def _log_line(self, stream: str, line: str) -> None:
        # The tools' own lines are kept at debug (--verbose); their stderr is worth seeing always.
        if stream == "stderr":
            self.log.warning(line, stream=stream)
        else:
            self.log.debug(line, stream=stream)


class _ProgressLog:
    """One progress line every few seconds from the rounds a backend reports as applied."""

    INTERVAL_SECONDS = 5.0

    def __init__(self, log: Any, segment: Segment) -> None:
        self.log = log
        self.segment = segment
        self.started = self.last = time.monotonic()

    def applied(self, round_number: int) -> None:
        now = time.monotonic()
        if now - self.last < self.INTERVAL_SECONDS:
            return
        self.last = now
        done = round_number - self.segment.first_round + 1
        self.log.info("progress", round=round_number, target_round=self.segment.last_round, rounds_per_second=round(done / (now - self.started), 2))


def execute(plan: ReplayPlan, inputs: PlanInputs) -> RunResult:
    try:
        return Runner(plan, inputs).run()
    except ReplayError as error:
        get_logger().error("run failed", error=error.kind, exit_code=error.exit_code, message=str(error))
        raise
