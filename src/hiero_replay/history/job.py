"""One job: a normal replay from a saved state to the next one, in the job's own folder, whose
exit code becomes the job's outcome (0 verified, 5 mismatch, 4 gap, anything else failed).

A job that was cut off (its worker died, its pod was stopped) is resumed from its last verified
checkpoint, adopting a backend that is still running; a job whose replay already succeeded is not
run again. The job's folder holds ``work/`` (the replay's work directory and run store), ``out/``
(the final state, removed once verified unless ``keep_states``), ``attempts.jsonl`` (where and when
each attempt ran) and ``result.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path

from ..backends.probe import PROBES_FILE
from ..config import Settings, load_settings
from ..errors import AlreadyRunningError, CheckpointError, HashMismatchError, InternalError, ReplayError, ReplayInterrupted
from ..logs import get_logger
from ..model.history import JobResult
from ..run import resume_replay, run_replay
from ..store import DATABASE, RunStore
from .jobs import JobSpec

#: How long a job waits for its folder's lock (an earlier attempt of it still stopping).
LOCK_WAIT_SECONDS = 120.0
RESULT_FILE = "result.json"
LOG_FILE = "job.log"
ATTEMPTS_FILE = "attempts.jsonl"


def write_json_atomically(path: Path, data: object) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(partial, path)


def _already_succeeded(work_dir: Path, spec: JobSpec) -> bool:
    """The replay of this job already reached the end state (an attempt that died before reporting it)."""
    if not (work_dir / DATABASE).exists():
        return False
    store = RunStore(work_dir)
    try:
        return any(
            run.state == "succeeded" and run.final_round == spec.end.round and run.final_hash == spec.end.hash for run in store.runs(5)
        )
    finally:
        store.close()


def _unfinished_run(work_dir: Path, spec: JobSpec) -> tuple[str, bool] | None:
    """A run of this job that was cut off (still marked running, or interrupted) with progress to
    keep or adopt, between the job's two states as they are now; and whether the job's output may
    be its last segment's state (verified, or renamed into place just before the cut)."""
    if not (work_dir / DATABASE).exists():
        return None
    store = RunStore(work_dir)
    try:
        latest = next(iter(store.runs(1)), None)
        if latest is None or latest.state not in ("running", "interrupted"):
            return None
        plan = latest.plan
        ends = (plan.get("bootstrap_round"), plan.get("bootstrap_hash"), plan.get("target_round"), plan.get("expected_hash"))
        if ends != (spec.start.round, spec.start.hash, spec.end.round, spec.end.hash):
            return None  # planned against states that have changed since: it proves nothing about these
        states = {segment.idx: segment.state for segment in store.segments(latest.id)}
        if not any(state in ("verified", "running") for state in states.values()):
            return None
        last: int = max((segment["index"] for segment in plan.get("segments", [])), default=0)
        return latest.id, states.get(last) in ("verified", "running")
    finally:
        store.close()


def _put_aside(out: Path) -> None:
    """An output no run of this job recorded as its verified state: never trusted, kept for a look."""
    if out.exists() or out.is_symlink():
        out.rename(out.with_name(f"out.unverified-{time.time_ns()}"))


def _resume_or_run(spec: JobSpec, settings: Settings, out: Path) -> None:
    log = get_logger()
    work_dir = settings.work_dir
    unfinished = _unfinished_run(work_dir, spec)
    if unfinished is not None:
        run_id, output_is_its_own = unfinished
        if not output_is_its_own:
            _put_aside(out)
        log.info("job resumed from its last checkpoint", job=spec.index, run_id=run_id)
        try:
            resume_replay(work_dir, run_id)
            return
        except CheckpointError as error:  # a local state lost or altered: the job starts over from its saved state
            log.warning("job's checkpoint unusable; replayed from its saved state", job=spec.index, reason=error.message)
    _put_aside(out)
    run_replay(settings, trigger="verify-history")


def _replay(spec: JobSpec) -> None:
    settings = load_settings(None, spec.settings)
    work_dir, out = settings.work_dir, settings.replay.out
    assert out is not None
    if spec.probes and not (work_dir / PROBES_FILE).exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomically(work_dir / PROBES_FILE, spec.probes)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        if _already_succeeded(work_dir, spec):  # also by an earlier attempt that was still stopping
            get_logger().info("job already verified by an earlier attempt", job=spec.index)
            return
        try:
            _resume_or_run(spec, settings, out)
            return
        except AlreadyRunningError:  # an earlier attempt of this job is still stopping
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _tidy(folder: Path) -> None:
    """A verified job keeps its records and logs, not its states: the output and the cache go (its
    run has removed its staged input and intermediate states, unless told to keep them)."""
    for path in (folder / "out", folder / "work" / "cache"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def run_job(spec: JobSpec, worker: str) -> JobResult:
    """Run the job here and now; never raises: every failure is the result's exit code and message."""
    folder = Path(spec.folder)
    folder.mkdir(parents=True, exist_ok=True)
    started_at, started = time.time(), time.monotonic()
    with open(folder / ATTEMPTS_FILE, "a", encoding="utf-8") as attempts:
        attempts.write(json.dumps({"worker": worker, "pid": os.getpid(), "parent": os.getppid(), "started_at": started_at}) + "\n")
    exit_code, message, block = 0, None, None
    try:
        _replay(spec)
    except ReplayError as error:
        exit_code, message = error.exit_code, str(error)
        block = error.first_divergent_block if isinstance(error, HashMismatchError) else None
    except KeyboardInterrupt:
        exit_code, message = ReplayInterrupted.exit_code, "Interrupted by SIGINT; the backend was stopped."
    except Exception as error:  # noqa: BLE001 - a bug in one job must not take the others down
        kept = folder / "internal-error.log"
        kept.write_text(traceback.format_exc(), encoding="utf-8")
        exit_code, message = InternalError.exit_code, f"internal error ({type(error).__name__}: {error}); traceback in {kept}"
    if exit_code == 0 and not spec.keep_states:
        _tidy(folder)
    result = spec.result(
        exit_code, worker=worker, started_at=started_at, seconds=time.monotonic() - started, message=message, first_divergent_block=block
    )
    write_json_atomically(folder / RESULT_FILE, result.to_json())
    return result
