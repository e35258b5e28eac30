"""Text renderers for what commands print: inventories, plans, results and status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model.inventory import Inventory
    from ..model.plan import ReplayPlan
    from ..model.results import RunResult, SegmentResult


#: Ignored files shown per reason in text (``--json`` lists them all).
IGNORED_SHOWN = 10


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
        ("rounds", _rounds_text(inventory)),
        (
            "consensus time",
            f"{summary['first_consensus_time']} .. {summary['last_consensus_time']}" if summary["first_consensus_time"] else "-",
        ),
        ("hash chain", _chain_text(inventory)),
        ("gaps", len(summary["gaps"])),
        ("problems", len(summary["problems"])),
        ("ignored", f"{len(inventory.ignored)} file(s)" + (" (listed below)" if inventory.ignored else "")),
    ]
    lines = table(rows)
    for problem in inventory.problems:
        lines.append(f"  [{problem.kind}] {problem.error}")
    by_reason: dict[str, list[str]] = {}
    for entry in inventory.ignored:
        by_reason.setdefault(entry.reason, []).append(entry.key)
    for reason, keys in by_reason.items():
        lines.append(f"  ignored, {reason}: {len(keys)}")
        lines += [f"    {key}" for key in keys[:IGNORED_SHOWN]]
        if len(keys) > IGNORED_SHOWN:
            lines.append(f"    ... and {len(keys) - IGNORED_SHOWN} more (--json lists them all)")
    return "\n".join(lines)


def _rounds_text(inventory: Inventory) -> str:
    if inventory.first_round is not None:
        return f"{inventory.first_round} .. {inventory.last_round}"
    return "no rounds (wrapped record blocks carry none)" if inventory.wrapped_records_only else "no rounds"


def _chain_text(inventory: Inventory) -> str:
    verified = f"{inventory.verified_links} link(s) verified"
    state = inventory.hash_chain
    if state == "broken":
        first = inventory.chain_breaks[0].error
        return f"broken at {first.file or '?'} ({len(inventory.chain_breaks)} break(s); {verified})"
    if state == "interrupted":
        gaps = [gap for gap in inventory.gaps if gap.kind in ("blocks", "event-files")]
        return f"interrupted by {len(gaps)} gap(s) of missing files ({verified}; the links across a gap cannot be checked)"
    if not inventory.files:
        return "nothing to check (no stream files)"
    if state == "unverifiable":
        return f"unverifiable: {inventory.unverifiable_links} link(s) could not be checked ({verified})"
    return f"verified ({verified}, every link)"


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
            ("bootstrap check", replay_plan.bootstrap_check or "-"),
            ("rate", replay_plan.rate),
            ("out", replay_plan.out),
        ]
    )
    for segment in replay_plan.segments:
        lines.append(
            f"segment {segment.index}/{len(replay_plan.segments)}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}"
            f"  ({len(segment.files)} files from {segment.source})"
        )
        proof = segment.proof
        lines.append(f"  {'proven by ' + proof.by.replace('-', ' ') if proof.verified else 'not proven'}: {proof.reason}")
        lines.append("  $ " + " ".join(segment.argv))
    lines += [f"warning: {warning}" for warning in replay_plan.warnings]
    return "\n".join(lines)


def _rate_text(result: RunResult) -> str:
    """Configured against achieved, in the configured rate's unit; whether the cap held."""
    achieved = result.achieved_rate()
    if achieved is None:
        return result.plan.rate
    unit = "x consensus time" if result.plan.pace.unit == "consensus" else f"{result.plan.pace.unit}/s"
    verdict = f": ABOVE the cap by {achieved / result.plan.pace.value - 1:.0%}" if result.exceeded_rate else ", within the cap"
    return f"configured {result.plan.rate}, achieved {achieved:.1f} {unit}{verdict}"


#: How a segment's state was proven, in words.
PROVEN_WORDS = {
    "stream": "proven by the block stream",
    "expected-state": "proven by the expected state",
    "expected-hash": "proven by the expected hash",
    "none": "not proven",
}


def proven_text(segments: Sequence[SegmentResult]) -> str:
    """How many segments each reference proved, e.g. "4 segment(s): 3 by the block stream, 1 not proven"."""
    counts = Counter(segment.verified_by for segment in segments)
    parts = [f"{counts[by]} {PROVEN_WORDS[by].removeprefix('proven ')}" for by in PROVEN_WORDS if counts[by]]
    return f"{len(segments)} segment(s): " + ", ".join(parts)


