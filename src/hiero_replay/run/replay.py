"""A replay from start to end: plan, verify and run it under the work-directory lock, or resume one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..backends.registry import create_backends
from ..config import Settings, load_settings
from ..errors import FINAL_EXIT_CODES, ConfigError, NothingToReplay, ReplayError, ReplayInterrupted, as_replay_error
from ..inventory import open_stream_source
from ..lock import work_dir_lock
from ..model.plan import ReplayPlan
from ..model.results import RunResult
from ..observe.events import RunObserver
from ..plan import load_plan_inputs, make_plan, new_run_id
from ..sources.registry import scheme_of
from ..store import RunRecord, RunStore
from ..workdir import refuse_outputs_inside_inputs
from .pacer import Clock, Pacer
from .runner import Runner

#: Settings that must not reach the run store: kept as this marker, supplied again on resume.
REDACTED = "<not recorded>"


def recorded_settings(settings: Settings) -> dict[str, Any]:
    """The settings a run records, without the billing project (credentials are never in settings)."""
    recorded = settings.model_dump(mode="json")
    if recorded["buckets"].get("billing_project"):
        recorded["buckets"]["billing_project"] = REDACTED
    return recorded


def _absolute(location: str | None) -> str | None:
    """A local path made absolute; a bucket URL (or nothing) as it is."""
    return str(Path(location).absolute()) if location and scheme_of(location) is None else location


def with_absolute_paths(settings: Settings) -> Settings:
    """The settings with every local input and output path absolute: what a run records and plans
    from, so that resuming it from another folder uses the same files."""
    source, replay, buckets = settings.source, settings.replay, settings.buckets
    return settings.model_copy(
        update={
            "source": source.model_copy(update={"events": _absolute(source.events), "blocks": _absolute(source.blocks)}),
            "replay": replay.model_copy(
                update={
                    "bootstrap_state": _absolute(replay.bootstrap_state),
                    "expected_state": _absolute(replay.expected_state),
                    "out": replay.out.absolute() if replay.out is not None else None,
                }
            ),
            "buckets": buckets.model_copy(update={"cache_dir": buckets.cache_dir.absolute() if buckets.cache_dir is not None else None}),
            "work_dir": settings.work_dir.absolute(),
        }
    )


def run_replay(
    settings: Settings,
    *,
    trigger: str = "manual",
    run_id: str | None = None,
    clock: Clock | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Plan, verify and run a replay under the work-directory lock, recording it in the run store."""
    settings = with_absolute_paths(settings)
    refuse_outputs_inside_inputs(settings)
    with work_dir_lock(settings.work_dir):
        store = RunStore(settings.work_dir)
        try:
            run_id = run_id or new_run_id()
            store.open_run(run_id, trigger=trigger, settings=recorded_settings(settings))
            return _plan_and_run(settings, store, run_id, clock, observer or RunObserver(), trigger=trigger)
        finally:
            store.close()


def _plan_and_run(
    settings: Settings, store: RunStore, run_id: str, clock: Clock | None, observer: RunObserver, *, trigger: str
) -> RunResult:
    """Plan the run the store opened, and run it; a plan that cannot be made ends the run, recorded."""
    observer.run_opened(run_id)
    try:
        inputs = load_plan_inputs(settings)
        plan = make_plan(inputs, run_id)
    except (Exception, KeyboardInterrupt) as raised:
        error = as_replay_error(raised)
        ended = _ended_as(error, trigger)
        store.finish_run(run_id, ended, error_kind=error.kind, error_message=str(error), exit_code=error.exit_code)
        if ended == "skipped":
            observer.run_skipped(str(error))
        else:
            observer.run_failed(error)
        raise
    runner = Runner(
        plan, backends=inputs.backends, sources=inputs.sources, store=store, pacer=Pacer(settings.pace.rate, clock),
        prefetch_workers=settings.buckets.download_workers, observer=observer, bisect=settings.replay.bisect,
        keep_intermediates=settings.replay.keep_intermediates,
    )  # fmt: skip
    return runner.start()


def _ended_as(error: ReplayError, trigger: str) -> str:
    """How a run that ended in planning is recorded: a scheduled run that finds nothing new to replay
    is a skip, not a failure (a run asked for by hand that finds nothing to do failed what it was asked)."""
    if isinstance(error, NothingToReplay) and trigger == "schedule":
        return "skipped"
    return "interrupted" if isinstance(error, ReplayInterrupted) else "failed"


def resumable(record: RunRecord) -> RunRecord:
    """The run, if resuming can finish it: interrupted, cut off (still "running" after a crash), or
    failed in a way a retry may fix. A run that succeeded, or failed finally, is refused (exit 2)."""
    if record.state == "succeeded":
        raise ConfigError(f"Run {record.id} already succeeded; there is nothing to resume.")
    if record.state == "failed" and record.exit_code in FINAL_EXIT_CODES:
        raise ConfigError(
            f"Run {record.id} failed with exit {record.exit_code} ({record.error_kind}): resuming cannot fix that. {record.error_message}",
            hint="Fix the cause (`hiero-replay status` shows it; its verified checkpoints and any mismatched state stay in its run folder), then start a new run.",
        )
    return record


def _with_secrets(recorded: dict[str, Any], current: Settings | None) -> dict[str, Any]:
    """The recorded settings, with the billing project the run used given again by this invocation."""
    buckets = recorded.get("buckets", {})
    if buckets.get("billing_project") == REDACTED:
        project = current.buckets.billing_project if current is not None else None
        if not project:
            raise ConfigError(
                "The run read requester-pays buckets; its billing project is not recorded.",
                hint="Give it again to resume: HIERO_REPLAY_BUCKETS__BILLING_PROJECT, or [buckets] billing_project in --config.",
            )
        recorded = {**recorded, "buckets": {**buckets, "billing_project": project}}
    return recorded


def resume_replay(
    work_dir: Path,
    run_id: str | None = None,
    *,
    current: Settings | None = None,
    clock: Clock | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Continue a run that was interrupted, from its last verified checkpoint; ``current`` is this
    invocation's settings (what a run does not record, like a billing project, comes from them)."""
    with work_dir_lock(work_dir):
        store = RunStore(work_dir)
        try:
            record = store.run(run_id) if run_id else store.latest_unfinished_run()
            if record is None:
                raise ConfigError(
                    f"No run {run_id} in {work_dir}." if run_id else f"No unfinished run to resume in {work_dir}.",
                    hint="`hiero-replay status` lists the runs.",
                )
            # The run is in this work directory, wherever it was when the run started (an older run may record it relative).
            recorded = {**_with_secrets(resumable(record).settings, current), "work_dir": str(work_dir.absolute())}
            settings = load_settings(None, recorded)
            if current is not None:  # this invocation's metrics go where the run's own outputs may not
                refuse_outputs_inside_inputs(settings.model_copy(update={"metrics": current.metrics}))
            if not record.plan:  # stopped while planning: nothing was replayed, plan it again
                store.reopen_run(record.id)
                return _plan_and_run(settings, store, record.id, clock, observer or RunObserver(), trigger=record.trigger)
            plan = ReplayPlan.from_json(record.plan)
            sources = {segment.source: open_stream_source(segment.source, settings) for segment in plan.segments}
            runner = Runner(
                plan, backends=create_backends(settings.backends.of, simulate=settings.simulate), sources=sources, store=store, pacer=Pacer(settings.pace.rate, clock),
                prefetch_workers=settings.buckets.download_workers, observer=observer, bisect=settings.replay.bisect,
                keep_intermediates=settings.replay.keep_intermediates,
            )  # fmt: skip
            return runner.resume()
        finally:
            store.close()
