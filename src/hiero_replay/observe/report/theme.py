"""Colours and the page's CSS.

Each category is one CSS class that sets ``--c``; what an element is (bar, line, swatch, rule,
label) decides how the colour is used. A new category is one entry in ``COLOURS``.
"""

from __future__ import annotations

import re
from html import escape

# Okabe-Ito: told apart with every common colour-vision deficiency.
COLOURS = {
    "backend-event-stream": "#e69f00",
    "backend-block-stream": "#0072b2",
    "state-failed": "#d55e00",
    "state-pending": "#8c959f",
    "waiting": "#8c959f",
    "cutover": "#cc79a7",
    "target": "#57606a",
    "configured": "#009e73",
    # verify-history job outcomes
    "outcome-verified": "#009e73",
    "outcome-mismatch": "#d55e00",
    "outcome-gap": "#e69f00",
    "outcome-failed": "#cc79a7",
}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa;font-size:14px;line-height:1.45}
main{max-width:1040px;margin:0 auto;padding:1.5rem 1.25rem 3rem}
h1{font-size:1.35rem;margin:0 0 .25rem}h2{font-size:1.05rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem 1.25rem;margin-top:1rem}
.subtitle{color:#57606a;margin:0}
.outcome{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85rem;font-weight:600;vertical-align:middle;margin-left:.5rem}
.outcome.ok{background:#dafbe1;color:#116329}.outcome.bad{background:#ffebe9;color:#a40e26}.outcome.busy{background:#ddf4ff;color:#0a3069}
.ok{color:#116329}.bad{color:#a40e26}
section.failure{border-color:#ff8182;background:#fff8f7}
section.failure h2{color:#a40e26}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.facts dt{color:#57606a}dl.facts dd{margin:0;overflow-wrap:anywhere}
.message{white-space:pre-wrap;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;width:100%;font-size:.8rem}
td,th{border-bottom:1px solid #d0d7de;padding:.3rem .4rem;text-align:right;white-space:nowrap}
th{color:#57606a;font-weight:600;white-space:normal;vertical-align:bottom}
td.text,th.text{text-align:left}
tr.error td{white-space:normal;text-align:left;color:#a40e26;border-bottom-color:#ff8182}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;padding:0;margin:0 0 .5rem;font-size:.85rem;color:#57606a}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;vertical-align:-.15rem;margin-right:.35rem;background:var(--c,#57606a)}
.swatch.rule{height:0;border-top:2px dashed var(--c,#57606a);background:none;vertical-align:.25rem}
.swatch.band{opacity:.35}
p.note{color:#57606a;font-size:.85rem;margin:.5rem 0 0}
svg.chart{display:block;width:100%;height:auto;font-size:11px;font-variant-numeric:tabular-nums}
svg .grid{stroke:#eaeef2}svg .axis,svg .tick{stroke:#57606a;fill:none}
svg .tick-label,svg .axis-title{fill:#424a53}svg .axis-title{font-weight:600}
svg .bar,svg .dot{fill:var(--c,#57606a)}svg .band{fill:var(--c,#57606a);opacity:.15}
svg .line{fill:none;stroke:var(--c,#57606a);stroke-width:3;stroke-linecap:round}
svg .line.waiting{stroke-width:1.5;stroke-dasharray:3 3}
svg .rule{stroke:var(--c,#57606a);stroke-width:1.5;stroke-dasharray:6 4}
svg .annotation{fill:var(--c,#57606a);font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}
"""


def css_class(prefix: str, name: str) -> str:
    """``backend``, ``block-stream`` -> ``backend-block-stream``, safe as a class name whatever ``name`` holds."""
    return f"{prefix}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}"


def stylesheet() -> str:
    return _STYLE + "".join(f".{name}{{--c:{colour}}}" for name, colour in COLOURS.items())


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page: ``title`` (escaped here) and ``body`` (HTML already)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{stylesheet()}</style></head>\n"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def legend(items: list[tuple[str, str, str]]) -> str:
    """``(category class, shape, text)`` items; the shape is ``box``, ``rule`` or ``band``."""
    entries = "".join(f'<li><span class="swatch {shape} {cls}"></span>{escape(text)}</li>' for cls, shape, text in items)
    return f'<ul class="legend">{entries}</ul>'
