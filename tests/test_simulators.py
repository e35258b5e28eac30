"""The simulators behave like the real tools on upstream main (reference/hiero-tools.md §1–2, §7)."""

from __future__ import annotations

import gzip
import itertools
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


def run(argv: list[object], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, cwd=cwd, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=100, cutover_round=101, target_round=150)


def state_at(tmp_path: Path, round_number: int, name: str = "state") -> Path:
    path = tmp_path / name
    write_state_directory(path, round_number=round_number, state_hash=GENESIS_HASH, node_id=0, consensus_time_ns=None)
    return path


def out_folder(tmp_path: Path, name: str = "out") -> Path:
    (tmp_path / name).mkdir()
    return tmp_path / name


# --- apply-blocks ------------------------------------------------------------------------------


def test_validator_applies_real_sample_blocks(samples: Path, tmp_path: Path) -> None:
    out = out_folder(tmp_path)
    result = run([*VALIDATOR, state_at(tmp_path, 0), "apply-blocks", "--block-stream-dir", samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR",
                  "--node-id", "0", "--target-round", "315", "--out", out], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 315
    assert (out / "consensusSnapshot.json").exists()
    assert {"MINIMUM_BIRTH_ROUND_NON_ANCIENT", "LEGACY_RUNNING_EVENT_HASH_MNEMONIC", "FREEZE_STATE"} <= read_state_metadata(
        out
    ).fields.keys()
    # log4j2 on main: the log goes to files in the working directory, stdout holds console lines only (§7.1)
    assert "Block file contiguity validated: 6 block files present, range [0, 5]" in (tmp_path / "validator.log").read_text()
    assert (tmp_path / "state-analysis.log").exists()
    assert result.stdout.splitlines() == [f"Block stream recovery: {p}%" for p in range(10, 101, 10)]


def test_validator_needs_its_output_folder_to_exist(history: History, tmp_path: Path) -> None:
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3",
                  "--target-round", "120", "--out", tmp_path / "missing"], tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "java.io.IOException: Snapshot creation failed for round 120" in result.stderr


def test_validator_rejects_blocks_its_strict_parser_does_not_know(samples: Path, tmp_path: Path) -> None:
    result = run([*VALIDATOR, state_at(tmp_path, 0), "apply-blocks", "--block-stream-dir", samples / "blocks/hapi-0.69-block-0.0.3-blk",
                  "--node-id", "0", "--target-round", "4", "--out", out_folder(tmp_path)], tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "Failed reading block @" in result.stderr and "Unknown field 5" in result.stderr


def test_validator_parses_every_file_also_past_the_target(history: History, tmp_path: Path) -> None:
    blocks = tmp_path / "blocks"
    shutil.copytree(history.blocks_dir, blocks)
    last = sorted(blocks.iterdir())[-1]
    last.write_bytes(gzip.compress(b"not a block"))
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", blocks, "--node-id", "3",
                  "--target-round", "105", "--out", out_folder(tmp_path)], tmp_path)  # fmt: skip
    assert result.returncode == 1 and f"Failed reading block @ {last}" in result.stderr


def test_validator_usage_error_is_exit_2_with_every_option(tmp_path: Path) -> None:
    result = run([*VALIDATOR, state_at(tmp_path, 0), "apply-blocks", "--block-stream-dir", tmp_path], tmp_path)
    assert result.returncode == 2 and "Missing required option: '--node-id'" in result.stderr
    assert "--rate" in result.stderr and "--expected-hash" in result.stderr


def test_an_older_validator_has_no_rate(history: History, tmp_path: Path) -> None:
    result = run([*VALIDATOR, "--profile", "older", history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir,
                  "--node-id", "3", "--rate", "5", "--out", out_folder(tmp_path)], tmp_path)  # fmt: skip
    assert result.returncode == 2 and "Unknown option: '--rate'" in result.stderr


def test_validator_preconditions(history: History, tmp_path: Path) -> None:
    base = ["apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3"]
    late = run([*VALIDATOR, state_at(tmp_path, 50, "late"), *base, "--target-round", "120", "--out", out_folder(tmp_path, "o1")], tmp_path)
    assert late.returncode == 1
    assert "Must have a block item with a round = 51. The oldest round found is 101" in late.stderr
    assert "java.lang.RuntimeException" in late.stderr and "\tat " in late.stderr
    short = run([*VALIDATOR, history.bootstrap_state, *base, "--target-round", "999", "--out", out_folder(tmp_path, "o2")], tmp_path)
    assert short.returncode == 1
    assert "Block stream is incomplete. Expected target round is 999, last applied round is 160" in short.stderr
    gappy = tmp_path / "gappy"
    shutil.copytree(history.blocks_dir, gappy)
    (gappy / "000000000000000000000000000000000002.blk.gz").unlink()
    missing = run(
        [
            *VALIDATOR,
            history.bootstrap_state,
            *base[:1],
            "--block-stream-dir",
            gappy,
            "--node-id",
            "3",
            "--out",
            out_folder(tmp_path, "o3"),
        ],
        tmp_path,
    )
    assert missing.returncode == 1
    assert (
        "Block stream directory is missing 1 block file(s). First present block = 0, last present block = 5. Missing blocks: [2]"
        in missing.stderr
    )


def test_validator_lists_at_most_20_missing_blocks(history: History, tmp_path: Path) -> None:
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    files = sorted(history.blocks_dir.iterdir())
    shutil.copy(files[0], sparse)
    shutil.copy(files[-1], sparse / "000000000000000000000000000000000040.blk.gz")
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", sparse, "--node-id", "3",
                  "--out", out_folder(tmp_path)], tmp_path)  # fmt: skip
    assert "missing 39 block file(s)" in result.stderr and f"Missing blocks: {list(range(1, 21))}" in result.stderr


