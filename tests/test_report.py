"""The HTML report: its charts' ticks, its sections, what a failed run shows, and the page of real runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.observe.report import REPLAY_SECTIONS, render_report
from hiero_replay.observe.report.data import ReportData, mode_text
from hiero_replay.observe.report.svg import Axis, Chart, nice_ceiling, nice_ticks, text_width
from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import ROUND_SECONDS_ENV
from hiero_replay.store import RunRecord, SegmentRecord

CLI = [sys.executable, "-m", "hiero_replay"]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


# real runs of the CLI, shared with the browser test ----------------------------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=120)


def replay(history: History, work: Path, *extra: str, simulate: bool = True) -> subprocess.CompletedProcess[str]:
    """One auto-mode run across the cutover in segments of 20 rounds, the simulators as fast as they go."""
    args = [
        "run", "--events", history.events_dir, "--blocks", history.blocks_dir, "--bootstrap-state", history.bootstrap_state,
        "--node-id", "3", "--segment-rounds", "20", "--target-round", "120", "--work-dir", work, "--out", work.parent / "out", *extra,
    ]  # fmt: skip
    env = {**os.environ, ROUND_SECONDS_ENV: "0"}
    return subprocess.run(
        [*CLI, *map(str, args), *(["--simulate"] if simulate else [])], check=False, capture_output=True, text=True, env=env, timeout=300
    )


def write_report(work: Path, page: Path) -> Path:
    made = subprocess.run([*CLI, "report", "--work-dir", work, "--html", page], check=False, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return page


def crashing_pcli(tmp_path: Path) -> Path:
    """A configuration whose event-stream backend dies like a JVM out of memory."""
    crash = (  # answers the capability probe with its usage, then dies on the real work
        "import sys\nif '--id' not in sys.argv: sys.exit('usage: pcli event-stream recover --id ID')\n"
        "sys.stderr.write('Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\\n'); sys.exit(1)"
    )
    config = tmp_path / "crash.toml"
    validator = [sys.executable, "-m", "hiero_replay.simulate.validator"]
    config.write_text(
        f"[backends.event_stream]\ncommand = {json.dumps([sys.executable, '-c', crash])}\n"
        f"[backends.block_stream]\ncommand = {json.dumps(validator)}\n"
    )
    return config


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.references += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "srcset")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_a_run_that_ended_while_it_was_planned_is_reported(history: History, tmp_path: Path) -> None:
    """The expected hash of round 120 contradicts the footer of the block after it: refused in planning."""
    ran = replay(history, tmp_path / "work", "--expected-hash", "0" * 96)
    assert ran.returncode == 5, ran.stderr
    page = write_report(tmp_path / "work", tmp_path / "report.html").read_text()
    assert "ended while it was planned" in page and "Run failed: hash-mismatch (exit 5)" in page
    assert "the expected hash and the block stream disagree" in page.lower() and "<svg" not in page


def test_html_report_is_self_contained_and_holds_the_numbers(history: History, tmp_path: Path) -> None:
    ran = replay(history, tmp_path / "work", "--rate", "400 rounds/s")
    assert ran.returncode == 0, ran.stderr
    result = json.loads(next((tmp_path / "work/runs").glob("*/result.json")).read_text())
    page = write_report(tmp_path / "work", tmp_path / "report.html").read_text()
    parser = _Page()
    parser.feed(page)
    text = " ".join(parser.text)
    assert parser.references == [] and "script" not in parser.tags and "link" not in parser.tags
    assert parser.tags.count("svg") == 3  # rounds over time, rate by segment, staging throughput
    assert result["run_id"] in text and result["final_hash"] in text and "succeeded" in text
    assert "configured: 400 rounds/s" in text and "cutover: round 61" in text
    for segment in result["segments"]:
        assert f"{segment['first_round']}..{segment['last_round']}" in text
    assert "auto: auto:" not in text and "auto: events for rounds 11..60" in text
    assert "http://" not in page and "https://" not in page


# records made by hand --------------------------------------------------------------------------


def run_record(state: str = "succeeded", **changes: Any) -> RunRecord:
    plan = {
        "mode": "auto", "reason": "auto: events for rounds 11..60, blocks from the cutover 61 (first round of the block stream)",
        "bootstrap_state": "/data/saved/10", "bootstrap_round": 10, "start_round": 11, "target_round": 120, "cutover_round": 61,
        "expected_hash": None, "rate": "unlimited", "segments": [],
    }  # fmt: skip
    values: dict[str, Any] = {
        "id": "20260101T000000Z-abcdef", "trigger": "manual", "state": state, "started_at": T0, "finished_at": T0 + 12.0,
        "settings": {}, "plan": plan, "target_round": 120, "final_round": 120 if state == "succeeded" else None,
        "final_hash": "ab" * 48 if state == "succeeded" else None, "error_kind": None, "error_message": None,
        "exit_code": 0 if state == "succeeded" else None,
    }  # fmt: skip
    plan.update(changes.pop("plan", {}))
    return RunRecord(**{**values, **changes})


def segment_record(idx: int, first: int, last: int, state: str = "verified", **changes: Any) -> SegmentRecord:
    backend = "event-stream" if first < 61 else "block-stream"
    start = T0 + 2.0 * (idx - 1)
    done = state == "verified"
    values: dict[str, Any] = {
        "run_id": "20260101T000000Z-abcdef", "idx": idx, "backend": backend, "first_round": first, "last_round": last, "inputs": [],
        "state": state, "supervisor_pid": None, "round": last if done else None, "hash": "cd" * 48 if done else None,
        "started_at": start if state != "pending" else None, "finished_at": start + 1.5 if state != "pending" else None,
        "seconds": 1.5 if done else None, "consensus_seconds": 12.5 if done else None, "error_message": None,
        "fetched_files": 3 if state != "pending" else None, "fetched_bytes": 150_000 if state != "pending" else None,
        "fetch_seconds": 0.01 if state != "pending" else None,
    }  # fmt: skip
    return SegmentRecord(**{**values, **changes})


SPANS = [(11, 30), (31, 60), (61, 90), (91, 120)]


def test_nice_ticks_are_round_numbers_inside_the_axis() -> None:
    assert nice_ticks(Axis(11, 121, "round", integer=True), 6) == [20, 40, 60, 80, 100, 120]
    assert nice_ticks(Axis(0, 4.4, "s"), 10) == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0])
    assert nice_ticks(Axis(5, 8, "round", integer=True), 12) == [5, 6, 7, 8]  # never a fraction of a round
    assert [nice_ceiling(v) for v in (0.0, 7.3, 75.5, 121.0, 0.42)] == pytest.approx([1.0, 8.0, 80.0, 150.0, 0.5])


@pytest.mark.parametrize("low, high", [(11, 121), (81_234_001, 81_236_001), (0, 7_200_000_000), (0, 0.003)])
def test_tick_labels_leave_room_between_them(low: float, high: float) -> None:
    svg = Chart("test", Axis(low, high, "round"), Axis(low, high, "round")).svg()
    x_labels = [(float(x), label) for x, label in re.findall(r'<text class="tick-label x-tick" x="([\d.]+)"[^>]*>([^<]+)<', svg)]
    y_labels = [float(y) for y in re.findall(r'<text class="tick-label y-tick" x="[\d.]+" y="([\d.]+)"', svg)]
    assert len(x_labels) >= 3 and len(y_labels) >= 3
    for (x0, label0), (x1, label1) in pairwise(x_labels):
        assert x1 - x0 >= (text_width(label0) + text_width(label1)) / 2 + 8
    assert all(b - a >= 16 for a, b in pairwise(sorted(y_labels)))


def test_the_mode_is_said_once() -> None:
    plan = run_record().plan
    assert mode_text(plan) == plan["reason"]
    assert mode_text({"mode": "event-stream", "reason": "mode event-stream"}) == "event-stream"
    assert mode_text({"mode": "auto", "reason": "no block stream"}) == "auto: no block stream"
    page = render_report(run_record(), [segment_record(i + 1, *span) for i, span in enumerate(SPANS)])
    assert "auto: auto:" not in page and "auto: events for rounds 11..60" in page


def test_times_are_iso_8601_utc() -> None:
    page = render_report(run_record(), [segment_record(i + 1, *span) for i, span in enumerate(SPANS)])
    times = re.findall(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", page)
    assert times and all(ISO_UTC.match(t) for t in times), times
    assert "started 2026-01-01T00:00:00Z" in page and "2026-01-01T00:00:12Z" in page


def test_a_run_that_failed_before_any_segment_verified_shows_the_failure_and_no_chart() -> None:
    message = (
        "PCLI event-stream recover failed with exit code 1. Last lines of its output:\n  | java.lang.OutOfMemoryError: Java heap space"
    )
    run = run_record("failed", error_kind="backend", error_message=message, exit_code=6)
    segments = [segment_record(1, 11, 30, "failed", error_message=message)] + [
        segment_record(i + 1, *s, "pending") for i, s in enumerate(SPANS[1:], 1)
    ]
    page = render_report(run, segments)
    assert "<svg" not in page
    assert "Run failed: backend (exit 6)" in page and "java.lang.OutOfMemoryError: Java heap space" in page
    assert "segment 1 of 4 · event-stream (PCLI event-stream recover) · rounds 11..30 · failed at 2026-01-01T00:00:01Z" in page
    assert "round 10, the bootstrap state: no segment was verified" in page and "nothing to chart" in page


def test_a_run_that_failed_midway_charts_what_it_did_and_marks_the_failing_segment() -> None:
    run = run_record("failed", error_kind="hash-mismatch", error_message="apply-blocks: hash mismatch", exit_code=5)
    segments = [
        segment_record(1, *SPANS[0]),
        segment_record(2, *SPANS[1]),
        segment_record(3, *SPANS[2], "failed", error_message="mismatch"),
    ]
    segments.append(segment_record(4, *SPANS[3], "pending"))
    page = render_report(run, segments)
    assert page.count('<svg class="chart"') == 3
    assert page.count('class="band state-failed"') == 2 and page.count('class="band state-pending"') == 2  # rate and staging charts
    assert 'class="mark dot state-failed"' in page and "segment 3 failed" in page
    assert (
        "segment 3 of 4 · block-stream (apply-blocks) · rounds 61..90" in page
        and "last verified state</dt><dd>round 60 (segment 2)" in page
    )


def test_the_cutover_is_marked_only_when_the_run_crosses_it() -> None:
    crossing = render_report(run_record(), [segment_record(i + 1, *span) for i, span in enumerate(SPANS)])
    assert crossing.count('class="rule cutover"') == 3
    blocks_only = run_record(plan={"start_round": 61, "reason": "auto: the start round 61 is at or after the cutover 61: blocks only"})
    page = render_report(blocks_only, [segment_record(1, 61, 90), segment_record(2, 91, 120)])
    assert 'class="rule cutover"' not in page and "(not crossed by this run)" in page


def test_segments_carry_their_backend_colour_class() -> None:
    page = render_report(run_record(), [segment_record(i + 1, *span) for i, span in enumerate(SPANS)])
    bars = re.findall(r'<rect class="mark bar ([^"]+)"', page)
    assert sorted(set(bars)) == ["backend-block-stream", "backend-event-stream"] and len(bars) == 8
    assert ".backend-event-stream{--c:" in page and ".backend-block-stream{--c:" in page


def test_a_run_kind_is_a_tuple_of_sections() -> None:
    def jobs(data: ReportData) -> str:
        return f"<section><h2>Jobs</h2>{len(data.segments)} jobs</section>"

    page = render_report(run_record(), [segment_record(1, 11, 30)], kind=(REPLAY_SECTIONS[0], jobs))
    assert "<h2>Jobs</h2>1 jobs" in page and "<h2>Summary</h2>" not in page
