"""Outputs proven by the block stream itself (``reference/hiero-tools.md`` §7.3): every block's footer
carries the state hash after the block before, so block-aligned segments are verified by the
stream, a wrong bootstrap state is refused before any backend starts, and a divergence is bisected
down to its first block. On the real HAPI 0.78 chain, with a backend double that returns the
footers' hashes, and on synthetic histories with the simulators."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from hiero_replay.inventory import load_stream_files
from hiero_replay.model.files import StreamFile
from hiero_replay.plan.proofs import StreamProofs, era_unusable
from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import DIVERGE_ENV, LEDGER_ENV, write_state_directory
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.states import read_state_metadata
from hiero_replay.streams.block_hash import EMPTY_HASH
from hiero_replay.streams.blocks import BlockFile

from .conftest import REPO
from .doubles.footer_validator import FOOTERS_ENV

CLI = [sys.executable, "-m", "hiero_replay"]
DOUBLE = [sys.executable, str(REPO / "tests" / "doubles" / "footer_validator.py")]
CHAIN = "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR"  # blocks 0..5: rounds 1..144, 145..176, 177..211, 212..246, 247..281, 282..315


def _blocks(folder: Path) -> list[StreamFile]:
    return load_stream_files(LocalDirSource(folder)).blocks


def _footer(block: StreamFile) -> str:
    assert block.block is not None and block.block.footer is not None
    return block.block.footer.start_of_block_state_root_hash.hex()


@pytest.fixture
def chain(samples: Path) -> list[StreamFile]:
    return _blocks(samples / CHAIN)


@dataclass
class ChainReplay:
    """``hiero-replay run`` in block-stream mode over the real chain with the footer double, from a
    state at the end of block 1 (round 176) whose HASH block 2's footer carries, to round 281."""

    blocks: Path
    tmp_path: Path
    config: Path
    table: Path
    bootstrap: Path

    def __call__(self, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        args = ["run", "--config", self.config, "--mode", "block-stream", "--blocks", self.blocks, "--bootstrap-state", self.bootstrap,
                "--target-round", "281", "--work-dir", self.tmp_path / "work", "--out", self.tmp_path / "out", *flags]  # fmt: skip
        environment = {**_environ(), FOOTERS_ENV: str(self.table), **(env or {})}
        return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=environment, cwd=self.tmp_path, timeout=300)


@pytest.fixture
def replay(chain: list[StreamFile], samples: Path, tmp_path: Path) -> ChainReplay:
    table = tmp_path / "footers.json"
    table.write_text(json.dumps({f.last_round: _footer(chain[n + 1]) for n, f in enumerate(chain[:-1])}))
    config = tmp_path / "double.toml"
    config.write_text(f"[backends.block_stream]\ncommand = {json.dumps(DOUBLE)}\n")
    bootstrap = tmp_path / "saved" / "176"
    write_state_directory(bootstrap, round_number=176, state_hash=_footer(chain[2]), node_id=0, consensus_time_ns=None)
    return ChainReplay(samples / CHAIN, tmp_path, config, table, bootstrap)


def _environ() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in (DIVERGE_ENV, LEDGER_ENV)}


def _run_dir(tmp_path: Path) -> Path:
    [run_dir] = (tmp_path / "work" / "runs").iterdir()
    return run_dir


def _backend_runs(run_dir: Path) -> int:
    """Backend processes the run started: each leaves its exit status in its own folder."""
    return len(list(run_dir.rglob("backend.status")))


def test_a_replay_of_the_real_chain_is_proven_segment_by_segment_by_the_stream(
    replay: ChainReplay, chain: list[StreamFile], tmp_path: Path
) -> None:
    result = replay("--segment-rounds", "30")  # rounded up to the ends of blocks 2, 3 and 4
    assert result.returncode == 0, result.stderr
    summary = json.loads((_run_dir(tmp_path) / "result.json").read_text())
    segments = summary["segments"]
    assert [(s["first_round"], s["last_round"]) for s in segments] == [(177, 211), (212, 246), (247, 281)]
    assert [s["verified_by"] for s in segments] == ["stream"] * 3
    assert [s["expected_hash"] for s in segments] == [_footer(chain[n]) for n in (3, 4, 5)]
    assert [s["hash"] for s in segments] == [s["expected_hash"] for s in segments]
    assert summary["verified_by"] == {"stream": 3}
    plan = json.loads((_run_dir(tmp_path) / "plan.json").read_text())
    for segment, block in zip(plan["segments"], (3, 4, 5), strict=True):
        assert segment["proof"]["block"] == block and segment["proof"]["reason"].startswith(f"footer of block {block}")
        assert segment["argv"][segment["argv"].index("--expected-hash") + 1] == _footer(chain[block])  # apply-blocks checks too
    assert plan["bootstrap_proof"]["reason"] == "matches the footer of block 2"
    assert "3 segment(s): 3 by the block stream" in result.stdout


