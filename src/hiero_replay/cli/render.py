"""Text renderers for what commands print: inventories, plans, results and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model.inventory import Inventory
    from ..model.plan import ReplayPlan
    from ..model.results import RunResult


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
    lines = table(rows)
    for problem in inventory.problems:
        lines.append(f"  [{problem.kind}] {problem.error}")
    return "\n".join(lines)


def table(rows: list[tuple[str, Any]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [f"{label.ljust(width)}  {value}" for label, value in rows]


def render_plan(replay_plan: ReplayPlan) -> str:
    lines = table(
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


def render_result(result: RunResult) -> str:
    lines = [f"run {result.plan.run_id}: {len(result.segments)} segment(s), {result.rounds} rounds"]
    for segment in result.segments:
        speed = f"  {segment.consensus_speed:.1f}x consensus" if segment.consensus_speed is not None else ""
        lines.append(
            f"  segment {segment.index}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}"
            f"  {segment.seconds:.2f} s  {segment.rounds_per_second:.1f} rounds/s{speed}"
        )
    speed = f", {result.consensus_speed:.1f}x consensus time" if result.consensus_speed is not None else ""
    lines += table(
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
