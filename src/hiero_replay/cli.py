"""The ``hiero-replay`` command line."""

from __future__ import annotations

import functools
import json
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .config import load_settings, settings_schema
from .errors import ConfigError, MissingInputError, ReplayError, ReplayInterrupted
from .inventory import Inventory, open_stream_source, read_workers, scan_source
from .observe.logging import configure_logging
from .plan import ReplayPlan, load_plan_inputs, make_plan
from .run import RunResult, resume_replay, run_replay
from .lock import SCHEDULER_LOCK, work_dir_lock
from .observe.events import Observers
from .observe.metrics import ReplayMetrics
from .observe.progress import ProgressDisplay
from .observe.report import render_report
from .observe.status import StatusFile, read_status
from .schedule import SCHEDULE_NAME, Scheduler, policy_from, replay_job, resume_schedule, trigger_from
from .store import DATABASE, RunStore
from .streams.timestamps import format_consensus_time

# flag -> (config path, click type)
_REPLAY_FLAGS: dict[str, tuple[tuple[str, ...], Any, str]] = {
    "--events": (("source", "events"), str, "One node's event stream folder (events_0.0.N): a path, gs:// or s3:// URL."),
    "--blocks": (("source", "blocks"), str, "Block stream folder: a path, gs:// or s3:// URL."),
    "--mode": (("replay", "mode"), click.Choice(["event-stream", "block-stream", "auto"]), "Backend selection (default auto)."),
    "--bootstrap-state": (("replay", "bootstrap_state"), str, "Saved round directory to start from (path or bucket URL)."),
    "--node-id": (("replay", "node_id"), int, "Node id passed to the backends."),
    "--out": (("replay", "out"), str, "Directory for the final state (must not exist)."),
    "--target-round": (("replay", "target_round"), int, "Last round to apply."),
    "--expected-hash": (("replay", "expected_hash"), str, "Expected HASH of the final state."),
    "--expected-state": (("replay", "expected_state"), str, "Reference round directory (path or bucket URL): its ROUND and HASH become the target."),
    "--cutover-round": (("replay", "cutover_round"), int, "First round replayed from blocks (auto mode)."),
    "--segment-rounds": (("replay", "segment_rounds"), int, "Rounds per segment (0 = one per backend)."),
    "--rate": (("pace", "rate"), str, "unlimited, 'N rounds/s', 'N blocks/s', 'N files/s' or 'Nx'."),
    "--work-dir": (("work_dir",), str, "Work directory for runs (default .hiero-replay)."),
    "--metrics-port": (("metrics", "port"), int, "Serve Prometheus metrics over HTTP on this port."),
    "--metrics-textfile": (("metrics", "textfile"), str, "Rewrite metrics into this file (node_exporter textfile collector)."),
    "--pushgateway": (("metrics", "pushgateway"), str, "Push-add metrics to this Pushgateway at the end of each run."),
}