def test_a_divergence_inside_block_3_is_bisected_to_block_3(replay: ChainReplay, chain: list[StreamFile], tmp_path: Path) -> None:
    result = replay(env={DIVERGE_ENV: "230"})  # one segment of blocks 2, 3 and 4; round 230 is in block 3
    assert result.returncode == 5, result.stderr
    assert "diverges from the block stream at block 3 (rounds 212..246)" in result.stderr
    run_dir = _run_dir(tmp_path)
    summary = json.loads((run_dir / "result.json").read_text())
    assert summary["outcome"] == "failed" and summary["error"]["exit_code"] == 5
    assert summary["first_divergent_block"] == 3
    divergence = summary["divergence"]
    assert divergence["rounds"] == [212, 246] and divergence["expected"] == _footer(chain[4])
    assert divergence["actual"] not in (None, divergence["expected"])
    before = read_state_metadata(Path(divergence["state_before"]))  # the state of block 2, kept
    assert (before.round, before.hash) == (211, _footer(chain[3]))
    assert _backend_runs(run_dir) <= math.ceil(math.log2(3)) + 1
    with sqlite3.connect(tmp_path / "work" / "runs.db") as db:
        steps = db.execute("SELECT step, to_round, block, expected_hash = actual_hash FROM bisect_steps ORDER BY step").fetchall()
    assert steps == [(1, 211, 2, 1), (2, 246, 3, 0)]
    assert not (tmp_path / "out").exists()


def test_no_bisect_stops_at_the_mismatch(replay: ChainReplay, tmp_path: Path) -> None:
    result = replay("--no-bisect", env={DIVERGE_ENV: "230"})
    assert result.returncode == 5, result.stderr
    run_dir = _run_dir(tmp_path)
    assert _backend_runs(run_dir) == 1 and not list(run_dir.rglob("bisect"))
    assert json.loads((run_dir / "result.json").read_text())["first_divergent_block"] is None


def test_a_bootstrap_state_with_the_wrong_hash_is_refused_before_any_backend_starts(
    replay: ChainReplay, chain: list[StreamFile], tmp_path: Path
) -> None:
    wrong = "ab" * 48
    write_state_directory(replay.bootstrap, round_number=176, state_hash=wrong, node_id=0, consensus_time_ns=None)
    ledger = tmp_path / "ledger"
    result = replay(env={LEDGER_ENV: str(ledger)})
    assert result.returncode == 5, result.stderr
    for named in (str(replay.bootstrap), "round 176", "block 2", wrong, _footer(chain[2])):
        assert named in result.stderr
    assert not ledger.exists() and not list((tmp_path / "work").rglob("backend.status"))
    assert not (tmp_path / "work" / "probes.json").exists()  # not even asked for its --help
    skipped = replay("--no-bootstrap-check", "--out", str(tmp_path / "out2"))
    assert skipped.returncode == 0, skipped.stderr
    assert "skipped (--no-bootstrap-check)" in skipped.stdout


# the era rules -----------------------------------------------------------------------------------


def test_the_stream_proves_block_ends_and_says_why_not_elsewhere(chain: list[StreamFile]) -> None:
    proofs = StreamProofs(chain)
    proven = proofs.after_round(211)
    assert (proven.by, proven.block, proven.expected_hash) == ("stream", 3, _footer(chain[3]))
    assert proofs.block_ends(150, 300) == [176, 211, 246, 281]
    inside = proofs.after_round(230)
    assert inside.by == "none" and "inside block 3" in inside.reason
    last = proofs.after_round(315)
    assert last.by == "none" and "block 6" in last.reason and "not in the source" in last.reason
    assert "not in the source" in StreamProofs(chain[:5]).after_round(281).reason  # the next block absent
    assert "no block of the source holds round 400" in proofs.after_round(400).reason


def _block(listed: StreamFile) -> BlockFile:
    assert listed.block is not None
    return listed.block


def _with_footer(listed: StreamFile, **hashes: bytes) -> StreamFile:
    block = _block(listed)
    assert block.footer is not None
    changed = BlockFile.of(
        number=block.number, hapi_version=block.hapi_version, timestamp_ns=block.timestamp_ns, rounds=block.rounds,
        footer=replace(block.footer, **hashes), proofs=block.proofs, proof_blocks=block.proof_blocks, record_file=block.record_file,
        item_count=block.item_count, root_hashes=block.root_hashes,
    )  # fmt: skip
    return replace(listed, block=changed)


