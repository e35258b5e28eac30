"""The report as a person sees it: headless Chromium renders the pages of real runs.

Chromium and its driver come from Debian (``chromium``, ``chromium-driver``; ``make test`` installs
them when it can) and are driven through Selenium. Without them these tests are skipped, saying why.
Each page is checked for console errors, charts that take room, tick labels that do not overlap,
segments in their backend's colour, the cutover, and for a failed run the failure itself; a
full-page PNG of each is saved beside the test's files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.observe.report import render_report
from hiero_replay.simulate.history import History, write_history

from .test_report import T0, crashing_pcli, replay, run_record, segment_record, write_report

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
# Root, no GPU, no network: without the background-networking flags Chromium keeps dialling out.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
)  # fmt: skip
WIDTH = 1100

# What the test reads of a page, in one round trip: boxes in CSS pixels, computed colours.
MEASURE = """
const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
const failure = document.querySelector('section.failure');
return {
  charts: [...document.querySelectorAll('svg.chart')].map(svg => ({
    name: svg.getAttribute('aria-label'),
    box: box(svg),
    texts: [...svg.querySelectorAll('text')].map(t => ({text: t.textContent, box: box(t)})),
    marks: [...svg.querySelectorAll('.mark')].map(m => ({
      cls: m.getAttribute('class').split(' '), box: box(m), fill: getComputedStyle(m).fill, stroke: getComputedStyle(m).stroke,
    })),
    classes: [...svg.querySelectorAll('[class]')].map(e => e.getAttribute('class')),
  })),
  failure: failure && {text: failure.innerText, box: box(failure)},
  overflow: document.documentElement.scrollWidth - window.innerWidth,
};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Chromium is not installed (Debian packages chromium and chromium-driver; `make test` installs them when it can)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the project's test extra)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="hiero-replay-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        driver.set_window_size(WIDTH, 900)
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


@pytest.fixture(scope="module")
def pages(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Reports of three real runs across the cutover: one that succeeded, one that failed at its
    last segment (wrong expected hash), one whose first segment's backend crashed."""
    root = tmp_path_factory.mktemp("report-runs")
    history: History = write_history(root / "history", bootstrap_round=10, cutover_round=61, target_round=120)
    outcomes = {
        "succeeded": (replay(history, root / "succeeded/work", "--rate", "400 rounds/s"), 0),
        # Round 115 is inside a block: only the wrong hash, not the stream, can judge it (after the replay).
        "mismatch": (replay(history, root / "mismatch/work", "--target-round", "115", "--expected-hash", "0" * 96), 5),
        "crash": (replay(history, root / "crash/work", "--config", str(crashing_pcli(root)), simulate=False), 6),
    }
    for name, (ran, exit_code) in outcomes.items():
        assert ran.returncode == exit_code, f"{name}: {ran.stderr}"
    return {name: write_report(root / name / "work", root / f"{name}.html") for name in outcomes}


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    return max(0.0, min(a["right"], b["right"]) - max(a["left"], b["left"])) * max(
        0.0, min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    )


def _within(box: dict[str, float], frame: dict[str, float]) -> bool:
    return (
        box["left"] >= frame["left"] - 1
        and box["top"] >= frame["top"] - 1
        and box["right"] <= frame["right"] + 1
        and box["bottom"] <= frame["bottom"] + 1
    )


def _area(box: dict[str, float]) -> float:
    return (box["right"] - box["left"]) * (box["bottom"] - box["top"])


def render(browser: Any, page: Path, screenshot: Path) -> dict[str, Any]:
    """Loads ``page``, checks what every report must get right, saves a full-page PNG and returns the measurements."""
    browser.get(page.as_uri())
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    seen: dict[str, Any] = browser.execute_script(MEASURE)
    assert seen["overflow"] <= 0, "the page scrolls sideways"
    for chart in seen["charts"]:
        name, frame = chart["name"], chart["box"]
        assert _area(frame) > 10_000, f"{name}: the chart takes no room"
        assert [m for m in chart["marks"] if _area(m["box"]) > 0], f"{name}: the chart is empty"
        for text in chart["texts"]:
            assert _area(text["box"]) > 0, f"{name}: {text['text']!r} is not rendered"
            assert _within(text["box"], frame), f"{name}: {text['text']!r} sticks out of the chart"
        for a, b in combinations(chart["texts"], 2):
            assert _overlap(a["box"], b["box"]) <= 0.5, f"{name}: labels {a['text']!r} and {b['text']!r} overlap"
        for bar in (m for m in chart["marks"] if "bar" in m["cls"]):
            assert [c for c in bar["cls"] if c.startswith("backend-")], f"{name}: a bar has no backend colour class"
            assert _area(bar["box"]) > 0 and bar["fill"] not in ("none", "rgb(0, 0, 0)"), f"{name}: a bar is not drawn in colour"
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
    )
    try:
        assert browser.save_screenshot(str(screenshot))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    return seen


