"""``hiero-replay status``: the current run, the recent runs and the schedule of a work directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..options import work_dir_options

#: Run states of a run still going, or killed (SIGKILL, power loss) before it could record its end.
UNFINISHED = ("planning", "running")

if TYPE_CHECKING:
    from ...model.history import HistoryRecord, JobResult
    from ...store import RunRecord, SegmentRecord


@click.command()
@work_dir_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Runs to list.")
def status(work_dir: Path, as_json: bool, limit: int) -> None:
    """The recent runs recorded in a work directory, and the schedule's state."""
    from ..render import render_status

    report = status_report(work_dir, limit)
    click.echo(json.dumps(report, indent=2) if as_json else render_status(report))


def _iso(timestamp: float | None) -> str | None:
    from ...times import iso_utc

    return None if timestamp is None else iso_utc(timestamp)


def status_report(work_dir: Path, limit: int) -> dict[str, Any]:
    from ...history.store import INTERRUPTED, HistoryStore
    from ...lock import HISTORY_LOCK, RUN_LOCK, is_held
    from ...observe.status import read_status
    from ...schedule.scheduler import SCHEDULE_NAME
    from ...store import RunStore
    from ...workdir import resume_command

    held = is_held(work_dir, RUN_LOCK)
    store = RunStore(work_dir, create=False)
    try:
        runs = [_run_entry(run, store.segments(run.id)) for run in store.runs(limit)]
        schedule = store.schedule(SCHEDULE_NAME)
    finally:
        store.close()
    current = read_status(work_dir)
    # A run holds the lock from before it is recorded until after it ended: the newest run still marked
    # unfinished is the one holding it (looked at before and after reading), any other was killed.
    held = held or is_held(work_dir, RUN_LOCK)
    live = next((run["run_id"] for run in runs if run["state"] in UNFINISHED), None) if held else None
    for entry in [*runs, current]:
        if entry and entry.get("state") in UNFINISHED and entry.get("run_id") != live:
            entry.update(state=INTERRUPTED, resume=resume_command(work_dir, run_id=entry["run_id"]))
            entry.pop("eta_seconds", None)  # no time left to a run that stopped
    history_store = HistoryStore(work_dir, create=False)
    try:
        records = history_store.histories(limit)
        # One verify-history at a time holds the work directory: the latest marked running, if any.
        live = next((record.id for record in records if record.state == "running"), None) if is_held(work_dir, HISTORY_LOCK) else None
        histories = [_history_entry(record, history_store.jobs(record.id), record.id == live) for record in records]
    finally:
        history_store.close()
    return {
        "work_dir": str(work_dir),
        "current": current,
        "runs": runs,
        "histories": histories,
        "schedule": {
            "paused": schedule.paused,
            "pause_reason": schedule.pause_reason,
            "last_fire": _iso(schedule.last_fire),
            "last_run_id": schedule.last_run_id,
        },
    }


def _run_entry(run: RunRecord, segments: list[SegmentRecord]) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "trigger": run.trigger,
        "state": run.state,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "target_round": run.target_round,
        "final_round": run.final_round,
        "final_hash": run.final_hash,
        "segments_verified": sum(s.state == "verified" for s in segments),
        "segments": len(run.plan.get("segments", [])),
        "verified_by": _verified_by(run.plan, segments),
        "error": run.error_message,
        "exit_code": run.exit_code,
    }


def _verified_by(plan: dict[str, Any], segments: list[SegmentRecord]) -> dict[str, int]:
    """How the run's verified segments were proven (from their planned proofs), by kind."""
    planned = {segment["index"]: segment.get("proof", {}).get("by", "none") for segment in plan.get("segments", [])}
    proven: dict[str, int] = {}
    for segment in segments:
        if segment.state == "verified":
            by = planned.get(segment.idx, "none")
            proven[by] = proven.get(by, 0) + 1
    return proven


def _history_entry(record: HistoryRecord, jobs: list[JobResult], live: bool) -> dict[str, Any]:
    """A history as its latest ``verify-history`` left it: that invocation's jobs (a job it reused or
    did not reach counts with its last result) by outcome, and the first block a mismatch blamed.
    A history still marked running while no verify-history holds the work directory was killed."""
    from ...history.store import INTERRUPTED
    from ...model.history import MISMATCH, OUTCOMES

    planned, reported = record.spec.get("jobs"), record.spec.get("rounds")
    if isinstance(planned, list):  # a local or Dask invocation records its jobs
        keys = {(job["from_round"], job["to_round"]) for job in planned}
        total = len(planned)
    elif isinstance(reported, list):  # a collected one, how many jobs its pods had and the rounds of those that reported
        keys = {(first, last) for first, last in reported}
        total = planned if isinstance(planned, int) else len(keys)
    else:  # collected by an earlier version, which recorded no rounds: every job
        keys = {job.key for job in jobs}
        total = planned if isinstance(planned, int) else len(keys)
    selected = [job for job in jobs if job.key in keys]
    blamed = [job.first_divergent_block for job in selected if job.outcome == MISMATCH and job.first_divergent_block is not None]
    return {
        "history_id": record.id,
        "state": INTERRUPTED if record.state == "running" and not live else record.state,
        "executor": record.executor,
        "states": record.states,
        "started_at": _iso(record.started_at),
        "finished_at": _iso(record.finished_at),
        "jobs": total,
        **{outcome: sum(job.outcome == outcome for job in selected) for outcome in OUTCOMES},
        "first_divergent_block": min(blamed, default=None),
        "exit_code": record.exit_code,
    }
