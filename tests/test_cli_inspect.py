"""``hiero-replay inspect`` through the real console script, in a subprocess."""

from __future__ import annotations

import gzip
import json
import os
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
    assert report["hash_chain"] == "interrupted"  # the link across the gap is not checked: not "verified"
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


def test_inspect_says_what_is_true_and_lists_every_ignored_file(samples: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    paths = write_blocks(broken, 1, 30, rounds_per_block=3)
    data = bytearray(gzip.decompress(paths[4].read_bytes()))
    data[len(data) // 2] ^= 0x01
    paths[4].write_bytes(gzip.compress(bytes(data)))
    (broken / "000000000000000000000000000000000004.mf").write_bytes(b"")
    (broken / ".000000000000000000000000000000000005.blk.gz.part").write_bytes(b"x")
    (broken / "notes.txt").write_text("hello")
    text = run("inspect", str(broken)).stdout
    assert "hash chain      broken at" in text and "verified (" not in text
    assert "ignored         3 file(s)" in text
    for line in ("a block marker file (.mf): 1", "a hidden file: 1", "not a stream file's name: 1"):
        assert f"ignored, {line}" in text
    wrapped = run("inspect", str(samples / "blocks" / "hapi-0.78-WRB_SOLO_4N")).stdout
    assert "rounds          no rounds (wrapped record blocks carry none)" in wrapped and "None" not in wrapped
    single = run("inspect", str(samples / "blocks" / "wrb-single")).stdout
    assert "None" not in single and "ignored, named like a block file, but its name is not a block number: 2" in single
    assert "v5-block.blk.gz" in single and "v6-block.blk.gz" in single
    signatures = run("inspect", "--json", str(samples / "events" / "sigs-only-2023-4nodes"))
    report = json.loads(signatures.stdout)
    assert signatures.returncode == 3 and report["files"] == 0
    assert {entry["reason"] for entry in report["ignored"]} == {"a signature file without its event file"}
    assert len(report["ignored"]) == len(
        [p for p in (samples / "events" / "sigs-only-2023-4nodes").rglob("*") if p.is_file() and p.name != "README.md"]
    )


def test_the_decompression_bound_is_configurable_and_reaches_the_worker_processes(tmp_path: Path) -> None:
    """300 blocks (read in worker processes), one of them 0.9 MB of gzip holding 1.2 MB: under a
    bound of 1 MiB it is refused for its size; under the default it is read, and fails as not a block."""
    folder = tmp_path / "blocks"
    paths = write_blocks(folder, 1, 300, rounds_per_block=1, events_per_round=1, transactions_per_event=1)
    paths[150].write_bytes(gzip.compress(os.urandom(900_000) + bytes(300_000)))

    def inspect(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "inspect", "--json", str(folder)], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
        )

    bounded = inspect({"HIERO_REPLAY_LIMITS__MAX_DECOMPRESSED_BYTES": str(2**20)})
    assert bounded.returncode == 7, bounded.stderr
    [problem] = [p for p in json.loads(bounded.stdout)["problems"] if p["file"] == paths[150].name]
    assert "never more than 1,048,576, limits.max_decompressed_bytes" in problem["message"]
    default = inspect({})
    [problem] = [p for p in json.loads(default.stdout)["problems"] if p["file"] == paths[150].name]
    assert "decompresses" not in problem["message"] and "not a valid block" in problem["message"]
