"""The report's text sections: title, failure, summary and the segment table.

A section takes the run's ``ReportData`` and returns its HTML, or ``None`` when it has nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ...store import SegmentRecord
from .data import (
    ReportData,
    consensus_speed,
    figure,
    iso_utc,
    mode_text,
    rounds_of,
    rounds_per_second,
    staging_megabytes_per_second,
)
from .theme import css_class

Section = Callable[[ReportData], str | None]

BACKEND_TOOLS = {"event-stream": "PCLI event-stream recover", "block-stream": "apply-blocks"}


def backend_label(backend: str) -> str:
    tool = BACKEND_TOOLS.get(backend)
    return f"{backend} ({tool})" if tool else backend


def _facts(rows: list[tuple[str, str]]) -> str:
    """A two-column list of label and value; values are HTML."""
    return '<dl class="facts">' + "".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in rows) + "</dl>"


def _message(text: str) -> str:
    """An error message as the tool wrote it: its line breaks kept (a backend's last lines of output)."""
    return f'<span class="message">{escape(text)}</span>'


def title(data: ReportData) -> str:
    run, plan = data.run, data.plan
    tone = {"succeeded": "ok", "running": "busy"}.get(run.state, "bad")
    outcome = f'<span class="outcome {tone}">{escape(run.state)}</span>'
    backends = ", ".join(data.backends) or "no backend"
    scope = (
        f"rounds {plan['start_round']}..{plan['target_round']} · {len(data.segments)} segment(s): {escape(backends)}"
        if plan
        else "ended while it was planned: no plan"
    )
    subtitle = f"{scope} · started {iso_utc(run.started_at)} · {data.seconds:,.2f} s"
    return f'<header><h1>Replay run <span class="mono">{escape(run.id)}</span>{outcome}</h1><p class="subtitle">{subtitle}</p></header>'


def failure(data: ReportData) -> str | None:
    """What failed, where and in which segment, in place of the charts when nothing could be charted."""
    run = data.run
    if not data.failed:
        return None
    exit_code = f"exit {run.exit_code}" if run.exit_code is not None else "no exit code recorded"
    heading = f"Run {run.state}: {run.error_kind or 'unknown error'} ({exit_code})"
    rows = [("what", _message(run.error_message or f"the run was {run.state}"))]
    segment = data.failing_segment
    if segment is not None:
        moment = f" · failed at {iso_utc(segment.finished_at)}" if segment.state == "failed" else ""
        where = (
            f"segment {segment.idx} of {len(data.segments)} · {escape(backend_label(segment.backend))}"
            f" · rounds {segment.first_round}..{segment.last_round}{moment}"
        )
        rows.append(("where", where))
        if segment.error_message and segment.error_message != run.error_message:
            rows.append(("segment error", _message(segment.error_message)))
        logs = _tool_logs(data, segment)
        if logs:
            rows.append(("tool logs", logs))
    else:
        rows.append(("where", f"{'after the last segment' if data.segments else 'before any segment'}, at {iso_utc(run.finished_at)}"))
    if data.verified:
        last = data.verified[-1]
        rows.append(("last verified state", f"round {last.round} (segment {last.segment.idx})"))
    elif not data.plan:
        rows.append(("last verified state", "none: the run ended before its plan was made, nothing was replayed"))
    else:
        rows.append(("last verified state", f"round {data.plan['bootstrap_round']}, the bootstrap state: no segment was verified"))
    note = "" if data.verified else '<p class="note">No segment finished, so there is nothing to chart.</p>'
    return f'<section class="failure" role="alert"><h2>{escape(heading)}</h2>{_facts(rows)}{note}</section>'


def _tool_logs(data: ReportData, segment: SegmentRecord) -> str:
    """Links to the logs in the segment's folder: the supervisor's record of the tool's output and the
    tool's own log files (apply-blocks writes ``validator.log`` and ``state-analysis.log`` there)."""
    planned = data.plan.get("segments", [])
    if not 0 < segment.idx <= len(planned):
        return ""
    folder = Path(planned[segment.idx - 1]["invocation"]["input_dir"]).parent
    logs = sorted(path for path in folder.glob("*.log") if path.is_file() and not path.is_symlink())
    return " · ".join(f'<a href="{escape(path.as_uri())}">{escape(path.name)}</a>' for path in logs)


def summary(data: ReportData) -> str:
    run, plan = data.run, data.plan
    expected = plan.get("expected_hash")
    verdict = ""
    if run.final_hash and expected:
        verdict = (
            ' <span class="ok">(matches the expected HASH)</span>'
            if run.final_hash == expected
            else ' <span class="bad">(differs from it)</span>'
        )
    cutover = plan.get("cutover_round")
    crossing = "" if cutover is None else (" (crossed by this run)" if data.crosses_cutover else " (not crossed by this run)")
    speed_seconds = sum(v.segment.consensus_seconds or 0.0 for v in data.verified)
    fetched = sum(s.fetched_bytes or 0 for s in data.segments) / 1e6
    fetch_seconds = sum(s.fetch_seconds or 0.0 for s in data.segments)
    rows = [
        ("mode", escape(mode_text(plan))),
        ("rounds", f"{plan['start_round']}..{plan['target_round']} ({plan['target_round'] - plan['start_round'] + 1:,} rounds), {len(data.segments)} segment(s)"),
        ("cutover round", f"{cutover if cutover is not None else '-'}{crossing}"),
        ("bootstrap state", f"<code>{escape(str(plan.get('bootstrap_state', '-')))}</code> (round {plan['bootstrap_round']})"),
        ("final ROUND", str(run.final_round) if run.final_round is not None else "-"),
        ("final HASH", f"<code>{escape(run.final_hash or '-')}</code>{verdict}"),
        ("expected HASH", f"<code>{escape(expected or '-')}</code>"),
        ("started", iso_utc(run.started_at)),
        ("finished", iso_utc(run.finished_at)),
        ("duration", f"{data.seconds:,.2f} s"),
        ("configured rate", escape(str(plan.get("rate", "-")))),
        ("effective rate", f"{data.rounds_applied / data.seconds:,.1f} rounds/s, {speed_seconds / data.seconds:,.1f}× consensus time" if data.seconds > 0 else "-"),
        ("staged input", f"{fetched:,.2f} MB in {fetch_seconds:,.2f} s" + (f" ({fetched / fetch_seconds:,.1f} MB/s)" if fetch_seconds > 0 else "")),
        ("trigger", escape(run.trigger)),
    ]  # fmt: skip
    return f"<section><h2>Summary</h2>{_facts(rows)}</section>"


@dataclass(frozen=True)
class Column:
    """One column of the segment table: a header and the HTML of a segment's cell."""

    header: str
    cell: Callable[[SegmentRecord], str]
    text: bool = False


def _backend_cell(segment: SegmentRecord) -> str:
    return f'<span class="swatch {css_class("backend", segment.backend)}"></span>{escape(segment.backend)}'


def _state_cell(segment: SegmentRecord) -> str:
    tone = {"verified": "ok", "failed": "bad"}.get(segment.state, "")
    return f'<span class="{tone}">{escape(segment.state)}</span>'


SEGMENT_COLUMNS = (
    Column("#", lambda s: str(s.idx)),
    Column("backend", _backend_cell, text=True),
    Column("rounds", lambda s: f"{s.first_round}..{s.last_round}"),
    Column("state", _state_cell, text=True),
    Column("started (UTC)", lambda s: iso_utc(s.started_at)),
    Column("seconds", lambda s: figure(s.seconds, 2)),
    Column("rounds/s", lambda s: figure(rounds_per_second(s) if s.state == "verified" else None)),
    Column("× consensus", lambda s: figure(consensus_speed(s) if s.state == "verified" else None)),
    Column("files", lambda s: str(s.fetched_files) if s.fetched_files is not None else "-"),
    Column("MB staged", lambda s: figure((s.fetched_bytes or 0) / 1e6 if s.fetched_bytes is not None else None, 2)),
    Column("staging MB/s", lambda s: figure(staging_megabytes_per_second(s))),
    Column("HASH", lambda s: f"<code>{escape((s.hash or '-')[:8])}</code>", text=True),
)


def _proof_cell(data: ReportData, segment: SegmentRecord) -> str:
    """What proves (or, not yet verified, is to prove) the segment's state; the reason on hover."""
    planned = data.plan.get("segments", [])
    proof = planned[segment.idx - 1].get("proof") if 0 < segment.idx <= len(planned) else None
    if not proof:
        return "-"
    shown = proof["by"] if proof["block"] is None else f"{proof['by']} (block {proof['block']})"
    return f'<span title="{escape(proof["reason"])}">{escape(shown)}</span>'


def segment_table(data: ReportData) -> str:
    def cls(column: Column) -> str:
        return ' class="text"' if column.text else ""

    columns = (*SEGMENT_COLUMNS[:-1], Column("proven by", lambda s: _proof_cell(data, s), text=True), SEGMENT_COLUMNS[-1])
    head = "".join(f"<th{cls(c)}>{escape(c.header)}</th>" for c in columns)
    rows = []
    for segment in data.segments:
        rows.append("<tr>" + "".join(f"<td{cls(c)}>{c.cell(segment)}</td>" for c in columns) + "</tr>")
        if segment.error_message and segment.error_message != data.run.error_message:  # else the failure section says it
            rows.append(
                f'<tr class="error"><td colspan="{len(columns)}">segment {segment.idx}: {_message(segment.error_message)}</td></tr>'
            )
    total = sum(rounds_of(s) for s in data.segments)
    caption = f'<p class="note">{len(data.segments)} segment(s), {total:,} rounds; HASH shows the first 8 hex digits.</p>'
    return f'<section><h2>Segments</h2><div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div>{caption}</section>'