def test_validator_hash_mismatch_after_writing_the_state(history: History, tmp_path: Path) -> None:
    out = out_folder(tmp_path)
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3",
                  "--target-round", "120", "--expected-hash", "0" * 96, "--out", out], tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "Excepted and actual hashes do not match." in result.stderr and "Expected: " + "0" * 96 in result.stderr
    assert read_state_metadata(out).round == 120  # written before the check, like the real tool


def test_validator_rate_is_a_minimum_spacing_between_rounds(history: History, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    result = run([*VALIDATOR, history.bootstrap_state, "apply-blocks", "--block-stream-dir", history.blocks_dir, "--node-id", "3",
                  "--target-round", "110", "--rate", "50", "--out", out_folder(tmp_path)], tmp_path, env={"PATH": "/usr/bin:/bin", LEDGER_ENV: str(ledger)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Rate limiter created: 50rounds/s (interval=20 ms)" in (tmp_path / "validator.log").read_text()
    times = [float(line.split()[2]) for line in ledger.read_text().splitlines()]
    assert len(times) == 10 and all(b - a >= 0.0195 for a, b in itertools.pairwise(times))  # never closer than 1/rate


# --- PCLI ----------------------------------------------------------------------------------------


def test_pcli_replays_the_real_2021_pair_with_wrapper_options_anywhere(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run([*PCLI, "-L", "data/lib", "event-stream", "-J", "-Xmx4g", "recover", state_at(tmp_path, 0),
                  samples / "events/v5-2021-consecutive", "--id=0", "-M", "8", "--ignore-partial", "--final-round", "1000", "-o", out], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 1000
    assert "Applying 1 events from round 1000" in result.stdout
    assert "SIMULATOR of the Hiero platform CLI" not in result.stdout  # the banner only with -B (§7.2)
    assert list(out.glob("*/*/*/*_seq0_minr1000_maxr1000_orgn1000.pces"))


def test_pcli_wrapper_options_are_exact_tokens(history: History, tmp_path: Path) -> None:
    base = ["event-stream", "recover", history.bootstrap_state, history.events_dir, "--id", "3", "--out", tmp_path / "o"]
    assert "SIMULATOR of the Hiero platform CLI" in run([*PCLI, "-B", *base, "--final-round", "101"], tmp_path).stdout
    for stray in (["--cp", "x.jar"], ["-I"], ["--load=data/lib"]):
        result = run([*PCLI, *base, *stray], tmp_path)  # picocli sees what the wrapper leaves
        assert result.returncode == 2 and "Unknown option" in result.stderr, stray


def test_pcli_without_a_module_path(history: History, tmp_path: Path) -> None:
    base = ["event-stream", "recover", history.bootstrap_state, history.events_dir, "--id", "3"]
    bare = run([*PCLI, "--profile", "bare", *base], tmp_path)
    assert bare.returncode == 1 and "ERROR: the JVM module path is empty!" in bare.stdout
    with_jars = run([*PCLI, "--profile", "bare", "-L", tmp_path, *base, "--final-round", "101", "--out", tmp_path / "o"], tmp_path)
    assert with_jars.returncode == 0, with_jars.stdout + with_jars.stderr


def test_an_older_pcli_has_no_transaction_offset(history: History, tmp_path: Path) -> None:
    base = ["event-stream", "recover", history.bootstrap_state, history.events_dir, "--id", "3", "--transaction-offset-nanos", "104"]
    assert run([*PCLI, *base, "--final-round", "101", "--out", tmp_path / "o"], tmp_path).returncode == 0
    older = run([*PCLI, "--profile", "older", *base], tmp_path)
    assert older.returncode == 2 and "Unknown option: '--transaction-offset-nanos'" in older.stderr


def test_pcli_stops_early_without_failing(history: History, tmp_path: Path) -> None:
    out = tmp_path / "out"
    start = state_at(tmp_path, 20)
    result = run(
        [
            *PCLI,
            "event-stream",
            "recover",
            start,
            history.events_dir,
            "--id",
            "3",
            "--ignore-partial",
            "--final-round",
            "500",
            "--out",
            out,
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 121  # the events end there


def test_pcli_events_that_start_too_late(history: History, tmp_path: Path) -> None:
    events = tmp_path / "events"
    shutil.copytree(history.events_dir, events)
    for old in sorted(events.iterdir())[:5]:
        old.unlink()
    result = run([*PCLI, "event-stream", "recover", state_at(tmp_path, 0), events, "--id", "3", "--out", tmp_path / "o"], tmp_path)
    assert result.returncode == 1
    assert "java.util.NoSuchElementException: Requested value is not in the specified range" in result.stderr


def test_pcli_detects_a_missing_file(history: History, tmp_path: Path) -> None:
    events = tmp_path / "events"
    shutil.copytree(history.events_dir, events)
    files = sorted(events.iterdir())
    files[2].unlink()
    result = run([*PCLI, "event-stream", "recover", state_at(tmp_path, 5), events, "--id", "3", "--out", tmp_path / "o"], tmp_path)
    assert result.returncode == 1
    assert f"missing event stream file prior to `{files[3]}` detected" in result.stderr


def test_simulators_record_applied_rounds(history: History, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {"PATH": "/usr/bin:/bin", LEDGER_ENV: str(ledger)}
    result = run([*PCLI, "event-stream", "recover", state_at(tmp_path, 5), history.events_dir, "--id", "3", "--final-round", "9",
                  "--out", tmp_path / "o"], tmp_path, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split()[:2] for line in ledger.read_text().splitlines()] == [["event-stream-recover", str(r)] for r in range(6, 10)]