def test_footers_of_other_eras_are_never_used(chain: list[StreamFile], samples: Path) -> None:
    following = _block(chain[3])
    assert era_unusable(following, (0, 78), "block 2") is None
    assert "mock values" in (era_unusable(replace(following, hapi_version=(0, 54, 0)), (0, 54), "block 2") or "")
    for change in ((0, 65, 0), (0, 72, 0)):
        crossed = era_unusable(replace(following, hapi_version=change), (change[0], change[1] - 1), "block 2")
        assert crossed is not None and f"changed at {change[0]}.{change[1]}" in crossed
    for marker in (bytes(48), EMPTY_HASH):
        marked = _block(_with_footer(chain[3], start_of_block_state_root_hash=marker))
        assert "a marker, not a hash" in (era_unusable(marked, (0, 78), "block 2") or "")
    assert "software version of the state of round 211 is unknown" in (era_unusable(following, None, "the state of round 211") or "")
    wrapped = _blocks(samples / "blocks/hapi-0.78-WRB_SOLO_4N")
    assert "wraps a record file" in (era_unusable(_block(wrapped[1]), (0, 78), "block 0") or "")
    assert all(StreamProofs(wrapped).after_round(n).by == "none" for n in (1, 100))


def test_a_footer_counts_only_where_the_chain_authenticates_it(chain: list[StreamFile]) -> None:
    unlinked = StreamProofs([*chain[:3], _with_footer(chain[3], previous_block_root_hash=bytes(48)), *chain[4:]])
    assert "block 3 does not chain to block 2" in unlinked.after_round(211).reason
    unconfirmed = StreamProofs([*chain[:4], _with_footer(chain[4], previous_block_root_hash=bytes(48)), chain[5]])
    assert "block 4 does not chain to block 3" in unconfirmed.after_round(211).reason
    # Without the block before, the first block is authenticated by the one after it, for a state of a known version.
    headless = StreamProofs(chain[2:])
    assert headless.after_round(176, state=(0, 78)).expected_hash == _footer(chain[2])
    assert headless.after_round(176).by == "none"
    assert "cannot be authenticated" in StreamProofs([chain[2]]).after_round(176, state=(0, 78)).reason


def test_plan_shows_how_each_segment_will_be_proven(tmp_path: Path) -> None:
    history = write_history(tmp_path / "h", bootstrap_round=110, cutover_round=101, target_round=165, last_block_round=170)
    args = ["plan", "--json", "--simulate", "--mode", "block-stream", "--blocks", history.blocks_dir, "--bootstrap-state",
            history.bootstrap_state, "--target-round", "165", "--segment-rounds", "25", "--node-id", "3", "--out", tmp_path / "o"]  # fmt: skip
    shown = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)
    assert [(s["first_round"], s["last_round"]) for s in plan["segments"]] == [(111, 140), (141, 165)]
    assert [s["proof"]["by"] for s in plan["segments"]] == ["stream", "none"]
    assert "round 165 is inside block 6" in plan["segments"][1]["proof"]["reason"]
    assert plan["bootstrap_proof"]["reason"] == "matches the footer of block 1"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"), bootstrap_round=10, cutover_round=61, target_round=160)


def test_the_simulators_agree_with_the_synthetic_footers(history: History, tmp_path: Path) -> None:
    """Across the cutover, every block-stream segment is proven by the stream; the event
    segments, which no block follows directly, are not."""
    args = ["run", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir, "--bootstrap-state",
            history.bootstrap_state, "--target-round", "160", "--segment-rounds", "25", "--node-id", "3",
            "--work-dir", tmp_path / "work", "--out", tmp_path / "out", "--metrics-textfile", tmp_path / "metrics.prom"]  # fmt: skip
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads((_run_dir(tmp_path) / "result.json").read_text())
    blocks = [s for s in summary["segments"] if s["backend"] == "block-stream"]
    assert len(blocks) == 4 and all(s["verified_by"] == "stream" and s["hash"] == s["expected_hash"] for s in blocks)
    assert read_state_metadata(tmp_path / "out").hash == blocks[-1]["expected_hash"]
    # The summary, the metric, status and the report say how each segment was proven.
    assert "6 segment(s): 4 by the block stream, 2 not proven" in result.stdout
    metrics = (tmp_path / "metrics.prom").read_text()
    assert 'hiero_replay_segments_verified_total{by="stream"} 4.0' in metrics
    assert 'hiero_replay_segments_verified_total{by="none"} 2.0' in metrics
    status = subprocess.run([*CLI, "status", "--json", "--work-dir", str(tmp_path / "work")], capture_output=True, text=True, timeout=60)
    assert json.loads(status.stdout)["runs"][0]["verified_by"] == {"none": 2, "stream": 4}
    report = tmp_path / "report.html"
    shown = subprocess.run(
        [*CLI, "report", "--html", str(report), "--work-dir", str(tmp_path / "work")], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    page = report.read_text()
    assert '<th class="text">proven by</th>' in page and page.count(">stream (block ") == 4
