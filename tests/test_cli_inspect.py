"""``hiero-replay inspect`` through the real console script, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .helpers import write_blocks, write_events

CLI = [sys.executable, "-m", "hiero_replay"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_inspect_json_over_verified_blocks(samples: Path) -> None:
    result = run("inspect", "--json", str(samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "block-stream"
    assert (report["files"], report["first_block"], report["last_block"]) == (6, 0, 5)
    assert (report["first_round"], report["last_round"]) == (1, 315)
    assert report["first_consensus_time"] == "2026-08-10T21:48:41.705757000Z"
    assert report["last_consensus_time"] == "2026-08-10T21:48:59.392281000Z"
    assert report["hapi_versions"] == ["0.78.0"]
    assert report["hash_chain"] == "verified"
    assert report["gaps"] == [] and report["problems"] == []


def test_inspect_human_table(samples: Path) -> None:
    result = run("inspect", str(samples / "events/v5-2021-consecutive"))
    assert result.returncode == 0, result.stderr
    assert "event-stream" in result.stdout
    assert "1 .. 1579" in result.stdout
    assert "verified" in result.stdout


def test_inspect_mixed_with_round_range(tmp_path: Path) -> None:
    write_events(tmp_path / "events_0.0.3", 1, 40)
    write_blocks(tmp_path / "blocks", 41, 40, start_time_ns=1_767_225_610 * 10**9)
    result = run("inspect", "--json", "--from-round", "30", "--to-round", "60", str(tmp_path))
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["problems"]
    assert report["kind"] == "mixed"
    assert report["first_round"] <= 30 and report["last_round"] >= 60


def test_inspect_gap_exits_4_and_lists_it(tmp_path: Path) -> None:
    paths = write_blocks(tmp_path, 1, 30, rounds_per_block=3)
    paths[4].unlink()
    result = run("inspect", "--json", str(tmp_path))
    assert result.returncode == 4
    report = json.loads(result.stdout)
    assert report["hash_chain"] == "verified"
    assert {"kind": "blocks", "first": 4, "last": 4, "after": paths[3].name, "before": paths[5].name} in report["gaps"]
    [problem] = report["problems"]
    assert problem["kind"] == "continuity" and problem["file"] == paths[5].name
    assert "Traceback" not in result.stderr


def test_inspect_missing_folder_exits_3_without_traceback(tmp_path: Path) -> None:
    result = run("inspect", str(tmp_path / "nowhere"))
    assert result.returncode == 3
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_inspect_bad_range_exits_2(tmp_path: Path) -> None:
    write_blocks(tmp_path, 1, 5)
    result = run("inspect", "--from-round", "9", "--to-round", "3", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
