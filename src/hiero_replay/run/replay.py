"""A replay from start to end: plan, verify and run it under the work-directory lock, or resume one."""

from __future__ import annotations

from pathlib import Path

from ..backends.registry import create_backends
from ..config import Settings, load_settings
from ..errors import ConfigError
from ..inventory import open_stream_source
from ..lock import work_dir_lock
from ..model.plan import ReplayPlan
from ..model.results import RunResult
from ..observe.events import RunObserver
from ..plan import load_plan_inputs, make_plan
from ..store import RunStore
from .pacer import Clock, Pacer
from .runner import Runner


def run_replay(
    settings: Settings,
    *,
    trigger: str = "manual",
    run_id: str | None = None,
    clock: Clock | None = None,
    observer: RunObserver | None = None,
) -> RunResult:
    """Plan, verify and run a replay under the work-directory lock, recording it in the run store."""
    with work_dir_lock(settings.work_dir):
        store = RunStore(settings.work_dir)
        try:
            inputs = load_plan_inputs(settings)
            plan = make_plan(inputs, run_id)
            runner = Runner(
                plan, backends=inputs.backends, sources=inputs.sources, store=store, pacer=Pacer(settings.pace.rate, clock),
                prefetch_workers=settings.buckets.download_workers, observer=observer,
            )  # fmt: skip
            return runner.start(trigger=trigger, settings=settings.model_dump(mode="json"))
        finally:
            store.close()


def resume_replay(
    work_dir: Path, run_id: str | None = None, *, clock: Clock | None = None, observer: RunObserver | None = None
) -> RunResult:
    """Continue a run that did not finish, from its last verified checkpoint."""
    with work_dir_lock(work_dir):
        store = RunStore(work_dir)
        try:
            record = store.run(run_id) if run_id else store.latest_unfinished_run()
            if record is None:
                raise ConfigError(
                    f"No run {run_id} in {work_dir}." if run_id else f"No unfinished run to resume in {work_dir}.",
                    hint="`hiero-replay status` lists the runs.",
                )
            if record.state == "succeeded":
                raise ConfigError(f"Run {record.id} already succeeded; there is nothing to resume.")
            settings = load_settings(None, record.settings)
            plan = ReplayPlan.from_json(record.plan)
            sources = {segment.source: open_stream_source(segment.source, settings) for segment in plan.segments}
            runner = Runner(
                plan, backends=create_backends(settings.backends.of, simulate=settings.simulate), sources=sources, store=store, pacer=Pacer(settings.pace.rate, clock),
                prefetch_workers=settings.buckets.download_workers, observer=observer,
            )  # fmt: skip
            return runner.resume()
        finally:
            store.close()
