"""The report of a verify-history run: the history as a timeline of its jobs (verified, mismatch
with the first divergent block, gap, failed) with each job's rate, then every job in a table.

Its sections take ``HistoryData`` (the history's record and jobs) and return HTML or ``None``, as
the replay report's sections do; the page is the same self-contained HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from ...model.history import OUTCOMES, VERIFIED, HistoryRecord, JobResult
from .data import figure, iso_utc
from .svg import Axis, Chart, nice_ceiling
from .theme import css_class, legend, page


@dataclass(frozen=True)
class HistoryData:
    record: HistoryRecord
    jobs: list[JobResult]

    @property
    def first_round(self) -> int:
        return min((job.from_round for job in self.jobs), default=0)

    @property
    def last_round(self) -> int:
        return max((job.to_round for job in self.jobs), default=0)

    @property
    def failed(self) -> list[JobResult]:
        return [job for job in self.jobs if job.outcome != VERIFIED]


HistorySection = Callable[[HistoryData], str | None]


def _job_label(job: JobResult) -> str:
    return f"job {job.index} (rounds {job.from_round}..{job.to_round})"


def _divergence(job: JobResult) -> str:
    return f"first divergent block {job.first_divergent_block}" if job.first_divergent_block is not None else ""


def title(data: HistoryData) -> str:
    record = data.record
    tone = {"succeeded": "ok", "running": "busy"}.get(record.state, "bad")
    counts = ", ".join(f"{sum(job.outcome == outcome for job in data.jobs)} {outcome}" for outcome in OUTCOMES)
    subtitle = (
        f"rounds {data.first_round}..{data.last_round} · {len(data.jobs)} job(s): {counts} · executor {escape(record.executor)}"
        f" · started {iso_utc(record.started_at)}"
    )
    return (
        f'<header><h1>History <span class="mono">{escape(record.id)}</span><span class="outcome {tone}">{escape(record.state)}</span></h1>'
        f'<p class="subtitle">{subtitle}</p></header>'
    )


def failures(data: HistoryData) -> str | None:
    """Every job that did not verify, first: what, where, and the code it ended with."""
    if not data.failed:
        return None
    items = []
    for job in data.failed:
        where = ", ".join(part for part in (_divergence(job), f"exit {job.exit_code}", f"worker {job.worker or '-'}") if part)
        message = f'<br><span class="message">{escape(job.message)}</span>' if job.message else ""
        items.append(f"<li><strong>{escape(_job_label(job))}: {escape(job.outcome)}</strong> ({escape(where)}){message}</li>")
    heading = f"{len(data.failed)} of {len(data.jobs)} job(s) not verified (exit {data.record.exit_code if data.record.exit_code is not None else '-'})"
    return f'<section class="failure" role="alert"><h2>{escape(heading)}</h2><ul>{"".join(items)}</ul></section>'


def summary(data: HistoryData) -> str:
    record = data.record
    verified = [job for job in data.jobs if job.outcome == VERIFIED]
    job_seconds = sum(job.seconds for job in verified)
    rounds = sum(job.rounds for job in verified)
    rows = [
        ("saved states", f"<code>{escape(record.states)}</code>"),
        ("rounds", f"{data.first_round}..{data.last_round} ({data.last_round - data.first_round:,} rounds), {len(data.jobs)} job(s)"),
        ("verified rounds", f"{rounds:,}" + (f" in {job_seconds:,.2f} job-seconds ({rounds / job_seconds:,.1f} rounds/s per job)" if job_seconds else "")),
        ("workers", escape(", ".join(sorted({job.worker for job in data.jobs if job.worker})) or "-")),
        ("executor", escape(record.executor)),
        ("started", iso_utc(record.started_at)),
        ("finished", iso_utc(record.finished_at)),
        ("exit code", "-" if record.exit_code is None else str(record.exit_code)),
    ]  # fmt: skip
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<section><h2>Summary</h2><dl class="facts">{facts}</dl></section>'


def timeline(data: HistoryData) -> str | None:
    """The history along its rounds: one mark per job, a verified job's bar as high as its rate, the
    others shaded over their rounds in their outcome's colour."""
    if not data.jobs:
        return None
    rates = [rate for job in data.jobs if (rate := job.rounds_per_second) is not None]
    top = nice_ceiling(max(rates, default=1.0) * 1.2)
    chart = Chart("jobs along the history", Axis(data.first_round, data.last_round, "round", integer=True), Axis(0.0, top, "rounds/s"))
    for job in data.jobs:
        rate = job.rounds_per_second
        label = f"{_job_label(job)}: {job.outcome}"
        if rate is not None:
            chart.bar(
                job.from_round, job.to_round, rate, css_class("outcome", job.outcome), f"{label}, {rate:,.1f} rounds/s on {job.worker}"
            )
        else:
            detail = ", ".join(part for part in (_divergence(job), f"exit {job.exit_code}") if part)
            chart.band(job.from_round, job.to_round, css_class("outcome", job.outcome), f"{label} ({detail})")
            if job.first_divergent_block is not None:
                chart.annotate(f"block {job.first_divergent_block}", css_class("outcome", job.outcome),
                               [(chart.px((job.from_round + job.to_round) / 2), chart.top + 14, "middle")])  # fmt: skip
    present = [outcome for outcome in OUTCOMES if any(job.outcome == outcome for job in data.jobs)]
    items = [(css_class("outcome", outcome), "box" if outcome == VERIFIED else "band", outcome) for outcome in present]
    note = (
        "Each job replays from one saved state to the next and must reproduce the next state's HASH. A verified job's bar is "
        "as high as its rate (its rounds over the time its replay took); the jobs that did not verify are shaded over their rounds."
    )
    return f'<section><h2>Timeline of jobs</h2>{legend(items)}{chart.svg()}<p class="note">{escape(note)}</p></section>'


