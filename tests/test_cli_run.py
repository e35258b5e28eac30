"""``hiero-replay run`` / ``plan`` end to end: the CLI in a subprocess, the simulators as real
backend processes, the synthetic history written by the project's own writers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import LEDGER_ENV, ROUND_SECONDS_ENV
from hiero_replay.states import read_state_metadata

from .cli_helpers import CLI, cli, replay_args


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"))


def reference_hash(history: History) -> str:
    return read_state_metadata(history.expected_state).hash


def test_event_stream_backend_from_a_local_folder(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", *replay_args(history, tmp_path, "--mode", "event-stream", "--target-round", "90", "--out", out))
    assert result.returncode == 0, result.stderr
    state = read_state_metadata(out)
    assert state.round == 90
    assert "event-stream" in result.stdout and re.search(r"^final ROUND +90$", result.stdout, re.M)
    assert not list(tmp_path.glob("work/runs/*/segments/*-block-stream"))


def test_block_stream_backend_from_a_local_folder(history: History, tmp_path: Path) -> None:
    # Bootstrap from the state the event stream reaches at round 100, then blocks only.
    first = tmp_path / "first"
    assert cli("run", *replay_args(history, tmp_path, "--mode", "event-stream", "--target-round", "100", "--out", first)).returncode == 0
    out = tmp_path / "out"
    args = replay_args(history, tmp_path, "--mode", "block-stream", "--expected-state", history.expected_state, "--out", out)
    args[args.index("--bootstrap-state") + 1] = str(first)
    result = cli("run", *args)
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == reference_hash(history)
    assert not list(tmp_path.glob("work/runs/*/segments/*-event-stream/input"))[1:]


def test_auto_mode_crosses_the_cutover_and_matches_the_reference(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", *replay_args(history, tmp_path, "--expected-state", history.expected_state, "--out", out))
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == history.target_round
    assert read_state_metadata(out).hash == reference_hash(history)
    [run_dir] = (tmp_path / "work/runs").iterdir()
    segments = sorted(p.name for p in (run_dir / "segments").iterdir())
    assert segments == ["001-event-stream", "002-block-stream"]
    summary = json.loads((run_dir / "result.json").read_text())
    assert [s["backend"] for s in summary["segments"]] == ["event-stream", "block-stream"]
    assert [(s["first_round"], s["last_round"]) for s in summary["segments"]] == [(11, 100), (101, 220)]
    # No half-written or temporary state is left next to the output.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.parametrize("segment_rounds", ["7", "33"])
def test_one_segment_or_many_give_the_same_hash(history: History, tmp_path: Path, segment_rounds: str) -> None:
    out = tmp_path / "out"
    args = replay_args(history, tmp_path, "--target-round", str(history.target_round), "--segment-rounds", segment_rounds, "--out", out)
    result = cli("run", *args)
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == reference_hash(history)
    summary = json.loads(next((tmp_path / "work/runs").glob("*/result.json")).read_text())
    assert len(summary["segments"]) > 2


def test_plan_prints_segments_and_runs_nothing(history: History, tmp_path: Path) -> None:
    result = cli("plan", "--json", *replay_args(history, tmp_path, "--segment-rounds", "50", "--out", tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["cutover_round"] == 101 and plan["start_round"] == 11 and plan["target_round"] == 230
    assert [(s["backend"], s["first_round"], s["last_round"]) for s in plan["segments"]][:3] == [
        ("event-stream", 11, 60),
        ("event-stream", 61, 100),
        ("block-stream", 101, 150),
    ]
    first = plan["segments"][0]
    assert first["argv"][3:5] == ["event-stream", "recover"] and first["files"]
    assert not (tmp_path / "work").exists() and not (tmp_path / "out").exists()
    human = cli("plan", *replay_args(history, tmp_path, "--out", tmp_path / "out"))
    assert "apply-blocks --block-stream-dir" in human.stdout and "cutover round" in human.stdout


def test_expected_hash_mismatch_keeps_the_state_and_creates_no_output(history: History, tmp_path: Path) -> None:
    """Round 155 is inside a block: only the user's hash can prove it, and only after the replay."""
    out = tmp_path / "out"
    wrong = "0" * 96
    result = cli("run", *replay_args(history, tmp_path, "--target-round", "155", "--expected-hash", wrong, "--out", out))
    assert result.returncode == 5, result.stderr
    assert not out.exists()
    [kept] = (tmp_path / "work/runs").glob("*/mismatched-state-segment-*")
    assert read_state_metadata(kept).round == 155
    assert str(kept) in result.stderr and wrong in result.stderr


