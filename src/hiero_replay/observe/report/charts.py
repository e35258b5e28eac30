"""The report's charts: rounds over time, rate by segment and staging throughput, each coloured by backend.

Each chart returns ``None`` when the run has nothing to draw in it: a chart is never shown empty.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from ...store import SegmentRecord
from .data import ReportData, consensus_speed, rounds_per_second, staging_megabytes_per_second
from .sections import backend_label
from .svg import Axis, Chart, nice_ceiling
from .theme import css_class, legend

LegendItem = tuple[str, str, str]


def _section(title: str, items: list[LegendItem], chart: Chart, note: str) -> str:
    return f'<section><h2>{escape(title)}</h2>{legend(items)}{chart.svg()}<p class="note">{escape(note)}</p></section>'


def _backend_items(segments: list[SegmentRecord]) -> list[LegendItem]:
    backends = dict.fromkeys(s.backend for s in segments)
    return [(css_class("backend", b), "box", backend_label(b)) for b in backends]


def _time_unit(seconds: float) -> tuple[float, str]:
    """Seconds, minutes or hours: whichever keeps the time axis' numbers short."""
    if seconds <= 180:
        return 1.0, "s"
    return (60.0, "min") if seconds <= 3 * 3600 else (3600.0, "h")


def progress(data: ReportData) -> str | None:
    """The round of the newest verified state against the time since the run started."""
    if not data.verified:
        return None
    plan = data.plan
    divisor, unit = _time_unit(data.seconds)
    bootstrap, target = int(plan["bootstrap_round"]), int(plan["target_round"])
    chart = Chart(
        "rounds over time",
        Axis(0.0, data.seconds / divisor, f"time since the run started ({unit})"),
        Axis(bootstrap, max(target, data.last_good_round), "round", integer=True),
    )

    def at(timestamp: float) -> float:
        return data.elapsed(timestamp) / divisor

    path = [(0.0, float(bootstrap))]
    for v in data.verified:
        path += [(at(v.started_at), v.segment.first_round - 1), (at(v.finished_at), v.round)]
    chart.line(path, "waiting")
    for v in data.verified:
        s = v.segment
        cls, tooltip = css_class("backend", s.backend), f"segment {s.idx} ({s.backend}): rounds {s.first_round}..{s.last_round}"
        chart.line([(at(v.started_at), s.first_round - 1), (at(v.finished_at), v.round)], cls, tooltip)
        chart.dot(at(v.finished_at), v.round, cls, f"{tooltip}, verified ROUND {v.round}")
    items = [*_backend_items([v.segment for v in data.verified]), ("waiting", "rule", "between segments: staging, pacing")]
    failing = data.failing_segment
    if failing is not None:
        stopped = at(failing.finished_at or data.ended_at)
        started = at(failing.started_at) if failing.started_at else stopped
        chart.line([(started, data.last_good_round), (stopped, data.last_good_round)], "state-failed")
        chart.dot(stopped, data.last_good_round, "state-failed", data.failure_label)
        x, y = chart.px(stopped), chart.py(data.last_good_round)
        chart.annotate(data.failure_label, "state-failed", [(x - 8, y - 8, "end"), (x - 8, y + 18, "end"), (x + 8, y - 8, "start")])
        items.append(("state-failed", "box", data.failure_label))
    if data.crosses_cutover:
        chart.rule_y(plan["cutover_round"], "cutover", f"cutover: round {plan['cutover_round']}")
        items.append(("cutover", "rule", "cutover round"))
    chart.rule_y(target, "target", f"target: round {target}")
    items.append(("target", "rule", "target round"))
    note = "Each segment runs from its start to its verified state; lines are straight between the two."
    return _section("Rounds over time", items, chart, note)


def _per_segment(
    data: ReportData, name: str, unit: str, value: Callable[[SegmentRecord], float | None], configured: float | None = None
) -> tuple[Chart, list[LegendItem]] | None:
    """Bars over the rounds of each segment, coloured by backend; failed and unreplayed rounds shaded."""
    values = [(s, v) for s in data.segments if s.state == "verified" and (v := value(s)) is not None]
    if not values:
        return None
    plan = data.plan
    top = nice_ceiling(max([v for _, v in values] + [configured or 0.0]) * 1.2)  # headroom for the labels
    chart = Chart(name, Axis(plan["start_round"], plan["target_round"] + 1, "round", integer=True), Axis(0.0, top, unit))
    items = _backend_items([s for s, _ in values])
    failing = data.failing_segment
    if failing is not None:
        chart.band(failing.first_round, failing.last_round + 1, "state-failed", data.failure_label)
        items.append(("state-failed", "band", data.failure_label))
    unreplayed = [s for s in data.segments if s.state != "verified" and s is not failing]
    for s in unreplayed:
        chart.band(s.first_round, s.last_round + 1, "state-pending", f"segment {s.idx}: {s.state}")
    if unreplayed:
        items.append(("state-pending", "band", "rounds not replayed"))
    for s, v in values:
        chart.bar(s.first_round, s.last_round + 1, v, css_class("backend", s.backend), f"segment {s.idx} ({s.backend}): {v:,.2f} {unit}")
    if data.crosses_cutover:
        chart.rule_x(plan["cutover_round"], "cutover", f"cutover: round {plan['cutover_round']}")
        items.append(("cutover", "rule", "cutover round"))
    return chart, items


def rate(data: ReportData) -> str | None:
    """Effective rate of every segment against the configured rate, in the rate's own unit when it has one."""
    text = str(data.plan.get("rate", "unlimited"))
    number = text.split()[0].removesuffix("x")
    configured: float | None
    if text.endswith("x"):
        unit, value, configured = "× consensus time", consensus_speed, float(number)
    else:
        unit, value, configured = "rounds/s", rounds_per_second, float(number) if text.endswith("rounds/s") else None
    drawn = _per_segment(data, "effective rate by segment", unit, value, configured)
    if drawn is None:
        return None
    chart, items = drawn
    note = "A bar is a segment's rounds over the time its backend ran; the waits between segments are not in it."
    if configured is not None:
        chart.rule_y(configured, "configured", f"configured: {text}")
        items.append(("configured", "rule", f"configured rate ({text})"))
        if "event-stream" in data.backends:
            note += " PCLI has no rate of its own: event-stream segments run at full speed and the pacer spaces them out."
    else:
        note += f" The configured rate is {text}" + ("." if text == "unlimited" else f": not in {unit}, so not drawn.")
    return _section("Effective rate by segment", items, chart, note)


def staging(data: ReportData) -> str | None:
    """How fast each segment's input reached its folder (fetched, or linked from the verified cache)."""
    if not any(s.fetched_bytes for s in data.segments):
        return None
    drawn = _per_segment(data, "staging throughput by segment", "MB/s", staging_megabytes_per_second)
    if drawn is None:
        return None
    chart, items = drawn
    note = "Input files staged into each segment's folder: fetched from the source, or linked or copied from the verified cache."
    return _section("Staging throughput by segment", items, chart, note)
