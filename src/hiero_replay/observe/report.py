"""A self-contained HTML report of one run: inline CSS and SVG, no script, no external resource."""

from __future__ import annotations

from html import escape
from typing import Any

from ..store import RunRecord, SegmentRecord
from ..streams.timestamps import format_consensus_time

_WIDTH, _HEIGHT, _PAD = 720, 240, 48
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}td,th{border:1px solid #ccd3da;padding:.25rem .6rem;text-align:right}
th{background:#eef2f5}td.text{text-align:left;font-family:monospace}
.ok{color:#1a7f37}.bad{color:#b42318}svg{background:#fafbfc;border:1px solid #ccd3da}
"""


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else format_consensus_time(int(timestamp * 1e9))


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _axes(x_label: str, y_label: str, x_max: float, y_min: float, y_max: float) -> list[str]:
    bottom, right = _HEIGHT - _PAD, _WIDTH - 12
    return [
        f'<line x1="{_PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555"/>',
        f'<line x1="{_PAD}" y1="12" x2="{_PAD}" y2="{bottom}" stroke="#555"/>',
        f'<text x="{right}" y="{_HEIGHT - 12}" text-anchor="end" font-size="12">{escape(x_label)} (max {x_max:,.1f})</text>',
        f'<text x="4" y="24" font-size="12">{escape(y_label)}</text>',
        f'<text x="{_PAD - 4}" y="{bottom}" text-anchor="end" font-size="11">{y_min:,.0f}</text>',
        f'<text x="{_PAD - 4}" y="20" text-anchor="end" font-size="11">{y_max:,.0f}</text>',
    ]


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start if high == low else start + (value - low) / (high - low) * (end - start)


def rounds_over_time(run: RunRecord, segments: list[SegmentRecord]) -> str:
    """Round of the newest verified state against seconds since the run started."""
    points = [(0.0, float(run.plan["bootstrap_round"]))]
    points += [(s.finished_at - run.started_at, float(s.round)) for s in segments if s.state == "verified" and s.finished_at and s.round]
    x_max = max(p[0] for p in points) or 1.0
    y_min, y_max = points[0][1], max(float(run.plan["target_round"]), max(p[1] for p in points))
    coordinates = " ".join(
        f"{_scale(x, 0, x_max, _PAD, _WIDTH - 12):.1f},{_scale(y, y_min, y_max, _HEIGHT - _PAD, 12):.1f}" for x, y in points
    )
    shapes = _axes("seconds since start", "round", x_max, y_min, y_max)
    shapes.append(f'<polyline points="{coordinates}" fill="none" stroke="#0969da" stroke-width="2"/>')
    return f'<svg role="img" aria-label="rounds over time" width="{_WIDTH}" height="{_HEIGHT}">{"".join(shapes)}</svg>'


def rate_by_segment(run: RunRecord, segments: list[SegmentRecord]) -> str:
    """Each segment's effective rounds/s as a bar, the configured rate as a line (when in rounds/s)."""
    rates = [(s.idx, (s.last_round - s.first_round + 1) / s.seconds) for s in segments if s.seconds]
    rate_text: str = run.plan["rate"]
    configured = float(rate_text.split()[0]) if rate_text.endswith("rounds/s") else None
    y_max = max([r for _, r in rates] + [configured or 0.0, 1.0])
    shapes = _axes("segment", "rounds/s", float(len(segments)), 0.0, y_max)
    width = (_WIDTH - _PAD - 24) / max(1, len(segments))
    for position, (index, rate) in enumerate(rates):
        top = _scale(rate, 0, y_max, _HEIGHT - _PAD, 12)
        shapes.append(
            f'<rect x="{_PAD + 4 + position * width:.1f}" y="{top:.1f}" width="{max(2.0, width - 6):.1f}" '
            f'height="{_HEIGHT - _PAD - top:.1f}" fill="#8ec5ff"><title>segment {index}: {rate:,.1f} rounds/s</title></rect>'
        )
    if configured is not None:
        level = _scale(configured, 0, y_max, _HEIGHT - _PAD, 12)
        shapes.append(f'<line x1="{_PAD}" y1="{level:.1f}" x2="{_WIDTH - 12}" y2="{level:.1f}" stroke="#b42318" stroke-dasharray="6 4"/>')
        shapes.append(f'<text x="{_WIDTH - 14}" y="{level - 4:.1f}" text-anchor="end" font-size="11">configured {escape(rate_text)}</text>')
    return f'<svg role="img" aria-label="rate by segment" width="{_WIDTH}" height="{_HEIGHT}">{"".join(shapes)}</svg>'


def _segment_rows(segments: list[SegmentRecord]) -> str:
    rows = []
    for s in segments:
        rounds = s.last_round - s.first_round + 1
        speed = s.consensus_seconds / s.seconds if s.consensus_seconds and s.seconds else None
        throughput = (s.fetched_bytes or 0) / 1e6 / s.fetch_seconds if s.fetch_seconds else None
        rows.append(
            "<tr>"
            f"<td>{s.idx}</td><td class='text'>{escape(s.backend)}</td><td>{s.first_round}..{s.last_round}</td>"
            f"<td class='text'>{escape(s.state)}</td><td>{_number(s.seconds, 2)}</td>"
            f"<td>{_number(rounds / s.seconds if s.seconds else None)}</td><td>{_number(speed)}</td>"
            f"<td>{s.fetched_files if s.fetched_files is not None else '-'}</td>"
            f"<td>{_number((s.fetched_bytes or 0) / 1e6, 2)}</td><td>{_number(throughput)}</td>"
            f"<td>{s.round if s.round is not None else '-'}</td><td class='text'>{escape((s.hash or '-')[:16])}</td>"
            "</tr>"
        )
    return "".join(rows)


def render_report(run: RunRecord, segments: list[SegmentRecord]) -> str:
    plan: dict[str, Any] = run.plan
    duration = (run.finished_at or run.started_at) - run.started_at
    applied = sum(s.last_round - s.first_round + 1 for s in segments if s.state == "verified")
    fetched_bytes = sum(s.fetched_bytes or 0 for s in segments)
    fetch_seconds = sum(s.fetch_seconds or 0 for s in segments)
    outcome_class = "ok" if run.state == "succeeded" else "bad"
    summary = [
        ("outcome", f"<span class='{outcome_class}'>{escape(run.state)}</span>" + (f" (exit {run.exit_code})" if run.exit_code else "")),
        ("mode", escape(f"{plan['mode']}: {plan['reason']}")),
        ("rounds", f"{plan['start_round']}..{plan['target_round']} (cutover {plan['cutover_round'] if plan['cutover_round'] is not None else '-'})"),
        ("bootstrap", escape(f"{plan['bootstrap_state']} (round {plan['bootstrap_round']})")),
        ("final ROUND", str(run.final_round) if run.final_round is not None else "-"),
        ("final HASH", f"<code>{escape(run.final_hash or '-')}</code>"),
        ("expected HASH", f"<code>{escape(plan['expected_hash'] or '-')}</code>"),
        ("started / finished", f"{_when(run.started_at)} / {_when(run.finished_at)}"),
        ("duration", f"{duration:,.2f} s"),
        ("configured rate", escape(plan["rate"])),
        ("effective rate", f"{applied / duration:,.1f} rounds/s" if duration > 0 else "-"),
        ("fetched", f"{fetched_bytes / 1e6:,.2f} MB in {fetch_seconds:,.2f} s"
         + (f" ({fetched_bytes / 1e6 / fetch_seconds:,.1f} MB/s)" if fetch_seconds > 0 else "")),
    ]  # fmt: skip
    if run.error_message:
        summary.append(("error", f"<span class='bad'>{escape(run.error_message)}</span>"))
    summary_rows = "".join(f"<tr><th>{label}</th><td class='text'>{value}</td></tr>" for label, value in summary)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>hiero-replay run {escape(run.id)}</title><style>{_STYLE}</style></head>
<body>
<h1>hiero-replay run {escape(run.id)}</h1>
<table>{summary_rows}</table>
<h2>Rounds over time</h2>
{rounds_over_time(run, segments)}
<h2>Effective rate by segment</h2>
{rate_by_segment(run, segments)}
<h2>Segments</h2>
<table><tr><th>#</th><th>backend</th><th>rounds</th><th>state</th><th>seconds</th><th>rounds/s</th><th>x consensus</th>
<th>files</th><th>MB fetched</th><th>fetch MB/s</th><th>ROUND</th><th>HASH</th></tr>{_segment_rows(segments)}</table>
</body></html>
"""
