"""Observability end to end: metrics over HTTP, textfile and Pushgateway; status.json; progress lines."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import ROUND_SECONDS_ENV

CLI = [sys.executable, "-m", "hiero_replay"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def samples(text: str) -> dict[str, float]:
    """``name{labels}`` -> value, for every sample of a Prometheus text exposition."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=120)


def start_run(history: History, tmp_path: Path, *extra: str | os.PathLike[str], round_seconds: str = "0.02") -> subprocess.Popen[str]:
    args = [
        "run", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir,
        "--bootstrap-state", history.bootstrap_state, "--expected-state", history.expected_state,
        "--node-id", "3", "--segment-rounds", "20", "--work-dir", tmp_path / "work", "--out", tmp_path / "out", *extra,
    ]  # fmt: skip
    env = {**os.environ, ROUND_SECONDS_ENV: round_seconds}
    return subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_metrics_endpoint_and_textfile(history: History, tmp_path: Path) -> None:
    port, textfile = free_port(), tmp_path / "metrics" / "hiero_replay.prom"
    process = start_run(history, tmp_path, "--metrics-port", str(port), "--metrics-textfile", textfile)
    scraped: list[dict[str, float]] = []
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                scraped.append(samples(response.read().decode()))
        except OSError:
            pass
        time.sleep(0.1)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    applied = [s.get("hiero_replay_rounds_applied_total", 0.0) for s in scraped]
    assert len(scraped) >= 5 and applied == sorted(applied)  # counters only move forward
    assert 0 < applied[-1] <= 110 and any(0 < a < 110 for a in applied)  # seen mid-run
    assert scraped[-1]["hiero_replay_target_round"] == 120
    assert any(s.get("hiero_replay_backend_info{backend=event-stream}") == 1 for s in scraped)
    final = samples(textfile.read_text())
    assert final["hiero_replay_rounds_applied_total"] == 110
    assert final["hiero_replay_current_round"] == 120
    assert final["hiero_replay_last_success_timestamp_seconds"] > time.time() - 300
    assert final["hiero_replay_effective_rate_rounds_per_second"] > 0
    assert final["hiero_replay_files_fetched_total{result=ok,source_type=local}"] > 0
    assert final["hiero_replay_fetched_bytes_total{result=ok,source_type=local}"] > 0
    assert final["hiero_replay_segment_duration_seconds_count{backend=block-stream}"] == 3
    assert final["hiero_replay_backend_info{backend=block-stream}"] == 1
    assert final["hiero_replay_mode_info{cutover_round=61,mode=auto,rate=unlimited}"] == 1
    assert "hiero_replay_consensus_lag_seconds" in final
    assert not [p for p in textfile.parent.iterdir() if p != textfile]  # written atomically, no leftovers


def test_push_to_a_real_pushgateway(history: History, tmp_path: Path) -> None:
    binary = shutil.which("prometheus-pushgateway")
    if binary is None:
        pytest.skip("prometheus-pushgateway is not installed (Debian package prometheus-pushgateway)")
    port = free_port()
    gateway = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={tmp_path / 'pgw'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        process = start_run(history, tmp_path, "--pushgateway", f"http://127.0.0.1:{port}", round_seconds="0")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            pushed = samples(response.read().decode())
        assert pushed["hiero_replay_rounds_applied_total{instance=,job=hiero-replay}"] == 110
        assert pushed["hiero_replay_current_round{instance=,job=hiero-replay}"] == 120
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


def test_status_file_always_parses_and_never_goes_backwards(history: History, tmp_path: Path) -> None:
    status_file = tmp_path / "work" / "status.json"
    process = start_run(history, tmp_path)
    reads, rounds, states = 0, [], set()
    while process.poll() is None:
        if status_file.exists():
            status = json.loads(status_file.read_text())  # must always parse
            reads += 1
            states.add(status["state"])
            if "current_round" in status:  # planned
                rounds.append(status["current_round"])
    process.communicate()
    status = json.loads(status_file.read_text())
    assert process.returncode == 0
    assert reads > 100 and rounds == sorted(rounds)
    assert status["state"] == "succeeded" and status["current_round"] == 120 and status["segments"] == status["segment"]
    assert {"running"} <= states | {status["state"]}
    shown = subprocess.run([*CLI, "status", "--work-dir", tmp_path / "work"], capture_output=True, text=True)
    assert "round 120 of 120" in shown.stdout and "succeeded" in shown.stdout


def test_plain_progress_lines_when_not_a_terminal(history: History, tmp_path: Path) -> None:
    process = start_run(history, tmp_path, round_seconds="0")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0
    progress = [line for line in stderr.splitlines() if re.search(r"\] progress\s", line)]
    assert progress and "eta_seconds=" in progress[-1] and "round=120" in progress[-1]


def test_plain_progress_lines_come_every_interval_also_between_progress_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from hiero_replay.logs import configure_logging
    from hiero_replay.observe.progress import ProgressDisplay

    configure_logging("json")
    now = [0.0]
    display = ProgressDisplay(io.StringIO(), clock=lambda: now[0], interval=5.0)
    plan = type("Plan", (), {"bootstrap_round": 10, "target_round": 110, "segments": (1, 2)})()
    display.run_started(plan, {})
    display.segment_started(type("Segment", (), {"index": 1, "backend": "block-stream"})())
    for step in range(1, 121):  # a 12 s segment, polled every 0.1 s, one progress line at 3 s
        now[0] = step / 10
        if step == 30:
            display.round_applied(40)
        display.tick()
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [entry["round"] for entry in logged] == [40, 40]  # at 5 s and 10 s
    assert all(entry["segment"] == "segment 1/2 block-stream" for entry in logged)
