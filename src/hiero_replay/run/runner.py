"""Execute a replay plan: stage each segment's files, release it through the pacer, run its
backend, verify its output, and only then rename the output into place and checkpoint it.

Every transition is recorded in the run store, so ``resume`` continues after a crash, SIGKILL or
power loss: verified segments are kept, a segment whose backend is still running (or finished
while we were gone) is adopted, and a half-written output is discarded and its segment rerun.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from ..backends.base import ReplayBackend
from ..backends.process import SupervisorFiles, find_supervisor, follow_backend, start_backend, stop_process_group
from ..errors import CheckpointError, ConfigError, HashMismatchError, MissingInputError, ReplayError, ReplayInterrupted, as_replay_error
from ..logs import bind_run_context, get_logger, unbind_run_context
from ..model.plan import Invocation, ReplayPlan, Segment
from ..model.results import RunResult, SegmentResult, coherent_consensus_seconds, rounded
from ..observe.events import RunObserver
from ..safe_files import write_atomically
from ..sources.base import ReplaySource
from ..states import StateMetadata, read_state_metadata
from ..store import RunStore, SegmentRecord
from ..streams.timestamps import parse_consensus_time
from .bisect import Probe, disproved_by_stream, narrow_down
from .interrupts import held
from .pacer import Pacer
from .prefetch import Prefetcher
from .staging import check_local_inputs, keep_mismatched_output, prepare_output, promote_output, remove_intermediates, stage_inputs
from .verify import verify_output


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def _verified(record: SegmentRecord | None) -> bool:
    return record is not None and record.state == "verified"


def _consensus_ns(metadata: StateMetadata) -> int | None:
    try:
        return parse_consensus_time(metadata.consensus_timestamp or "")
    except ValueError:
        return None


class Runner:
    """Runs (or resumes) one recorded plan, segment by segment."""

    def __init__(
        self,
        plan: ReplayPlan,
        *,
        backends: dict[str, ReplayBackend],
        sources: dict[str, ReplaySource],
        store: RunStore,
        pacer: Pacer,
        prefetch_workers: int,
        observer: RunObserver | None = None,
        bisect: bool = True,
        keep_intermediates: bool = False,
    ) -> None:
        self.plan = plan
        self.backends = backends
        self.sources = sources
        self.store = store
        self.pacer = pacer
        self.prefetcher = Prefetcher(sources, prefetch_workers)
        #: The supervised backend this run started and still follows.
        self._running: subprocess.Popen[bytes] | None = None
        #: When the pacer released each segment (seconds after the first release) and how long it held it.
        self._released: dict[int, tuple[float, float]] = {}
        #: When this invocation began running the plan (wall clock): a segment it adopts started before.
        self._began = time.time()
        self.observer = observer or RunObserver()
        #: Narrow a segment the block stream disproves down to its first divergent block.
        self.bisect = bisect
        self.keep_intermediates = keep_intermediates
        self.log = get_logger()

    def start(self) -> RunResult:
        """Run the plan of a run the store opened (``RunStore.open_run``)."""
        plan = self.plan
        if os.path.lexists(plan.out):
            raise ConfigError(f"The output {plan.out} already exists; hiero-replay never overwrites a state.", hint="Choose a new --out.")
        # It may exist: a run killed before its plan was recorded is planned again under its id.
        plan.run_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(plan.run_dir / "plan.json", json.dumps(plan.to_json(), indent=2))
        self.store.plan_run(plan.run_id, plan.to_json())
        return self._execute({})

    def resume(self) -> RunResult:
        records = {record.idx: record for record in self.store.segments(self.plan.run_id)}
        # Before the run is reopened: inputs missing or changed leave it as it was, to resume once put back.
        check_local_inputs((s for s in self.plan.segments if not _verified(records.get(s.index))), self.sources)
        self.store.reopen_run(self.plan.run_id)
        return self._execute(records)

    def _execute(self, records: dict[int, SegmentRecord]) -> RunResult:
        plan = self.plan
        bind_run_context(run_id=plan.run_id)
        self.log.info(
            "run resumed" if records else "run started",
            mode=plan.mode,
            reason=plan.reason,
            start_round=plan.start_round,
            target_round=plan.target_round,
            cutover_round=plan.cutover_round,
            segments=len(plan.segments),
            rate=plan.rate,
            bootstrap_check=plan.bootstrap_check,
        )
        for warning in plan.warnings:
            self.log.warning("plan warning", warning=warning)
        result = RunResult(plan)
        started, self._began = time.monotonic(), time.time()
        self.observer.run_started(plan, {url: source.kind for url, source in self.sources.items()})
        try:
            try:
                for index, segment in enumerate(plan.segments):
                    self.prefetcher.ready(segment)
                    following = plan.segments[index + 1] if index + 1 < len(plan.segments) else None
                    superseded = following is not None and _verified(records.get(following.index))
                    if following is not None and not superseded:
                        self.prefetcher.ahead(following)
                    result.segments.append(self._segment(segment, records.get(segment.index), superseded))
            finally:  # before the outcome is reported: a failed run's metrics carry its retries too
                self.prefetcher.close()
                result.source_retries = self._report_retries()
            if not self.keep_intermediates:
                remove_intermediates(plan)  # before it is recorded as succeeded: cut short, a resume ends it
        except (Exception, KeyboardInterrupt) as raised:  # recorded (never left "running"), then shown by the CLI
            self._stop_running()
            result.seconds = time.monotonic() - started
            self._failed(as_replay_error(raised), result)
            raise
        finally:
            unbind_run_context("backend", "segment")
        result.seconds = time.monotonic() - started
        result.paced_seconds = self.pacer.waited_seconds
        self.store.finish_run(plan.run_id, "succeeded", final_round=result.final_round, final_hash=result.final_hash, exit_code=0)
        write_atomically(plan.run_dir / "result.json", json.dumps(result.to_json(), indent=2))
        self.observer.run_finished(result)
        self.log.info(
            "run finished",
            final_round=result.final_round,
            final_hash=result.final_hash,
            seconds=round(result.seconds, 3),
            rounds_per_second=round(result.rounds_per_second, 2),
            consensus_speed=rounded(result.consensus_speed),
            paced_seconds=round(result.paced_seconds, 3),
            source_retries=sum(result.source_retries.values()),
        )
        unbind_run_context("run_id")
        return result

    def _stop_running(self) -> None:
        """Stop the backend this run started, if it still runs (an interruption or a failure)."""
        process, self._running = self._running, None
        if process is not None and process.poll() is None:
            stop_process_group(process.pid, lambda: process.poll() is None)

    def _failed(self, error: ReplayError, result: RunResult) -> None:
        """Record how the run ended: interrupted (resumable) or failed, with its kind and exit code,
        in the store and in ``result.json`` (with the segments verified until then)."""
        self.observer.run_failed(error)
        state = "interrupted" if isinstance(error, ReplayInterrupted) else "failed"
        result.failure = {"outcome": state, "kind": error.kind, "exit_code": error.exit_code, "message": str(error)}
        if isinstance(error, HashMismatchError) and error.divergence is not None:
            result.failure["divergence"] = error.divergence.to_json()
        try:
            write_atomically(self.plan.run_dir / "result.json", json.dumps(result.to_json(), indent=2))
        except OSError as unwritten:  # the run's own outcome stands; the store records it below
            self.log.warning("result.json not written", reason=str(unwritten))
        self.store.finish_run(self.plan.run_id, state, error_kind=error.kind, error_message=str(error), exit_code=error.exit_code)
        self.log.error("run failed", error=error.kind, exit_code=error.exit_code, message=str(error))
        unbind_run_context("run_id")

    def _report_retries(self) -> dict[str, int]:
        """Retries of every source over the run (its preflight included), reported once at its end."""
        retries = {url: source.retries for url, source in self.sources.items() if source.retries}
        for url, count in retries.items():
            self.observer.source_retried(self.sources[url].kind, count)
        return retries

    # one segment -----------------------------------------------------------------------------

    def _segment(self, segment: Segment, record: SegmentRecord | None, superseded: bool) -> SegmentResult:
        plan = self.plan
        bind_run_context(backend=segment.backend, segment=f"{segment.index}/{len(plan.segments)}")
        backend = self.backends[segment.backend]
        files = SupervisorFiles.in_folder(segment.folder)
        if record is not None and record.state == "verified":
            return self._checkpointed(segment, record, superseded)
        if record is not None and record.state == "running":
            adopted = self._recover(segment, record, backend, files)
            if adopted is not None:
                return adopted
        self.log.info(
            "segment started",
            first_round=segment.first_round,
            last_round=segment.last_round,
            files=len(segment.files),
            state=str(segment.state_dir),
            argv=list(segment.argv),
            proven_by=segment.proof.by,
            proof=segment.proof.reason,
        )
        self.observer.segment_started(segment)
        source = self.sources[segment.source]
        fetch_started = time.monotonic()
        try:
            fetched = stage_inputs(segment, source, backend)
        except ReplayError:
            self.observer.fetched(source.kind, 0, 0, time.monotonic() - fetch_started, False)
            raise
        fetch_seconds = time.monotonic() - fetch_started
        self.observer.fetched(source.kind, len(segment.files), fetched, fetch_seconds, True)
        self.store.segment_fetched(plan.run_id, segment.index, files=len(segment.files), size=fetched, seconds=fetch_seconds)
        prepare_output(segment.out_dir, backend)
        waited = self.pacer.release(segment.workload)
        self._released[segment.index] = (self.pacer.last_release, waited)
        if waited > 0:
            self.observer.paced(waited)
            self.log.info("pacing wait", seconds=round(waited, 3), rate=plan.rate)
        started_at = time.time()
        self.store.segment_starting(plan.run_id, segment.index, started_at)
        process = self._start(backend, segment.invocation, files)
        self.store.segment_supervised(plan.run_id, segment.index, process.pid)
        result = self._finish(segment, backend, files, process.pid, started_at, process=process)
        self._running = None
        return result

    def _finish(
        self,
        segment: Segment,
        backend: ReplayBackend,
        files: SupervisorFiles,
        pid: int,
        started_at: float,
        process: subprocess.Popen[bytes] | None = None,
    ) -> SegmentResult:
        try:
            follow_backend(
                backend, files, pid, started_at=started_at, rounds=(segment.first_round, segment.last_round), on_line=self._log_line,
                on_round=self.observer.round_applied, on_tick=self.observer.tick, process=process,
            )  # fmt: skip
            metadata = self._verify(segment, segment.out_dir, backend)
        except HashMismatchError as error:
            kept = keep_mismatched_output(segment, self.plan.run_dir)
            if kept is not None:
                self.log.error("hash mismatch: resulting state kept", state=str(kept))
                error.hint = f"The resulting state is kept at {kept}; {self.plan.out} was not created."
            if segment.proof.by == "stream":
                disproved_by_stream(segment, error)
                if self.bisect:
                    self._bisect(segment, backend, error)
            self.store.segment_failed(self.plan.run_id, segment.index, str(error))
            raise
        except BaseException as error:
            _remove(segment.out_dir)
            self.store.segment_failed(self.plan.run_id, segment.index, str(error) or type(error).__name__)
            raise
        promote_output(segment, self.plan)
        return self._checkpoint(segment, metadata, started_at)

    def _bisect(self, segment: Segment, backend: ReplayBackend, error: HashMismatchError) -> None:
        """Narrow a segment the stream disproves down to its first divergent block (said on ``error``)."""
        previous = self.plan.segments[segment.index - 2] if segment.index > 1 else None
        start_proven = previous.proof.verified if previous is not None else self.plan.bootstrap_proven

        def record(probe: Probe) -> None:
            self.store.bisect_step(
                self.plan.run_id, segment.index, probe.step, rounds=(probe.from_round + 1, probe.checkpoint.round),
                block=probe.checkpoint.block, expected_hash=probe.checkpoint.expected_hash, actual_hash=probe.actual_hash,
                state_dir=probe.state_dir,
            )  # fmt: skip

        def replay_to(invocation: Invocation, folder: Path) -> str:
            files = SupervisorFiles.in_folder(folder)
            stale = find_supervisor(files)  # a step left running by an orchestrator that died
            if stale is not None:
                stop_process_group(stale, lambda: find_supervisor(files) is not None)
            prepare_output(invocation.out_dir, backend)
            started_at = time.time()
            process = self._start(backend, invocation, files)
            follow_backend(
                backend, files, process.pid, started_at=started_at, rounds=(segment.first_round, invocation.target_round),
                on_line=self._log_line, on_tick=self.observer.tick, process=process,
            )  # fmt: skip
            self._running = None
            return verify_output(invocation.out_dir, backend, target_round=invocation.target_round, expected_hash=None).hash

        narrow_down(segment, error, replay_to, record, start_proven=start_proven)

    def _start(self, backend: ReplayBackend, invocation: Invocation, files: SupervisorFiles) -> subprocess.Popen[bytes]:
        """Start a backend under its supervisor. An interruption waits while it starts and is noted:
        wherever it then lands, the run's failure path finds the backend to stop (``_stop_running``)."""
        with held():
            process = self._running = start_backend(backend, invocation, files)
        return process

    def _recover(self, segment: Segment, record: SegmentRecord, backend: ReplayBackend, files: SupervisorFiles) -> SegmentResult | None:
        """A segment that was running when the orchestrator stopped: adopt it, or discard it."""
        started_at = record.started_at or time.time()
        if not segment.out_dir.exists() and segment.final_dir.exists():
            try:  # renamed into place just before the crash, not yet checkpointed
                metadata = self._verify(segment, segment.final_dir, backend)
            except ReplayError:
                pass
            else:
                self.log.info("segment recovered: output already in place", state=str(segment.final_dir))
                return self._checkpoint(segment, metadata, started_at)
        supervisor = find_supervisor(files)
        if supervisor is not None or files.exit_code() is not None:
            self.log.info("segment adopted: following its backend", supervisor_pid=supervisor)
            try:
                return self._finish(segment, backend, files, supervisor or 0, started_at)
            except ReplayError as error:
                if files.exit_code() is not None:
                    raise  # it ended, and how it ended is the answer
                self.log.warning("adopted segment lost; it is run again", reason=str(error))
        self.log.info("discarding the half-written output of an interrupted segment", output=str(segment.out_dir))
        _remove(segment.out_dir)
        return None

    def _checkpointed(self, segment: Segment, record: SegmentRecord, superseded: bool) -> SegmentResult:
        """A segment verified before a resume. The newest checkpoint, where the run goes on from, must
        still be in place and unchanged; one a later checkpoint supersedes is not needed, nor read."""
        if not superseded:
            try:
                metadata = read_state_metadata(segment.final_dir, role="checkpoint")
            except MissingInputError as error:
                raise CheckpointError(
                    f"The checkpoint state of segment {segment.index} ({segment.final_dir}) is gone: {error.message}",
                    hint="The run cannot resume from it; start a new run.",
                ) from error
            if (metadata.round, metadata.hash) != (record.round, record.hash):
                raise CheckpointError(
                    f"The checkpoint state of segment {segment.index} ({segment.final_dir}) changed since it was verified: "
                    f"round {metadata.round} HASH {metadata.hash}, verified as round {record.round} HASH {record.hash}.",
                    hint="The run cannot resume from it; start a new run.",
                )
        self.log.info("segment already verified", round=record.round, state=str(segment.final_dir))
        return SegmentResult(
            segment.index, segment.backend, segment.first_round, segment.last_round, record.round or 0, record.hash or "",
            record.seconds or 0.0, record.consensus_seconds, replayed=False, files=len(segment.files),
            verified_by=segment.proof.by, expected_hash=segment.expected_hash,
        )  # fmt: skip

    def _verify(self, segment: Segment, directory: Path, backend: ReplayBackend) -> StateMetadata:
        return verify_output(directory, backend, target_round=segment.last_round, expected_hash=segment.expected_hash)

    def _checkpoint(self, segment: Segment, metadata: StateMetadata, started_at: float) -> SegmentResult:
        seconds = time.time() - started_at
        before, after = _consensus_ns(read_state_metadata(segment.state_dir)), _consensus_ns(metadata)
        consensus_seconds = coherent_consensus_seconds(before, after, segment.rounds)
        self.store.segment_verified(
            self.plan.run_id, segment.index, round_number=metadata.round, state_hash=metadata.hash,
            state_dir=segment.final_dir, seconds=seconds, consensus_seconds=consensus_seconds,
        )  # fmt: skip
        released_after, paced_seconds = self._released.get(segment.index, (None, 0.0))
        result = SegmentResult(
            segment.index, segment.backend, segment.first_round, segment.last_round, metadata.round, metadata.hash,
            seconds, consensus_seconds, files=len(segment.files), released_after=released_after,
            paced_seconds=paced_seconds, verified_by=segment.proof.by, expected_hash=segment.expected_hash,
            before_resume=max(0.0, self._began - started_at),
        )  # fmt: skip
        self.observer.segment_verified(segment, result, _consensus_ns(metadata))
        self.log.info(
            "segment verified",
            round=metadata.round,
            hash=metadata.hash,
            state=str(segment.final_dir),
            seconds=round(seconds, 3),
            rounds_per_second=round(result.rounds_per_second, 2),
            consensus_speed=rounded(result.consensus_speed),
        )
        return result

    def _log_line(self, stream: str, line: str) -> None:
        # The tools' own lines are kept at debug (--verbose); their stderr is worth seeing always.
        if stream == "stderr":
            self.log.warning(line, stream=stream)
        else:
            self.log.debug(line, stream=stream)
