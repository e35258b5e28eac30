"""A self-contained HTML report of one run: inline CSS and SVG, no script, no external resource.

The page is a sequence of sections (``Section``: run data in, HTML or ``None`` out); a run kind is a
tuple of them, so a new view of a run is one function and one entry in its tuple.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...store import RunRecord, SegmentRecord
from . import charts, sections
from .data import ReportData
from .sections import Section
from .theme import page

REPLAY_SECTIONS: tuple[Section, ...] = (
    sections.title,
    sections.failure,
    sections.summary,
    charts.progress,
    charts.rate,
    charts.staging,
    sections.segment_table,
)


#: A run that ended before its plan was made: what failed, and nothing to chart.
UNPLANNED_SECTIONS: tuple[Section, ...] = (sections.title, sections.failure)


def render_report(run: RunRecord, segments: list[SegmentRecord], kind: Sequence[Section] | None = None) -> str:
    data = ReportData(run, segments)
    kind = kind if kind is not None else (REPLAY_SECTIONS if run.plan else UNPLANNED_SECTIONS)
    body = "\n".join(html for section in kind if (html := section(data)) is not None)
    return page(f"hiero-replay run {run.id}", body)