def _backend_colours(chart: dict[str, Any]) -> dict[str, set[str]]:
    """Backend class -> the colours its marks are drawn in (a line's stroke, a bar's or dot's fill)."""
    colours: dict[str, set[str]] = {}
    for mark in chart["marks"]:
        for cls in (c for c in mark["cls"] if c.startswith("backend-")):
            colours.setdefault(cls, set()).add(mark["stroke"] if "line" in mark["cls"] else mark["fill"])
    return colours


def test_a_successful_run_across_the_cutover(browser: Any, pages: dict[str, Path], tmp_path: Path) -> None:
    seen = render(browser, pages["succeeded"], tmp_path / "succeeded.png")
    assert seen["failure"] is None
    assert [c["name"] for c in seen["charts"]] == ["rounds over time", "effective rate by segment", "staging throughput by segment"]
    for chart in seen["charts"]:
        colours = _backend_colours(chart)
        assert set(colours) == {"backend-event-stream", "backend-block-stream"}, chart["name"]
        assert all(len(c) == 1 for c in colours.values()) and colours["backend-event-stream"] != colours["backend-block-stream"]
        assert "rule cutover" in chart["classes"] and "cutover: round 61" in [t["text"] for t in chart["texts"]]
    rate = seen["charts"][1]
    assert len([m for m in rate["marks"] if "bar" in m["cls"]]) == 6  # 11..30, 31..50, 51..60 | 61..80, 81..100, 101..120
    assert "configured: 400 rounds/s" in [t["text"] for t in rate["texts"]]


def test_a_run_that_failed_at_its_last_segment(browser: Any, pages: dict[str, Path], tmp_path: Path) -> None:
    seen = render(browser, pages["mismatch"], tmp_path / "mismatch.png")
    failure = seen["failure"]
    assert failure is not None and _area(failure["box"]) > 0
    assert "Run failed: hash-mismatch (exit 5)" in failure["text"] and "not the expected hash" in failure["text"]
    assert "segment 6 of 6 · block-stream (apply-blocks) · rounds 101..115 · failed at" in failure["text"]
    assert "round 100 (segment 5)" in failure["text"]
    assert "tool logs\nbackend.log · state-analysis.log · validator.log" in failure["text"]
    assert len(seen["charts"]) == 3
    progress, rate, _ = seen["charts"]
    assert "segment 6 failed" in [t["text"] for t in progress["texts"]]
    assert "band state-failed" in rate["classes"] and "rule cutover" in rate["classes"]


def test_a_run_whose_first_backend_crashed_shows_the_failure_and_no_chart(browser: Any, pages: dict[str, Path], tmp_path: Path) -> None:
    seen = render(browser, pages["crash"], tmp_path / "crash.png")
    assert seen["charts"] == []
    failure = seen["failure"]
    assert failure is not None and _area(failure["box"]) > 0
    assert "Run failed: backend (exit 6)" in failure["text"] and "java.lang.OutOfMemoryError: Java heap space" in failure["text"]
    assert "segment 1 of 6 · event-stream (PCLI event-stream recover) · rounds 11..30 · failed at" in failure["text"]
    assert "tool logs\nbackend.log\n" in failure["text"]
    assert "nothing to chart" in failure["text"]


def test_a_long_interrupted_run_with_wide_numbers(browser: Any, tmp_path: Path) -> None:
    """Two hours over mainnet-sized round numbers in 40 segments: tick labels so wide that a tick every
    2,000 rounds would make them collide, minutes on the time axis."""
    base, rounds, cutover = 281_234_000, 600, 281_241_201
    plan = {"bootstrap_round": base, "start_round": base + 1, "target_round": base + 40 * rounds, "cutover_round": cutover, "rate": "10x"}
    segments, clock = [], T0
    for index in range(40):
        first = base + 1 + index * rounds
        state = "verified" if index < 30 else "running" if index == 30 else "pending"
        seconds = 150.0 + 10 * (index % 7)
        segments.append(segment_record(
            index + 1, first, first + rounds - 1, state, backend="event-stream" if first < cutover else "block-stream",
            started_at=clock if state != "pending" else None, finished_at=clock + seconds if state == "verified" else None,
            seconds=seconds if state == "verified" else None, round=first + rounds - 1 if state == "verified" else None,
            consensus_seconds=rounds * 0.25 if state == "verified" else None,
        ))  # fmt: skip
        clock += seconds + 12
    run = run_record(
        "interrupted",
        plan=plan,
        finished_at=clock,
        error_kind="interrupted",
        error_message="Interrupted by SIGTERM; the backend was stopped.",
        exit_code=8,
    )
    page = tmp_path / "long.html"
    page.write_text(render_report(run, segments), encoding="utf-8")
    seen = render(browser, page, tmp_path / "long.png")
    assert "Run interrupted: interrupted (exit 8)" in seen["failure"]["text"] and "segment 31 of 40" in seen["failure"]["text"]
    progress, rate, staging = seen["charts"]
    assert "time since the run started (min)" in [t["text"] for t in progress["texts"]]
    assert "281,240,000" in [t["text"] for t in rate["texts"]] and "configured: 10x" in [t["text"] for t in rate["texts"]]
    assert "band state-pending" in rate["classes"] and "band state-failed" in staging["classes"]
