"""``hiero-replay verify-history``: verify a long history as jobs between consecutive saved states."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..options import replay_options

if TYPE_CHECKING:
    from ...config import Settings
    from ...history.verify import HistoryPlan, Summary

EXECUTOR_NAMES = ["local", "dask", "kubernetes"]
#: Flags a pod of the Indexed Job gets as they were given here (parameter name -> flag).
POD_FLAGS = {
    "events": "--events", "blocks": "--blocks", "node_id": "--node-id", "mode": "--mode", "cutover_round": "--cutover-round",
    "segment_rounds": "--segment-rounds", "rate": "--rate", "states": "--states", "from_round": "--from-round",
    "to_round": "--to-round", "last_jobs": "--last-jobs",
}  # fmt: skip
#: run's flags that verify-history sets for each job itself.
#: What an interrupted verify-history is told to do next.
RERUN = "Run the same command again: the verified jobs are kept, the others run again."
PER_JOB_FLAGS = ("bootstrap_state", "out", "target_round", "expected_hash", "expected_state")


@click.command("verify-history")
@replay_options
@click.option("--states", help="Saved states: a folder or bucket prefix of round directories (the node's layout or flat).")
@click.option("--from-round", type=click.IntRange(min=0), help="Verify from the first saved state at or after this round.")
@click.option("--to-round", type=click.IntRange(min=0), help="Verify up to the last saved state at or before this round.")
@click.option("--last-jobs", type=click.IntRange(min=1), help="Only the newest N jobs of the selection.")
@click.option("--executor", type=click.Choice(EXECUTOR_NAMES), default="local", show_default=True, help="Where the jobs run.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="local: jobs at a time; Kubernetes: parallelism.")
@click.option("--scheduler", help="dask: the scheduler, tcp://HOST:PORT or a scheduler file.")
@click.option(
    "--retries", type=click.IntRange(min=0), default=2, show_default=True, help="Runs again of a job that failed transiently (exit 6, 7)."
)
@click.option(
    "--job-root",
    type=click.Path(file_okay=False),
    help="Folder of the jobs' work folders (default <work-dir>/history); as the workers see it.",
)
@click.option("--keep-states", is_flag=True, help="Keep each verified job's output state (default: removed once verified).")
@click.option(
    "--job-index",
    type=click.IntRange(min=0),
    help="Run this one job here (a pod's $(JOB_COMPLETION_INDEX)); implies --executor kubernetes.",
)
@click.option("--results", help="Where --job-index writes its result: a folder or a bucket prefix.")
@click.option("--collect", "collect_from", metavar="LOCATION", help="Record and sum up the results the pods wrote to LOCATION.")
@click.option("--emit", type=click.Choice(["kubernetes"]), help="Print a Kubernetes Indexed Job that verifies the history; run nothing.")
@click.option("--image", help="--emit: the hiero-replay container image.")
@click.option("--schedule", "cron", metavar="CRON", help="--emit: wrap the Job in a CronJob on this schedule (UTC).")
@click.option("--name", "job_name", default="hiero-replay-verify-history", show_default=True, help="--emit: the Job's name.")
@click.option(
    "--claim",
    "claims",
    multiple=True,
    metavar="NAME=/PATH[:rw]",
    help="--emit: mount this PersistentVolumeClaim in every pod (repeatable).",
)
@click.option("--config-map", help="--emit: the ConfigMap holding the --config file, mounted at /config.")
@click.option("--dry-run", is_flag=True, help="List the saved states and the jobs; run nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or the plan) as JSON.")
def verify_history(settings: Settings, **options: Any) -> None:
    """Verify a history in parallel: job i replays from saved state i to saved state i+1 and must
    reproduce its HASH. Exit 0 when every job verified, else the worst job's code (5 before 4 before
    the others)."""
    from ...errors import ConfigError

    params = click.get_current_context().params
    given = [f"--{name.replace('_', '-')}" for name in PER_JOB_FLAGS if params.get(name) is not None]
    if given:
        raise ConfigError(f"verify-history sets {', '.join(given)} for each job itself.", hint="Use --states and --from-round/--to-round.")
    if options["collect_from"]:
        _collect(settings, options["collect_from"], options["as_json"])
        return
    if not options["states"]:
        raise ConfigError("verify-history needs --states: the folder or bucket prefix of saved round directories.")
    if options["job_index"] is not None:
        options["executor"] = "kubernetes"
    from ...history.jobs import Selection
    from ...history.verify import plan_history

    selection = Selection(options["from_round"], options["to_round"], options["last_jobs"])
    job_root = _job_root(settings, options["job_root"], options["states"])
    plan = plan_history(settings, options["states"], selection, job_root=job_root, keep_states=options["keep_states"])
    if options["emit"]:
        click.echo(_manifest(plan, params, options), nl=False)
    elif options["dry_run"]:
        _dry_run(settings, plan, options["as_json"])
    else:
        _run(settings, plan, options)


def _job_root(settings: Settings, given: str | None, states: str) -> Path | None:
    """``--job-root``, checked: the work directory and the job folders never inside what the jobs read."""
    from ...paths import given_path
    from ...workdir import inputs_of, refuse_overlaps, replay_inputs

    job_root = given_path("--job-root", given) if given is not None else None
    outputs = [("--work-dir", settings.work_dir), *([("--job-root", job_root)] if job_root is not None else [])]
    refuse_overlaps(outputs, [*replay_inputs(settings.model_dump(mode="json")), *inputs_of([("--states", states)])])
    return job_root


def _run(settings: Settings, plan: HistoryPlan, options: dict[str, Any]) -> None:
    from ...history.executors import ExecutorOptions, create_executor
    from ...history.store import HistoryStore
    from ...history.verify import Summary, verify, with_probes
    from ...lock import HISTORY_LOCK, work_dir_lock
    from ...run.interrupts import handling_interruptions

    executor_options = ExecutorOptions(
        settings, workers=options["workers"], retries=options["retries"], scheduler=options["scheduler"],
        results=options["results"], job_index=options["job_index"],
    )  # fmt: skip
    executor = create_executor(options["executor"], executor_options)
    try:
        if options["executor"] == "kubernetes":  # one job in a pod: its result goes to --results, its code is the pod's
            jobs = handling_interruptions(lambda: list(executor.run(plan.jobs)), hint=RERUN)
            summary = Summary(plan.history, plan.states_location, executor.name, jobs)
        else:
            plan = with_probes(plan, settings)
            with work_dir_lock(settings.work_dir, name=HISTORY_LOCK, holder="verify-history"):
                store = HistoryStore(settings.work_dir)
                try:
                    summary = handling_interruptions(lambda: verify(plan, executor, store), hint=RERUN)
                finally:
                    store.close()
    finally:
        executor.close()
    _finish(summary, options["as_json"])


def _collect(settings: Settings, location: str, as_json: bool) -> None:
    from ...history.collect import collect
    from ...history.store import HistoryStore

    store = HistoryStore(settings.work_dir)
    try:
        summary = collect(location, settings, store)
    finally:
        store.close()
    _finish(summary, as_json)


def _finish(summary: Summary, as_json: bool) -> None:
    click.echo(json.dumps(summary.to_json(), indent=2) if as_json else render_summary(summary))
    if summary.exit_code:
        sys.exit(summary.exit_code)


def render_summary(summary: Summary) -> str:
    counts = summary.counts
    lines = [f"history {summary.history} ({summary.states}): {len(summary.jobs)} job(s) on {summary.executor}"]
    for job in summary.jobs:
        rate = f"  {job.rounds_per_second:,.1f} rounds/s" if job.rounds_per_second else ""
        block = f"  first divergent block {job.first_divergent_block}" if job.first_divergent_block is not None else ""
        reused = "  (verified before)" if job.reused else ""
        lines.append(
            f"  job {job.index:>4}  rounds {job.from_round}..{job.to_round}  {job.outcome:<8}  exit {job.exit_code}"
            f"  {job.seconds:,.2f} s{rate}  {job.worker or '-'}{block}{reused}"
        )
        if job.message and job.outcome != "verified":
            lines.append(f"        {job.message}")
    lines += [f"  missing: no result for job {index}" for index in summary.missing]
    totals = ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
    lines.append(f"{totals}; exit {summary.exit_code}" + (f"; {summary.seconds:,.2f} s" if summary.seconds else ""))
    return "\n".join(lines)


def _dry_run(settings: Settings, plan: HistoryPlan, as_json: bool) -> None:
    from ...history.store import HistoryStore
    from ...store import DATABASE

    verified = {}
    if (settings.work_dir / DATABASE).exists():
        store = HistoryStore(settings.work_dir)
        try:
            verified = store.verified(plan.history)
        finally:
            store.close()
    data = plan.to_json(verified)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    lines = [f"history {plan.history}: {len(plan.states)} saved state(s) under {plan.states_location}, {len(plan.jobs)} job(s)"]
    for job in data["jobs"]:
        note = "  (verified before: skipped)" if job["already_verified"] else ""
        lines.append(
            f"  job {job['index']:>4}  rounds {job['from_round']}..{job['to_round']}  {job['from_state']} -> {job['to_state']}{note}"
        )
    click.echo("\n".join(lines))


def _manifest(plan: HistoryPlan, params: dict[str, Any], options: dict[str, Any]) -> str:
    from ...errors import ConfigError
    from ...history.manifest import Claim, IndexedJob, manifest, to_yaml

    if not options["image"]:
        raise ConfigError("--emit kubernetes needs --image: the hiero-replay container image the pods run.")
    if not options["results"]:
        raise ConfigError("--emit kubernetes needs --results: a bucket prefix, or a folder on a --claim mounted read-write.")
    try:
        claims = [Claim.parse(text) for text in options["claims"]]
    except ValueError as error:
        raise ConfigError(f"--claim {error}.") from None
    args = [f"{flag}={params[name]}" for name, flag in POD_FLAGS.items() if params.get(name) is not None]
    if params.get("simulate"):
        args.append("--simulate")
    if params.get("config"):
        config = f"/config/{Path(params['config']).name}" if options["config_map"] else params["config"]
        args.append(f"--config={config}")
    job = IndexedJob(
        name=options["job_name"], image=options["image"], args=args, completions=len(plan.jobs), parallelism=options["workers"],
        backoff_limit_per_index=options["retries"], results=options["results"], claims=claims,
        config_map=options["config_map"], schedule=options["cron"],
    )  # fmt: skip
    comment = (
        f"verify-history {plan.history}: {len(plan.jobs)} job(s), rounds {plan.jobs[0].start.round}..{plan.jobs[-1].end.round}.\n"
        f"Results: {options['results']}; gather them with: hiero-replay verify-history --collect {options['results']}"
    )
    return to_yaml(manifest(job), comment)