def render_result(result: RunResult) -> str:
    resumed = result.rounds - result.rounds_replayed
    kept = f" ({resumed} verified before the resume, kept)" if resumed else ""
    lines = [f"run {result.plan.run_id}: {len(result.segments)} segment(s), {result.rounds} rounds{kept}"]
    for segment in result.segments:
        if not segment.replayed:
            lines.append(
                f"  segment {segment.index}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}  verified before"
                f"  {PROVEN_WORDS[segment.verified_by]}"
            )
            continue
        speed = f"  {segment.consensus_speed:.1f}x consensus" if segment.consensus_speed is not None else ""
        lines.append(
            f"  segment {segment.index}  {segment.backend:<12}  rounds {segment.first_round}..{segment.last_round}"
            f"  {segment.seconds:.2f} s  {segment.rounds_per_second:.1f} rounds/s{speed}  {PROVEN_WORDS[segment.verified_by]}"
        )
    speed = f", {result.consensus_speed:.1f}x consensus time" if result.consensus_speed is not None else ""
    adopted = result.measured_seconds - result.seconds
    lines += table(
        [
            ("final ROUND", result.final_round),
            ("final HASH", result.final_hash),
            ("state", result.plan.out),
            ("duration", f"{result.seconds:.2f} s ({result.paced_seconds:.2f} s waiting on the pacer)"),
            ("rate", _rate_text(result)),
            ("proven", proven_text(result.segments)),
            ("bootstrap check", result.plan.bootstrap_check or "-"),
            (
                "effective rate",
                f"{result.rounds_per_second:.1f} rounds/s{speed}"
                + (f" over the {result.rounds_replayed} rounds replayed now" if resumed else "")
                + (f", timed from the start of the segment it adopted ({adopted:.2f} s earlier)" if adopted > 0 else ""),
            ),
            *[("retries", f"{count} ({url})") for url, count in result.source_retries.items()],
        ]
    )
    lines += [f"warning: {warning}" for warning in result.plan.warnings]
    return "\n".join(lines)


def render_status(report: dict[str, Any]) -> str:
    lines = [f"work dir {report['work_dir']}"]
    current = report["current"]
    if current and "unreadable" in current:
        lines.append(f"current: status.json unreadable, ignored ({current['unreadable']})")
    elif current and "segments" not in current:  # it ended before it had a plan
        lines.append(f"current: run {current['run_id']} {current['state']}")
        if current.get("last_error"):
            lines.append(f"  last error: {current['last_error']}")
        if current.get("reason"):
            lines.append(f"  nothing new to replay: {current['reason']}")
    elif current:
        running = current["state"] == "running"  # a rate and an ETA say nothing of a run that ended
        eta = f", ETA {current['eta_seconds']:.0f} s" if running and current.get("eta_seconds") is not None else ""
        rate = current.get("effective_rate_rounds_per_second") if running else None
        verified = current.get("verified_round", current["current_round"])
        lines.append(
            f"current: run {current['run_id']} {current['state']}, segment {current['segment']}/{current['segments']}"
            f" ({current['backend'] or '-'}, {current['source_type'] or '-'} source), round {current['current_round']}"
            f" of {current['target_round']} (verified {verified}){f', {rate:.1f} rounds/s' if rate else ''}{eta}"
        )
        if current.get("last_error"):
            lines.append(f"  last error: {current['last_error']}")
    if current and current.get("resume"):
        lines.append(f"  not running: no process holds the work directory (killed?); resume it with `{current['resume']}`")
    schedule = report["schedule"]
    if schedule and (schedule["paused"] or schedule["last_fire"]):
        state = f"PAUSED: {schedule['pause_reason']}" if schedule["paused"] else "active"
        lines.append(f"schedule: {state} (last fire {schedule['last_fire']})")
    if not report["runs"] and not report["histories"]:
        lines.append("no runs recorded")
    for run in report["runs"]:
        outcome = f"round {run['final_round']}" if run["state"] == "succeeded" else (run["error"] or "")
        if run.get("resume"):
            outcome = f"not running (killed?): `{run['resume']}`"
        proven = ", ".join(f"{count} by {by}" for by, count in run.get("verified_by", {}).items() if by != "none")
        lines.append(
            f"{run['run_id']}  {run['state']:<11}  {run['trigger']:<8}  segments {run['segments_verified']}/{run['segments']}"
            f"{f' ({proven})' if proven else ''}  target {run['target_round']}  {outcome}"
        )
    for history in report["histories"]:
        lines.append(render_history_line(history))
    return "\n".join(lines)


def render_history_line(history: dict[str, Any]) -> str:
    """One verify-history invocation: how many of its jobs verified, and what the others gave."""
    others = [f"{history[outcome]} {outcome}" for outcome in ("mismatch", "gap", "failed") if history[outcome]]
    if history["first_divergent_block"] is not None:
        others.append(f"first divergent block {history['first_divergent_block']}")
    detail = f" ({', '.join(others)})" if others else ""
    exit_code = "" if history["exit_code"] is None else f"  exit {history['exit_code']}"
    return (
        f"history {history['history_id']}  {history['state']:<11}  {history['executor']:<10}"
        f"  jobs {history['verified']}/{history['jobs']} verified{detail}{exit_code}"
    )
