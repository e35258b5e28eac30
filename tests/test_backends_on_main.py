"""The backends against the tools as they are on upstream main (reference/hiero-tools.md §7): every
failure text classified to its exit code, the capability probe adapting to older builds, `doctor`,
and the tools' working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.backends.apply_blocks import BlockStreamBackend, BlockStreamBackendConfig
from hiero_replay.backends.capabilities import Capabilities
from hiero_replay.backends.pcli import EventStreamBackend, EventStreamBackendConfig
from hiero_replay.backends.probe import probe, run_probe, startup_error
from hiero_replay.errors import ConfigError
from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata

CLI = [sys.executable, "-m", "hiero_replay"]
VALIDATOR = [sys.executable, "-m", "hiero_replay.simulate.validator"]
PCLI = [sys.executable, "-m", "hiero_replay.simulate.pcli"]
JAVA_FRAMES = ["\tat com.hedera.statevalidation.blockstream.BlockStreamRecoveryWorkflow.applyBlocks(BlockStreamRecoveryWorkflow.java:142)"]

APPLY_BLOCKS_FAILURES = [
    # (the tool's last lines, exit code, words the message must hold)
    (["java.lang.RuntimeException: Excepted and actual hashes do not match. ", " Expected: " + "ab" * 48, " Actual: " + "cd" * 48], 5, "ab" * 48),
    (["java.lang.RuntimeException: Block stream directory is missing 2 block file(s). First present block = 0, last present block = 5. Missing blocks: [2, 3]"], 4, "Missing blocks: [2, 3]"),
    (["java.lang.RuntimeException: Given blockstream doesn't have a proper starting round. Must have a block item with a round = 51. The oldest round found is 101"], 4, "round = 51"),
    (["java.lang.RuntimeException: Unexpected round number. Expected = 12, actual = 14"], 4, "Expected = 12"),
    (["java.lang.RuntimeException: Block stream is incomplete. Expected target round is 999, last applied round is 160"], 4, "last applied round is 160"),
    (["java.lang.RuntimeException: State directory does not exist: /s/1"], 3, "/s/1"),
    (["java.lang.RuntimeException: Failed reading block @ /w/in/000000000000000000000000000000000007.blk.gz", "Caused by: java.util.zip.ZipException: Not in GZIP format"], 7, "000000000000000000000000000000000007.blk.gz"),
    (["java.lang.RuntimeException: Failed reading block @ /w/in/000000000000000000000000000000000003.blk", "Caused by: com.hedera.pbj.runtime.ParseException: Unknown field 5 in message BlockProof (strict mode)"], 2, "HAPI version"),
    (["java.io.IOException: Snapshot creation failed for round 120"], 6, "--out"),
    (["Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"], 6, "OutOfMemoryError"),
]  # fmt: skip
PCLI_FAILURES = [
    (["ERROR: the JVM module path is empty!"], 2, "-L"),
    (["ERROR: the JVM classpath is empty!"], 2, "-L"),
    (["java.io.IOException: missing event stream file prior to `/e/2026-01-01T00_00_10.000000000Z.evts` detected"], 4, "00_00_10"),
    (["java.util.NoSuchElementException: Requested value is not in the specified range"], 4, "start later"),
    (["java.util.NoSuchElementException: No value present"], 2, "config_file"),
    (["java.io.IOException: file `/e/x.evts` terminates early"], 7, "terminates early"),
]  # fmt: skip


@pytest.mark.parametrize(("tail", "exit_code", "words"), APPLY_BLOCKS_FAILURES)
def test_apply_blocks_failures_are_classified(tail: list[str], exit_code: int, words: str) -> None:
    error = BlockStreamBackend(BlockStreamBackendConfig()).failure(1, [*tail, *JAVA_FRAMES])
    assert (error.exit_code, words in str(error)) == (exit_code, True), str(error)


@pytest.mark.parametrize(("tail", "exit_code", "words"), PCLI_FAILURES)
def test_pcli_failures_are_classified(tail: list[str], exit_code: int, words: str) -> None:
    error = EventStreamBackend(EventStreamBackendConfig()).failure(1, tail)
    assert (error.exit_code, words in str(error)) == (exit_code, True), str(error)


def _probed(backend: BlockStreamBackend | EventStreamBackend, tmp_path: Path) -> list[str]:
    return backend.adapt(probe(backend, tmp_path))


def test_apply_blocks_without_rate_is_paced_by_the_orchestrator(tmp_path: Path) -> None:
    current = BlockStreamBackend(BlockStreamBackendConfig(command=VALIDATOR))
    assert _probed(current, tmp_path) == [] and current.paces_rounds
    older = BlockStreamBackend(BlockStreamBackendConfig(command=[*VALIDATOR, "--profile", "older"]))
    notes = _probed(older, tmp_path)
    assert not older.paces_rounds and "no --rate" in notes[0]


def test_pcli_without_transaction_offset_refuses_a_config_that_sets_it(tmp_path: Path) -> None:
    older = [*PCLI, "--profile", "older"]
    assert _probed(EventStreamBackend(EventStreamBackendConfig(command=older)), tmp_path) == []
    with pytest.raises(ConfigError, match=r"transaction_offset_nanos.*--transaction-offset-nanos") as refused:
        _probed(EventStreamBackend(EventStreamBackendConfig(command=older, transaction_offset_nanos=104)), tmp_path)
    assert refused.value.exit_code == 2
    assert _probed(EventStreamBackend(EventStreamBackendConfig(command=PCLI, transaction_offset_nanos=104)), tmp_path) == []


def test_a_tool_that_cannot_start_is_named_with_its_own_words(tmp_path: Path) -> None:
    bare = EventStreamBackend(EventStreamBackendConfig(command=[*PCLI, "--profile", "bare"]))
    bare.adapt(probe(bare, tmp_path))
    error = startup_error(bare)
    assert error is not None and error.exit_code == 2 and "module path is empty" in str(error)
    missing = BlockStreamBackend(BlockStreamBackendConfig(command=["/nonexistent/java", "-jar", "v.jar"]))
    missing.adapt(probe(missing, tmp_path))
    error = startup_error(missing)
    assert error is not None and error.exit_code == 6 and "/nonexistent/java was not found" in str(error)


def test_probes_are_cached_by_command_and_file_time(tmp_path: Path) -> None:
    tool = tmp_path / "tool.py"
    tool.write_text("import sys\nprint('usage: operator apply-blocks --rate R --node-id N')\nsys.exit(2)\n")
    backend = BlockStreamBackend(BlockStreamBackendConfig(command=[sys.executable, str(tool)]))
    work = tmp_path / "work"
    work.mkdir()
    assert "--rate" in probe(backend, work).options
    tool.write_text("import sys\nprint('usage: operator apply-blocks --node-id N')\nsys.exit(2)\n")
    os.utime(tool, ns=(1, 1))  # a new build of the tool
    assert "--rate" not in probe(backend, work).options
    cached = json.loads((work / "probes.json").read_text())
    assert len(cached) == 2
    tool.write_text("raise SystemExit('broken')")  # same time stamp: the cache answers, the tool is not run
    os.utime(tool, ns=(1, 1))
    assert probe(backend, work).options == frozenset({"--node-id"})


def test_run_probe_reads_long_options_only_from_a_usage() -> None:
    answer = run_probe([sys.executable, "-c", "print('Usage: x [-r=<rate>] --rate=<r> --node-id=<n> -bp')"], Path.cwd())
    assert answer.options == frozenset({"--rate", "--node-id"})
    silent = run_probe([sys.executable, "-c", "import sys; print('boom'); sys.exit(1)"], Path.cwd())
    assert not silent.starts and silent.exit_code == 1 and silent.tail == ("boom",)
    assert Capabilities.from_json(Capabilities(("a",), frozenset({"--x"})).to_json()).options == {"--x"}


def test_doctor_reports_each_backend(tmp_path: Path) -> None:
    config = tmp_path / "tools.toml"
    config.write_text(
        f"[backends.block_stream]\ncommand = {json.dumps([*VALIDATOR, '--profile', 'older'])}\n"
        f"[backends.event_stream]\ncommand = {json.dumps(PCLI)}\ntransaction_offset_nanos = 104\n"
    )
    shown = subprocess.run([*CLI, "doctor", "--config", str(config)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "--rate  no (an older build)" in shown.stdout
    assert "--transaction-offset-nanos  yes; passed as configured (104)" in shown.stdout
    as_json = json.loads(subprocess.run([*CLI, "doctor", "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=60).stdout)
    assert {entry["backend"]: entry["starts"] for entry in as_json["backends"]} == {"event-stream": False, "block-stream": False}
    broken = subprocess.run([*CLI, "doctor"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert broken.returncode == 6 and "pcli.sh was not found" in broken.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tools.toml"]  # the probes wrote nothing here


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=120)


def test_tools_run_in_their_segment_folder_and_write_nothing_where_the_user_is(history: History, tmp_path: Path) -> None:
    caller = tmp_path / "caller"
    caller.mkdir()
    args = ["run", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir, "--bootstrap-state", history.bootstrap_state,
            "--expected-state", history.expected_state, "--node-id", "3", "--segment-rounds", "30", "--work-dir", "work", "--out", "out"]  # fmt: skip
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=caller, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in caller.iterdir()) == ["out", "work"]  # relative paths, yet nothing else beside them
    assert read_state_metadata(caller / "out").hash == read_state_metadata(history.expected_state).hash
    segments = sorted((caller / "work" / "runs").glob("*/segments/*"))
    block_segments = [s for s in segments if s.name.endswith("block-stream")]
    assert block_segments and all((s / "validator.log").is_file() and (s / "state-analysis.log").is_file() for s in block_segments)
    assert "Rate limiter" not in (block_segments[0] / "backend.log").read_text()  # log lines stay in the tool's own log


def test_a_failure_shows_the_tools_own_log(history: History, tmp_path: Path) -> None:
    args = ["run", "--simulate", "--mode", "block-stream", "--blocks", history.blocks_dir, "--bootstrap-state", history.expected_state,
            "--target-round", "125", "--expected-hash", "0" * 96, "--node-id", "3", "--work-dir", tmp_path / "work", "--out", tmp_path / "out"]  # fmt: skip
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 5, result.stderr
    assert "validator.log:" in result.stderr and "loaded state round 120" in result.stderr


def test_progress_moves_inside_a_segment(tmp_path: Path) -> None:
    """One paced block-stream segment of 140 rounds at 20 rounds/s (7 s): apply-blocks' progress lines
    move status.json's current round while it runs, and without a terminal a progress line is logged
    (every 5 s) before the segment ends."""
    history = write_history(tmp_path / "h", bootstrap_round=60, cutover_round=41, target_round=200)
    args = ["run", "--simulate", "--mode", "block-stream", "--blocks", history.blocks_dir, "--bootstrap-state", history.bootstrap_state,
            "--expected-state", history.expected_state, "--node-id", "3", "--rate", "20 rounds/s", "--work-dir", tmp_path / "work",
            "--out", tmp_path / "out"]  # fmt: skip
    process = subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: list[int] = []
    while process.poll() is None:
        try:
            status = json.loads((tmp_path / "work" / "status.json").read_text())
        except (OSError, ValueError):
            continue
        if status.get("segment") == 1 and (not seen or status["current_round"] != seen[-1]):
            seen.append(status["current_round"])
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    inside = [r for r in seen if 60 < r < 200]
    assert len(inside) >= 3 and inside == sorted(inside), seen
    lines = stderr.splitlines()
    verified = next(i for i, line in enumerate(lines) if "segment verified" in line)
    assert any("progress" in line and "segment 1/1" in line for line in lines[:verified]), stderr
