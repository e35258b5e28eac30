"""The simulators behave like the real tools' command-line contracts (hiero-tools.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.simulate.history import GENESIS_HASH, History, write_history
from hiero_replay.simulate.state import LEDGER_ENV, write_state_directory
from hiero_replay.states import read_state_metadata

VALIDATOR = [sys.executable, "-m", "hiero_replay.simulate.validator"]
PCLI = [sys.executable, "-m", "hiero_replay.simulate.pcli"]


def run(argv: list, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=100, cutover_round=101, target_round=150)


def state_at(tmp_path: Path, round_number: int, name: str = "state") -> Path:
    path = tmp_path / name
    write_state_directory(path, round_number=round_number, state_hash=GENESIS_HASH, node_id=0, consensus_time_ns=None)
    return path


def test_validator_applies_real_sample_blocks(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run([*VALIDATOR, state_at(tmp_path, 0), "apply-blocks", "--block-stream-dir", samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR",
                  "--node-id", "0", "--target-round", "315", "--out", out])
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 315
    assert "Block file contiguity validated: 6 block files present, range [0, 5]" in result.stdout


def test_validator_usage_error_is_exit_2(tmp_path: Path) -> None:
    result = run([*VALIDATOR, state_at(tmp_path, 0), "apply-blocks", "--block-stream-dir", tmp_path])
    assert result.returncode == 2 and "--node-id" in result.stderr


def test_validator_preconditions(history: History, tmp_path: Path) -> None:
    base = ["apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3"]
    late = run([*VALIDATOR, state_at(tmp_path, 50, "late"), *base, "--target-round", "120", "--out", tmp_path / "o1"])
    assert late.returncode == 1
    assert "Must have a block item with a round = 51. The oldest round found is 101" in late.stderr
    assert "java.lang.RuntimeException" in late.stderr and "\tat " in late.stderr
    short = run([*VALIDATOR, history.bootstrap_state, *base, "--target-round", "999", "--out", tmp_path / "o2"])
    assert short.returncode == 1
    assert "Block stream is incomplete. Expected target round is 999, last applied round is 160" in short.stderr
    gappy = tmp_path / "gappy"
    shutil.copytree(history.blocks_dir, gappy)
    (gappy / "000000000000000000000000000000000002.blk.gz").unlink()
    missing = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", gappy, "--node-id", "3", "--out", tmp_path / "o3"])
    assert missing.returncode == 1
    assert "Block stream directory is missing 1 block file(s). First present block = 0, last present block = 5. Missing blocks: [2]" in missing.stderr


def test_validator_hash_mismatch_after_writing_the_state(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3",
                  "--target-round", "120", "--expected-hash", "0" * 96, "--out", out])
    assert result.returncode == 1
    assert "hashes do not match" in result.stderr and "Expected: " + "0" * 96 in result.stderr
    assert read_state_metadata(out).round == 120  # written before the check, like the real tool


def test_validator_rate_limiter(history: History, tmp_path: Path) -> None:
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3",
                  "--target-round", "105", "--rate", "50", "--out", tmp_path / "o"])
    assert result.returncode == 0, result.stderr
    assert "Rate limiter created: 50rounds/s (interval=20 ms)" in result.stdout


def test_pcli_replays_the_real_2021_pair_with_wrapper_options_anywhere(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run([*PCLI, "-L", "data/lib", "event-stream", "-J", "-Xmx4g", "recover", state_at(tmp_path, 0),
                  samples / "events/v5-2021-consecutive", "--id=0", "-M", "8", "--ignore-partial", "--final-round", "1000", "-o", out])
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 1000
    assert "Applying 1 events from round 1000" in result.stdout
    assert list(out.glob("*/*/*/*_seq0_minr1000_maxr1000_orgn1000.pces"))


def test_pcli_stops_early_without_failing(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    start = state_at(tmp_path, 20)
    result = run([*PCLI, "event-stream", "recover", start, history.events_dir, "--id", "3", "--ignore-partial", "--final-round", "500", "--out", out])
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 121  # the events end there


def test_pcli_detects_a_missing_file(history: History, tmp_path: Path) -> None:
    events = tmp_path / "events"
    shutil.copytree(history.events_dir, events)
    files = sorted(events.iterdir())
    files[2].unlink()
    result = run([*PCLI, "event-stream", "recover", state_at(tmp_path, 5), events, "--id", "3", "--out", tmp_path / "o"])
    assert result.returncode == 1
    assert f"missing event stream file prior to `{files[3]}` detected" in result.stderr


def test_simulators_record_applied_rounds(history: History, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {"PATH": "/usr/bin:/bin", LEDGER_ENV: str(ledger)}
    result = run([*PCLI, "event-stream", "recover", state_at(tmp_path, 5), history.events_dir, "--id", "3", "--final-round", "9",
                  "--out", tmp_path / "o"], env=env)
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in ledger.read_text().splitlines()] == [["event-stream-recover", str(r)] for r in range(6, 10)]