TEXT_CELL = ' class="text"'


def job_table(data: HistoryData) -> str:
    head = "".join(
        f"<th{TEXT_CELL if text else ''}>{escape(name)}</th>"
        for name, text in (("#", False), ("rounds", False), ("outcome", True), ("first divergent block", False), ("exit", False),
                           ("worker", True), ("started (UTC)", False), ("seconds", False), ("rounds/s", False), ("attempts", False))
    )  # fmt: skip
    rows = []
    for job in data.jobs:
        tone = "ok" if job.outcome == VERIFIED else "bad"
        cells = [
            str(job.index),
            f"{job.from_round}..{job.to_round}",
            f'<span class="swatch {css_class("outcome", job.outcome)}"></span><span class="{tone}">{escape(job.outcome)}</span>',
            "-" if job.first_divergent_block is None else str(job.first_divergent_block),
            str(job.exit_code),
            escape(job.worker or "-"),
            iso_utc(job.started_at),
            figure(job.seconds, 2),
            figure(job.rounds_per_second),
            str(job.attempts),
        ]
        text = {2, 5}
        rows.append("<tr>" + "".join(f"<td{TEXT_CELL if i in text else ''}>{cell}</td>" for i, cell in enumerate(cells)) + "</tr>")
        if job.message and job.outcome != VERIFIED:
            rows.append(f'<tr class="error"><td colspan="10">job {job.index}: <span class="message">{escape(job.message)}</span></td></tr>')
    return f'<section><h2>Jobs</h2><div class="scroll"><table><tr>{head}</tr>{"".join(rows)}</table></div></section>'


HISTORY_SECTIONS: tuple[HistorySection, ...] = (title, failures, summary, timeline, job_table)


def render_history_report(record: HistoryRecord, jobs: list[JobResult]) -> str:
    data = HistoryData(record, sorted(jobs, key=lambda job: (job.from_round, job.to_round)))
    body = "\n".join(html for section in HISTORY_SECTIONS if (html := section(data)) is not None)
    return page(f"hiero-replay history {record.id}", body)