def _replay_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Flags mirroring the config keys, plus --config, --simulate and --log-format."""

    @functools.wraps(command)
    def wrapper(config: str | None, simulate: bool, log_format: str, verbose: bool, **flags: Any) -> Any:
        overrides: dict[str, Any] = {}
        for flag, (path, _, _) in _REPLAY_FLAGS.items():
            value = flags.pop(flag.lstrip("-").replace("-", "_"))
            if value is not None:
                section = overrides
                for part in path[:-1]:
                    section = section.setdefault(part, {})
                section[path[-1]] = value
        if simulate:
            overrides["simulate"] = True
        configure_logging(log_format, verbose)  # type: ignore[arg-type]
        settings = load_settings(Path(config) if config else None, overrides)
        return command(settings=settings, **flags)

    for flag, (_, kind, text) in reversed(_REPLAY_FLAGS.items()):
        wrapper = click.option(flag, type=kind, default=None, help=text)(wrapper)
    wrapper = click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration file.")(wrapper)
    wrapper = click.option("--simulate", is_flag=True, help="Use the built-in simulators for both backends (a rehearsal).")(wrapper)
    wrapper = click.option("--verbose", "-v", is_flag=True, help="Also log every line the backends print.")(wrapper)
    return click.option("--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True)(wrapper)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="hiero-replay")
def cli() -> None:
    """Replay historical Hiero/Hedera stream data into a consensus-node state."""


@cli.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary table.")
@click.option("--from-round", type=click.IntRange(min=0), help="First round of interest.")
@click.option("--to-round", type=click.IntRange(min=0), help="Last round of interest.")
@click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration ([buckets] options for bucket URLs).")
def inspect(path: str, as_json: bool, from_round: int | None, to_round: int | None, config: str | None) -> None:
    """Order and verify the stream files under PATH (a folder, gs:// or s3:// URL); exit 0 only when
    complete and verified."""
    settings = load_settings(Path(config) if config else None)
    source = open_stream_source(path, settings)
    inventory = scan_source(source, from_round=from_round, to_round=to_round, workers=read_workers(source, settings))
    click.echo(json.dumps(inventory.to_json(), indent=2) if as_json else render_inventory(inventory))
    error = inventory.first_error()
    if error is not None:
        sys.exit(error.exit_code)


def render_inventory(inventory: Inventory) -> str:
    summary = inventory.to_json()
    rows: list[tuple[str, Any]] = [
        ("source", summary["source"]),
        ("kind", summary["kind"]),
        ("files", f"{summary['files']} ({summary['event_files']} event, {summary['block_files']} block)"),
    ]
    if summary["block_files"]:
        rows.append(("blocks", f"{summary['first_block']} .. {summary['last_block']}"))
        rows.append(("HAPI versions", ", ".join(summary["hapi_versions"])))
    rows += [
        ("rounds", f"{summary['first_round']} .. {summary['last_round']}"),
        ("consensus time", f"{summary['first_consensus_time']} .. {summary['last_consensus_time']}"),
        ("hash chain", f"{summary['hash_chain']} ({summary['verified_links']} checks passed)"),
        ("gaps", len(summary["gaps"])),
        ("problems", len(summary["problems"])),
    ]
    lines = _table(rows)
    for problem in inventory.problems:
        lines.append(f"  [{problem.kind}] {problem.error}")
    return "\n".join(lines)


def _table(rows: list[tuple[str, Any]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [f"{label.ljust(width)}  {value}" for label, value in rows]


@cli.command()
@_replay_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(settings: Any, as_json: bool) -> None:
    """Show what a run would do (backends, cutover, segments, files, command lines); run nothing."""
    replay_plan = make_plan(load_plan_inputs(settings))
    click.echo(json.dumps(replay_plan.to_json(), indent=2) if as_json else render_plan(replay_plan))


def render_plan(replay_plan: ReplayPlan) -> str:
    lines = _table(
        [
            ("mode", f"{replay_plan.mode} ({replay_plan.reason})"),
            ("bootstrap", f"{replay_plan.bootstrap_state} (round {replay_plan.bootstrap_round})"),
            ("rounds", f"{replay_plan.start_round} .. {replay_plan.target_round}"),
            ("cutover round", replay_plan.cutover_round if replay_plan.cutover_round is not None else "-"),
            ("expected hash", replay_plan.expected_hash or "-"),
            ("rate", replay_plan.rate),
            ("out", replay_plan.out),
        ]
    )
    for segment in replay_plan.segments:
        lines.append(
            f"segment {segment.index}/{len(replay_plan.segments)}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}"
            f"  ({len(segment.files)} files from {segment.source})"
        )
        lines.append("  $ " + " ".join(segment.argv))
    return "\n".join(lines)


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise ReplayInterrupted(f"Interrupted by {signal.Signals(signum).name}; the backend was stopped.", hint="Rerun the replay.")


def _with_sigterm(action: Callable[[], RunResult]) -> RunResult:
    """SIGTERM (systemd, Kubernetes) stops a run like Ctrl-C: backend stopped, exit 8."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        return action()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _observers(settings: Any) -> tuple[Observers, ReplayMetrics]:
    metrics = ReplayMetrics(settings.metrics)
    return Observers(metrics, StatusFile(settings.work_dir), ProgressDisplay()), metrics


@cli.command()
@_replay_options
@click.option("--resume", "resume", is_flag=True, help="Continue the last unfinished run in the work directory.")
@click.option("--run-id", help="With --resume: the run to continue (default: the latest unfinished one).")
def run(settings: Any, resume: bool, run_id: str | None) -> None:
    """Verify the input, replay it segment by segment and verify the resulting state."""
    observer, metrics = _observers(settings)
    metrics.serve()
    try:
        if resume:
            result = _with_sigterm(lambda: resume_replay(settings.work_dir, run_id, observer=observer))
        else:
            result = _with_sigterm(lambda: run_replay(settings, observer=observer))
    finally:
        metrics.push()
    click.echo(render_result(result))


def render_result(result: RunResult) -> str:
    lines = [f"run {result.plan.run_id}: {len(result.segments)} segment(s), {result.rounds} rounds"]
    for segment in result.segments:
        speed = f"  {segment.consensus_speed:.1f}x consensus" if segment.consensus_speed is not None else ""
        lines.append(
            f"  segment {segment.index}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}"
            f"  {segment.seconds:.2f} s  {segment.rounds_per_second:.1f} rounds/s{speed}"
        )
    speed = f", {result.consensus_speed:.1f}x consensus time" if result.consensus_speed is not None else ""
    lines += _table(
        [
            ("final ROUND", result.final_round),
            ("final HASH", result.final_hash),
            ("state", result.plan.out),
            ("duration", f"{result.seconds:.2f} s ({result.paced_seconds:.2f} s waiting on the pacer)"),
            ("rate", result.plan.rate),
            ("effective rate", f"{result.rounds_per_second:.1f} rounds/s{speed}"),
            *[("retries", f"{count} ({url})") for url, count in result.source_retries.items()],
        ]
    )
    return "\n".join(lines)


@cli.command()
@_replay_options
def schedule(settings: Any) -> None:
    """Run replays on the configured cron expression or interval, in the foreground."""
    trigger = trigger_from(settings)
    observer, metrics = _observers(settings)
    with work_dir_lock(settings.work_dir, name=SCHEDULER_LOCK, holder="scheduler"):
        metrics.serve()
        store = RunStore(settings.work_dir)
        try:
            job = replay_job(settings, store, observer=observer, after=metrics.push)
            scheduler = Scheduler(trigger, policy_from(settings), job, store, observer=observer)
            previous = signal.signal(signal.SIGTERM, _raise_interrupted)
            try:
                scheduler.run()
            finally:
                signal.signal(signal.SIGTERM, previous)
        finally:
            store.close()


@cli.command("schedule-resume")
@click.option("--work-dir", type=click.Path(file_okay=False), default=".hiero-replay", show_default=True)
def schedule_resume(work_dir: str) -> None:
    """Resume a schedule paused by a failure that retrying could not fix."""
    store = RunStore(Path(work_dir))
    try:
        previous = resume_schedule(store)
    finally:
        store.close()
    click.echo(f"schedule resumed (it was paused: {previous.pause_reason})" if previous.paused else "the schedule was not paused")


@cli.command()
@click.option("--work-dir", type=click.Path(file_okay=False), default=".hiero-replay", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Runs to list.")
def status(work_dir: str, as_json: bool, limit: int) -> None:
    """The recent runs recorded in a work directory, and the schedule's state."""
    report = status_report(Path(work_dir), limit)
    click.echo(json.dumps(report, indent=2) if as_json else render_status(report))


def status_report(work_dir: Path, limit: int) -> dict[str, Any]:
    if not (work_dir / DATABASE).exists():
        return {"work_dir": str(work_dir), "current": read_status(work_dir), "runs": [], "schedule": None}
    store = RunStore(work_dir)
    try:
        runs = [
            {
                "run_id": run.id,
                "trigger": run.trigger,
                "state": run.state,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "target_round": run.target_round,
                "final_round": run.final_round,
                "final_hash": run.final_hash,
                "segments_verified": sum(s.state == "verified" for s in store.segments(run.id)),
                "segments": len(run.plan["segments"]),
                "error": run.error_message,
                "exit_code": run.exit_code,
            }
            for run in store.runs(limit)
        ]
        schedule = store.schedule(SCHEDULE_NAME)
    finally:
        store.close()
    return {
        "work_dir": str(work_dir),
        "current": read_status(work_dir),
        "runs": runs,
        "schedule": {
            "paused": schedule.paused,
            "pause_reason": schedule.pause_reason,
            "last_fire": _iso(schedule.last_fire),
            "last_run_id": schedule.last_run_id,
        },
    }


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else format_consensus_time(int(timestamp * 1e9))


def render_status(report: dict[str, Any]) -> str:
    lines = [f"work dir {report['work_dir']}"]
    current = report["current"]
    if current:
        eta = f", ETA {current['eta_seconds']:.0f} s" if current.get("eta_seconds") is not None else ""
        rate = current.get("effective_rate_rounds_per_second")
        lines.append(
            f"current: run {current['run_id']} {current['state']}, segment {current['segment']}/{current['segments']}"
            f" ({current['backend'] or '-'}, {current['source_type'] or '-'} source), round {current['current_round']}"
            f" of {current['target_round']}{f', {rate:.1f} rounds/s' if rate else ''}{eta}"
        )
        if current.get("last_error"):
            lines.append(f"  last error: {current['last_error']}")
    schedule = report["schedule"]
    if schedule and (schedule["paused"] or schedule["last_fire"]):
        state = f"PAUSED: {schedule['pause_reason']}" if schedule["paused"] else "active"
        lines.append(f"schedule: {state} (last fire {schedule['last_fire']})")
    if not report["runs"]:
        lines.append("no runs recorded")
    for run in report["runs"]:
        outcome = f"round {run['final_round']}" if run["state"] == "succeeded" else (run["error"] or "")
        lines.append(
            f"{run['run_id']}  {run['state']:<11}  {run['trigger']:<8}  segments {run['segments_verified']}/{run['segments']}"
            f"  target {run['target_round']}  {outcome}"
        )
    return "\n".join(lines)


@cli.command()
@click.argument("run_id", required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False), required=True, help="Where to write the report.")
@click.option("--work-dir", type=click.Path(file_okay=False), default=".hiero-replay", show_default=True)
def report(run_id: str | None, html_file: str, work_dir: str) -> None:
    """Write a self-contained HTML report of a run (default: the latest)."""
    if not (Path(work_dir) / DATABASE).exists():
        raise MissingInputError(f"No runs recorded in {work_dir}.", hint="Pass the --work-dir the runs used.")
    store = RunStore(Path(work_dir))
    try:
        record = store.run(run_id) if run_id else next(iter(store.runs(1)), None)
        if record is None:
            raise MissingInputError(f"No run {run_id or ''} in {work_dir}.".replace("  ", " "), hint="`hiero-replay status` lists the runs.")
        page = render_report(record, store.segments(record.id))
    finally:
        store.close()
    Path(html_file).write_text(page, encoding="utf-8")
    click.echo(f"report of run {record.id} written to {html_file}")


DEMO_MARKER = ".hiero-replay-demo"


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=".hiero-replay/demo", show_default=True)
@click.option("--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True)
def demo(directory: str, log_format: str) -> None:
    """Write a synthetic history and replay it across the event->block cutover with the simulators."""
    from .simulate.history import write_history

    root = Path(directory)
    if root.exists():
        if not (root / DEMO_MARKER).exists():
            raise ConfigError(f"{root} exists and is not a demo folder; refusing to replace it.", hint="Pass another --dir.")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / DEMO_MARKER).touch()
    history = write_history(root / "history")
    click.echo(f"synthetic history in {history.root}:")
    click.echo(f"  events  {history.events_dir} (rounds 1..{history.cutover_round + 20})")
    click.echo(f"  blocks  {history.blocks_dir} (rounds {history.cutover_round}..{history.target_round + 10})")
    click.echo(f"  bootstrap state round {history.bootstrap_round}, reference state round {history.target_round}")
    configure_logging(log_format)  # type: ignore[arg-type]
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {
                "mode": "auto",
                "bootstrap_state": str(history.bootstrap_state),
                "expected_state": str(history.expected_state),
                "node_id": 3,
                "out": str(root / "out" / str(history.target_round)),
                "segment_rounds": 50,
            },
            "work_dir": str(root / "work"),
            "simulate": True,
        },
    )
    observer, _ = _observers(settings)
    result = _with_sigterm(lambda: run_replay(settings, observer=observer))
    click.echo(render_result(result))
    click.echo(f"the final state matches the reference snapshot {history.expected_state}")


@cli.group()
def config() -> None:
    """Configuration: the JSON Schema, and validation of a file."""


@config.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration."""
    click.echo(json.dumps(settings_schema(), indent=2))


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file: str) -> None:
    """Validate FILE (with the environment's overrides) and print the effective configuration."""
    settings = load_settings(Path(file))
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2))


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hiero-replay", standalone_mode=False)
    except ReplayError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("error: interrupted; the backend was stopped.", err=True)
        sys.exit(ReplayInterrupted.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(ConfigError.exit_code)
