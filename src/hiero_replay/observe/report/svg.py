"""Inline SVG charts: axes with "nice" ticks that never crowd, data marks, rules and labels that avoid each other.

Text widths are estimated (no browser here), on the wide side: a digit of DejaVu Sans, the widest
common fallback for ``system-ui``, is 0.64 em.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

FONT = 11.0
_CHAR_EM = 0.66
_GAP = 14.0  # free space between two neighbouring x tick labels
_TOP, _BOTTOM = 30.0, 48.0  # room for the y title above the plot, x labels and title below it


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * size * _CHAR_EM


def number(value: float, step: float = 1.0) -> str:
    """``value`` with thousands separators and as many decimals as ``step`` needs."""
    decimals = 0 if step >= 1 else min(6, -math.floor(math.log10(step) + 1e-9))
    return f"{value:,.{decimals}f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k not below ``value``: a top for an axis from 0."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0) if m * magnitude >= value * (1 - 1e-9))


@dataclass(frozen=True)
class Axis:
    low: float
    high: float
    title: str
    integer: bool = False

    @property
    def span(self) -> float:
        return self.high - self.low or 1.0


def nice_ticks(axis: Axis, count: int) -> list[float]:
    """Multiples of 1, 2 or 5 x 10^k inside the axis, about ``count`` of them."""
    raw = axis.span / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if axis.integer:
        step = max(1.0, round(step))
    first = math.ceil(axis.low / step - 1e-9) * step
    return [first + i * step for i in range(int((axis.high - first) / step + 1e-9) + 1)]


def _fit(axis: Axis, length: float, needed: Callable[[list[float]], float]) -> list[float]:
    """The most ticks whose labels still have the room ``needed`` between neighbours."""
    for count in range(12, 1, -1):
        ticks = nice_ticks(axis, count)
        if len(ticks) < 2 or length * (ticks[1] - ticks[0]) / axis.span >= needed(ticks):
            return ticks
    return nice_ticks(axis, 1)  # one step over the whole axis: its ends at most


@dataclass(frozen=True)
class _Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: _Box) -> bool:
        return self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom


def _point_box(x: float, y: float, radius: float) -> _Box:
    return _Box(x - radius, y - radius, x + radius, y + radius)


def _label_box(x: float, y: float, text: str, anchor: str) -> _Box:
    width = text_width(text)
    left = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
    return _Box(left, y - FONT, left + width, y + FONT * 0.3)


class Chart:
    """One plot: ``x`` across, ``y`` up; marks go between the grid and the axes."""

    def __init__(self, name: str, x: Axis, y: Axis, *, width: float = 880, height: float = 260) -> None:
        self.name, self.x, self.y, self.width, self.height = name, x, y, width, height
        self.top, self.bottom = _TOP, height - _BOTTOM
        y_ticks = _fit(y, self.bottom - self.top, lambda _: FONT * 1.8)
        y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
        self.left = math.ceil(max(text_width(number(t, y_step)) for t in y_ticks) + 12)
        self.right = width - max(16.0, text_width(number(x.high)) / 2 + 4)
        x_ticks = _fit(x, self.right - self.left, lambda ts: max(text_width(number(t, ts[1] - ts[0])) for t in ts) + _GAP)
        self._grid: list[str] = []
        self._marks: list[str] = []
        self._front: list[str] = []
        self._taken: list[_Box] = []  # labels: never overlapped
        self._data: list[_Box] = []  # marks: overlapped by a label only when no candidate position is clear
        self._axes(x_ticks, y_ticks)

    def px(self, value: float) -> float:
        return self.left + (value - self.x.low) / self.x.span * (self.right - self.left)

    def py(self, value: float) -> float:
        return self.bottom - (value - self.y.low) / self.y.span * (self.bottom - self.top)

    def _text(self, x: float, y: float, text: str, cls: str, anchor: str = "middle") -> None:
        self._front.append(f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>')
        self._taken.append(_label_box(x, y, text, anchor))

    def _axes(self, x_ticks: Sequence[float], y_ticks: Sequence[float]) -> None:
        x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
        y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
        for tick in x_ticks:
            x = self.px(tick)
            self._grid.append(f'<line class="grid" x1="{x:.1f}" y1="{self.top}" x2="{x:.1f}" y2="{self.bottom}"/>')
            self._front.append(f'<line class="tick" x1="{x:.1f}" y1="{self.bottom}" x2="{x:.1f}" y2="{self.bottom + 5}"/>')
            self._text(x, self.bottom + 19, number(tick, x_step), "tick-label x-tick")
        for tick in y_ticks:
            y = self.py(tick)
            self._grid.append(f'<line class="grid" x1="{self.left}" y1="{y:.1f}" x2="{self.right:.1f}" y2="{y:.1f}"/>')
            self._front.append(f'<line class="tick" x1="{self.left - 5}" y1="{y:.1f}" x2="{self.left}" y2="{y:.1f}"/>')
            self._text(self.left - 8, y + 4, number(tick, y_step), "tick-label y-tick", "end")
        self._front.append(f'<path class="axis" d="M{self.left},{self.top} V{self.bottom} H{self.right:.1f}"/>')
        self._text((self.left + self.right) / 2, self.height - 8, self.x.title, "axis-title x-title")
        self._text(4, self.top - 14, self.y.title, "axis-title y-title", "start")

    # data marks -------------------------------------------------------------------------------

    def bar(self, x0: float, x1: float, y: float, cls: str, tooltip: str) -> None:
        """A bar from the x axis up to ``y``, spanning ``x0..x1`` less a pixel each side."""
        left, right, top = self.px(x0) + 1, self.px(x1) - 1, self.py(y)
        self._data.append(_Box(left, top, right, self.bottom))
        self._marks.append(
            f'<rect class="mark bar {cls}" x="{left:.1f}" y="{top:.1f}" width="{max(1.0, right - left):.1f}" '
            f'height="{max(1.0, self.bottom - top):.1f}"><title>{escape(tooltip)}</title></rect>'
        )

    def band(self, x0: float, x1: float, cls: str, tooltip: str) -> None:
        """The plot's full height over ``x0..x1``, behind the data."""
        left, right = self.px(x0), self.px(x1)
        self._grid.append(
            f'<rect class="band {cls}" x="{left:.1f}" y="{self.top}" width="{max(1.0, right - left):.1f}" '
            f'height="{self.bottom - self.top:.1f}"><title>{escape(tooltip)}</title></rect>'
        )

    def line(self, points: Sequence[tuple[float, float]], cls: str, tooltip: str = "") -> None:
        pixels = [(self.px(x), self.py(y)) for x, y in points]
        for (x0, y0), (x1, y1) in itertools.pairwise(pixels):
            steps = max(1, int(math.hypot(x1 - x0, y1 - y0) / 4))
            self._data += [_point_box(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, 2) for i in range(steps + 1)]
        coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
        title = f"<title>{escape(tooltip)}</title>" if tooltip else ""
        self._marks.append(f'<polyline class="mark line {cls}" points="{coordinates}">{title}</polyline>')

    def dot(self, x: float, y: float, cls: str, tooltip: str) -> None:
        self._data.append(_point_box(self.px(x), self.py(y), 5))
        self._marks.append(
            f'<circle class="mark dot {cls}" cx="{self.px(x):.1f}" cy="{self.py(y):.1f}" r="4"><title>{escape(tooltip)}</title></circle>'
        )

    # rules and labels ------------------------------------------------------------------------

    def rule_x(self, value: float, cls: str, label: str) -> None:
        """A vertical rule at ``value`` on the x axis, labelled beside its top."""
        x = self.px(value)
        self._front.append(f'<line class="rule {cls}" x1="{x:.1f}" y1="{self.top}" x2="{x:.1f}" y2="{self.bottom}"/>')
        self.annotate(label, cls, [(x + 4, self.top + 12 + step * FONT * 1.4, "start") for step in range(4)]
                      + [(x - 4, self.top + 12 + step * FONT * 1.4, "end") for step in range(4)])  # fmt: skip

    def rule_y(self, value: float, cls: str, label: str) -> None:
        """A horizontal rule at ``value`` on the y axis, labelled just above or below it."""
        y = self.py(value)
        self._front.append(f'<line class="rule {cls}" x1="{self.left}" y1="{y:.1f}" x2="{self.right:.1f}" y2="{y:.1f}"/>')
        candidates = [
            (self.right - 4, y - 5, "end"),
            (self.left + 6, y - 5, "start"),
            (self.right - 4, y + 14, "end"),
            (self.left + 6, y + 14, "start"),
        ]
        self.annotate(label, cls, candidates)

    def annotate(self, text: str, cls: str, candidates: Sequence[tuple[float, float, str]]) -> None:
        """Writes ``text`` at the first candidate inside the plot clear of labels and data, else clear of labels."""

        def clear(candidate: tuple[float, float, str], obstacles: list[_Box]) -> bool:
            box = _label_box(*candidate[:2], text, candidate[2])
            inside = box.left >= self.left and box.right <= self.right and box.top >= self.top and box.bottom <= self.bottom
            return inside and not any(box.overlaps(other) for other in obstacles)

        x, y, anchor = next(
            (c for c in candidates if clear(c, self._taken + self._data)),
            next((c for c in candidates if clear(c, self._taken)), candidates[0]),
        )
        self._text(x, y, text, f"annotation {cls}", anchor)

    def svg(self) -> str:
        body = "".join(self._grid + self._marks + self._front)
        return (
            f'<svg class="chart" role="img" aria-label="{escape(self.name)}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'width="{self.width:.0f}" height="{self.height:.0f}">{body}</svg>'
        )