def test_an_expected_hash_the_block_stream_contradicts_is_refused_before_any_backend_starts(history: History, tmp_path: Path) -> None:
    """Round 150 ends block 4, so block 5's footer says what the state after it is: the user's
    hash cannot also be right, and an hour of replay would only prove that."""
    out, ledger = tmp_path / "out", tmp_path / "ledger"
    wrong = "0" * 96
    result = cli(
        "run", *replay_args(history, tmp_path, "--target-round", "150", "--expected-hash", wrong, "--out", out),
        env={LEDGER_ENV: str(ledger)},
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "expected hash and the block stream disagree on the state after round 150" in result.stderr
    assert "footer of block 5" in result.stderr and wrong in result.stderr
    assert not ledger.exists() and not out.exists()


def test_expected_hash_mismatch_after_pcli(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", *replay_args(history, tmp_path, "--target-round", "50", "--expected-hash", "f" * 96, "--out", out))
    assert result.returncode == 5, result.stderr
    assert not out.exists()
    assert list((tmp_path / "work/runs").glob("*/mismatched-state-segment-*/stateMetadata.txt"))


def test_a_gap_stops_the_run_before_any_backend_starts(history: History, tmp_path: Path) -> None:
    blocks = tmp_path / "blocks"
    blocks.mkdir()
    for path in history.blocks_dir.iterdir():
        if not path.name.endswith("05.blk.gz"):
            (blocks / path.name).write_bytes(path.read_bytes())
    args = replay_args(history, tmp_path, "--out", tmp_path / "out")
    args[args.index("--blocks") + 1] = str(blocks)
    result = cli("run", *args)
    assert result.returncode == 4, result.stderr
    assert "blocks 5..5" in result.stderr and "rounds 151..160" in result.stderr
    assert not (tmp_path / "work" / "runs").exists()  # no segment was ever staged or started


def test_pcli_early_stop_is_detected(history: History, tmp_path: Path) -> None:
    # A PCLI that, like the real one when its events run out, exits 0 five rounds short.
    # A PCLI that stops 5 rounds short of its final round, without failing (its usage unchanged).
    early = (
        "import sys; from hiero_replay.simulate.pcli import main; a = sys.argv[1:]\n"
        "if '--final-round' in a: i = a.index('--final-round'); a[i + 1] = str(int(a[i + 1]) - 5)\n"
        "main(a)"
    )
    config = tmp_path / "replay.toml"
    config.write_text(f"[backends.event_stream]\ncommand = {json.dumps([sys.executable, '-c', early])}\n")
    args = replay_args(history, tmp_path, "--mode", "event-stream", "--target-round", "80", "--out", tmp_path / "out")
    args.remove("--simulate")
    result = cli("run", "--config", config, *args)
    assert result.returncode == 4, result.stderr
    assert "stopped early" in result.stderr and "round 75" in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("work/runs/*/segments/*/state.partial"))


def test_java_stack_trace_is_exit_6_with_the_tail_of_stderr(history: History, tmp_path: Path) -> None:
    crash = (
        "import sys; print('Loading state', flush=True); "
        'sys.stderr.write(\'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\\n'
        "\\tat com.swirlds.merkledb.MerkleDbDataSource.<init>(MerkleDbDataSource.java:214)\\n'); sys.exit(1)"
    )
    config = tmp_path / "replay.toml"
    config.write_text(f"[backends.block_stream]\ncommand = {json.dumps([sys.executable, '-c', crash])}\n")
    args = replay_args(history, tmp_path, "--mode", "block-stream", "--out", tmp_path / "out")
    args.remove("--simulate")
    args[args.index("--bootstrap-state") + 1] = str(history.expected_state)  # round 220: blocks cover 221..230
    result = cli("run", "--config", config, *args)
    assert result.returncode == 6, result.stderr
    assert "java.lang.OutOfMemoryError: Java heap space" in result.stderr
    assert "MerkleDbDataSource.java:214" in result.stderr
    assert "Traceback" not in result.stderr


def test_backend_timeout_is_exit_6(history: History, tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    # Answers the capability probe with its usage, then hangs on the real work.
    tool = "import sys, time\nif '--block-stream-dir' not in sys.argv: sys.exit('usage: operator apply-blocks --rate R')\ntime.sleep(120)"
    hang = json.dumps([sys.executable, "-c", tool])
    config.write_text(f"[backends.block_stream]\ncommand = {hang}\ntimeout = 1.5\n")
    args = replay_args(history, tmp_path, "--mode", "block-stream", "--out", tmp_path / "out")
    args.remove("--simulate")
    args[args.index("--bootstrap-state") + 1] = str(history.expected_state)
    result = cli("run", "--config", config, *args)
    assert result.returncode == 6, result.stderr
    assert "timeout of 1.5 s" in result.stderr


def test_missing_state_or_stream_folder_is_exit_3(history: History, tmp_path: Path) -> None:
    args = replay_args(history, tmp_path, "--out", tmp_path / "out")
    missing_state = list(args)
    missing_state[missing_state.index("--bootstrap-state") + 1] = str(tmp_path / "no-state")
    result = cli("run", *missing_state)
    assert result.returncode == 3 and "no-state" in result.stderr and "does not exist" in result.stderr
    missing_events = list(args)
    missing_events[missing_events.index("--events") + 1] = str(tmp_path / "no-events")
    result = cli("run", *missing_events)
    assert result.returncode == 3 and "no-events" in result.stderr


def test_malformed_state_metadata_is_a_clear_error(history: History, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "stateMetadata.txt").write_text("ROUND: ten\nHASH: abc\n")
    args = replay_args(history, tmp_path, "--out", tmp_path / "out")
    args[args.index("--bootstrap-state") + 1] = str(state)
    result = cli("run", *args)
    assert result.returncode == 3
    assert "stateMetadata.txt: ROUND 'ten' is not a round number" in result.stderr
    assert "Traceback" not in result.stderr


def test_existing_output_is_never_overwritten(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = cli("run", *replay_args(history, tmp_path, "--out", out))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_invalid_values_name_the_key(history: History, tmp_path: Path) -> None:
    result = cli("run", *replay_args(history, tmp_path, "--out", tmp_path / "out", "--rate", "fast", "--expected-hash", "xyz"))
    assert result.returncode == 2
    assert "pace.rate" in result.stderr and "replay.expected_hash" in result.stderr and "96 hexadecimal digits" in result.stderr


def test_json_logs_carry_run_id_backend_and_segment(history: History, tmp_path: Path) -> None:
    result = cli("run", "--log-format", "json", *replay_args(history, tmp_path, "--target-round", "120", "--out", tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert all("run_id" in r for r in records)
    segment_records = [r for r in records if r["event"] in ("segment started", "segment verified")]
    assert {(r["backend"], r["segment"]) for r in segment_records} == {("event-stream", "1/2"), ("block-stream", "2/2")}


def test_config_file_env_and_flags_layer(history: History, tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text('[replay]\nmode = "event-stream"\nnode_id = 1\ntarget_round = 40\n[pace]\nrate = "20 rounds/s"\n')
    env = {**os.environ, "HIERO_REPLAY_REPLAY__NODE_ID": "2"}
    checked = cli("config", "check", config, env=env)
    assert checked.returncode == 0, checked.stderr
    effective = json.loads(checked.stdout)
    assert effective["replay"]["mode"] == "event-stream" and effective["replay"]["node_id"] == 2
    assert effective["pace"]["rate"] == "20 rounds/s"
    # Flags win over both.
    plan = cli("plan", "--json", "--config", config, "--node-id", "3", *replay_args(history, tmp_path, "--out", tmp_path / "o"), env=env)
    assert plan.returncode == 0, plan.stderr
    argv = json.loads(plan.stdout)["segments"][0]["argv"]
    assert argv[argv.index("--id") + 1] == "3"
    bad = tmp_path / "bad.toml"
    bad.write_text('[replay]\nmode = "sideways"\n')
    result = cli("config", "check", bad)
    assert result.returncode == 2 and "replay.mode" in result.stderr


def test_config_schema_is_json_schema() -> None:
    result = cli("config", "schema")
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) >= {"source", "replay", "pace", "backends", "work_dir"}


def backend_processes(tmp_path: Path) -> list[int]:
    """Live supervisors or backends whose command line mentions this test's folder."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and str(tmp_path).encode() in cmdline and b"hiero_replay" in cmdline and b" run" not in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_stops_the_backend_and_exits_8(history: History, tmp_path: Path, signal_number: int) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {**os.environ, ROUND_SECONDS_ENV: "0.03", LEDGER_ENV: str(ledger)}
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*CLI, "run", *map(str, replay_args(history, tmp_path, "--out", out))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # Interrupt the block-stream segment once it started (its 20 rounds take at least 0.6 s): a
    # condition, not a delay, so a loaded machine changes nothing.
    status = tmp_path / "work" / "status.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if json.loads(status.read_text()).get("segment") == 2:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 8, stderr
    assert "interrupted" in stderr.lower()
    committed = ledger.read_text().splitlines()
    assert [int(line.split()[1]) for line in committed] == list(range(11, 101))
    assert backend_processes(tmp_path) == []  # the backend and its supervisor are gone
    assert not out.exists()
    assert not list(tmp_path.glob("work/runs/*/segments/*/state.partial"))
    listing = cli("status", "--json", "--work-dir", tmp_path / "work")
    assert json.loads(listing.stdout)["runs"][0]["state"] == "interrupted"


def test_a_block_folder_of_links_to_elsewhere_is_named_for_what_it_holds(history: History, tmp_path: Path) -> None:
    blocks = tmp_path / "blocks"
    blocks.mkdir()
    for path in history.blocks_dir.iterdir():
        (blocks / path.name).symlink_to(path)  # links out of the folder are never followed
    args = replay_args(history, tmp_path, "--out", tmp_path / "out")
    args[args.index("--blocks") + 1] = str(blocks)
    result = cli("run", *args)
    assert result.returncode == 3, result.stderr
    assert f"--blocks {blocks} holds no block stream files" in result.stderr and "outside the folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_swapped_folders_are_named(history: History, tmp_path: Path) -> None:
    args = replay_args(history, tmp_path, "--out", tmp_path / "out")
    events, blocks = args.index("--events") + 1, args.index("--blocks") + 1
    args[events], args[blocks] = args[blocks], args[events]
    result = cli("run", *args)
    assert result.returncode == 2, result.stderr
    assert "holds event stream files, not block stream files" in result.stderr
