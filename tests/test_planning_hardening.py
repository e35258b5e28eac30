"""Planning edge cases: where the cutover may be, what an error caused by it says, what a mode
ignores, the default target, and proofs a rehearsal state cannot meet. The CLI in a subprocess,
the simulators as real backend processes, the synthetic history or the real samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hiero_replay.errors import ContinuityError
from hiero_replay.model.plan import Coverage
from hiero_replay.plan.selection import last_reachable_round, select_streams
from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata
from hiero_replay.streams.naming import FileKind

from .cli_helpers import StrPath, cli, replay_args


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Events for rounds 1..121, blocks of 10 rounds for 101..230 (block 1 holds 111..120), states
    saved every 50 rounds from round 10."""
    return write_history(tmp_path_factory.mktemp("history"), saved_every=50)


@pytest.mark.parametrize("cutover", [111, 115, 121])
def test_a_configured_cutover_inside_the_overlap_reaches_the_reference(history: History, tmp_path: Path, cutover: int) -> None:
    """apply-blocks skips a block's rounds before the state's (hiero-tools §1.3): a cutover at a block's
    start (111) or inside one (115) replays the same rounds as the default one, to the same state."""
    out = tmp_path / "out"
    args = replay_args(history, tmp_path, "--expected-state", history.expected_state, "--cutover-round", str(cutover), "--out", out)
    result = cli("run", *args)
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).hash == read_state_metadata(history.expected_state).hash
    summary = json.loads(next((tmp_path / "work/runs").glob("*/result.json")).read_text())
    assert [(s["backend"], s["first_round"], s["last_round"]) for s in summary["segments"]] == [
        ("event-stream", 11, cutover - 1),
        ("block-stream", cutover, 220),
    ]


EVENTS, BLOCKS = Coverage(1, 121), Coverage(101, 230)


@pytest.mark.parametrize(
    ("cutover", "target", "uncovered"),
    [
        (50, 220, "50..100"),  # before the block stream: blocks asked for rounds it does not hold
        (300, 230, "122..230"),  # after the event stream: events asked for rounds it does not hold
        (150, 400, "122..149"),  # the target is out of reach too, but the cutover fails first
    ],
)
def test_an_error_a_configured_cutover_causes_says_to_change_it(cutover: int, target: int, uncovered: str) -> None:
    with pytest.raises(ContinuityError) as raised:
        select_streams(None, 11, target, EVENTS, BLOCKS, cutover)
    assert uncovered in raised.value.message
    assert raised.value.hint is not None and f"Change --cutover-round {cutover}" in raised.value.hint
    assert "a cutover in 101..122 joins them" in raised.value.hint


def test_a_configured_cutover_that_is_not_the_cause_is_not_blamed() -> None:
    """Rounds 231..400 are missing whichever the cutover: the target is to change, not the cutover."""
    for cutover in (None, 115):
        with pytest.raises(ContinuityError) as raised:
            select_streams(None, 11, 400, EVENTS, BLOCKS, cutover)
        assert "231..400" in raised.value.message and "cutover" not in str(raised.value)


def test_a_cutover_with_no_block_stream_says_to_drop_it() -> None:
    with pytest.raises(ContinuityError) as raised:
        select_streams(None, 11, 121, EVENTS, None, 50)
    assert raised.value.hint is not None and "Change --cutover-round 50" in raised.value.hint
    assert "the event stream replays it all" in raised.value.hint


def test_plan_names_the_cutover_that_causes_a_gap(history: History, tmp_path: Path) -> None:
    result = cli("plan", *replay_args(history, tmp_path, "--cutover-round", "50", "--out", tmp_path / "out"))
    assert result.returncode == 4, result.stderr
    assert "Rounds 50..100 are not covered by the block stream" in result.stderr
    assert "Change --cutover-round 50" in result.stderr and "Traceback" not in result.stderr


def test_a_mode_of_one_backend_warns_about_the_settings_it_ignores(history: History, tmp_path: Path) -> None:
    """A cutover and the other stream's source mean nothing to --mode block-stream or event-stream:
    the plan says so (a configuration may set them for auto mode) instead of dropping them silently."""
    args = replay_args(history, tmp_path, "--mode", "block-stream", "--cutover-round", "100", "--out", tmp_path / "out")
    args[args.index("--bootstrap-state") + 1] = history.expected_state  # round 220: blocks cover 221..230
    result = cli("plan", "--json", *args)
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any("--cutover-round 100 (replay.cutover_round) is ignored: mode block-stream" in w for w in warnings), warnings
    assert any(f"--events {history.events_dir} (source.events) is ignored" in w for w in warnings), warnings

    result = cli("plan", *replay_args(history, tmp_path, "--mode", "event-stream", "--target-round", "50", "--out", tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert f"warning: --blocks {history.blocks_dir} (source.blocks) is ignored: mode event-stream" in result.stdout

    result = cli("plan", "--json", *replay_args(history, tmp_path, "--cutover-round", "111", "--out", tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert not [w for w in json.loads(result.stdout)["warnings"] if "ignored" in w]


@pytest.mark.parametrize(
    ("mode", "events", "blocks", "cutover", "expected"),
    [
        # auto: events past the block stream's end are after the cutover: never replayed
        (None, Coverage(1, 1579), Coverage(1, 315), None, 315),
        (None, Coverage(1, 300), Coverage(101, 230), None, 230),
        (None, Coverage(1, 300), Coverage(101, 230), 150, 230),
        # auto: a cutover past the block stream leaves the events, up to the round before it
        (None, Coverage(1, 300), Coverage(101, 230), 260, 259),
        (None, Coverage(1, 121), None, None, 121),
        (None, None, Coverage(101, 230), None, 230),
        (None, None, None, None, None),
        # one backend: its stream's last round
        (FileKind.EVENTS, Coverage(1, 300), Coverage(101, 230), None, 300),
        (FileKind.BLOCK, Coverage(1, 300), Coverage(101, 230), None, 230),
    ],
)
def test_the_default_target_is_the_last_round_the_plan_reaches(
    mode: FileKind | None, events: Coverage | None, blocks: Coverage | None, cutover: int | None, expected: int | None
) -> None:
    assert last_reachable_round(mode, events, blocks, cutover) == expected


def test_auto_mode_without_a_target_stops_where_the_block_stream_ends(tmp_path: Path) -> None:
    """Event files to round 300, blocks to 230: the default target is 230, not a gap of 231..300."""
    longer = write_history(tmp_path / "h", last_event_round=300)
    out = tmp_path / "out"
    result = cli("run", *replay_args(longer, tmp_path, "--out", out))
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 230


def test_auto_mode_on_the_samples_replays_to_the_end_of_the_block_stream(samples: Path, tmp_path: Path) -> None:
    state = tmp_path / "states" / "0"
    assert cli("state", "init", "0", "--hash", "0" * 96, state).returncode == 0
    out = tmp_path / "out"
    args: list[StrPath] = [
        "--events",
        samples / "events/v5-2021-consecutive",
        "--blocks",
        samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR",
    ]
    result = cli("run", "--simulate", *args, "--bootstrap-state", state, "--work-dir", tmp_path / "work", "--out", out)
    assert result.returncode == 0, result.stderr
    assert read_state_metadata(out).round == 315


REHEARSAL_WARNING = "is a rehearsal state (hiero-replay state init: its HASH given by hand) that the block stream does not confirm"


def test_a_rehearsal_state_the_stream_does_not_confirm_is_not_held_to_the_footers(history: History, tmp_path: Path) -> None:
    """A state init state with a made-up HASH: segments the footers could check would all be
    disproved (exit 5); the plan says up front that they are not checked, and the rehearsal runs."""
    state = tmp_path / "states" / "10"
    assert cli("state", "init", "10", "--hash", "0" * 96, state).returncode == 0
    args = replay_args(history, tmp_path, "--segment-rounds", "50", "--out", tmp_path / "out")
    args[args.index("--bootstrap-state") + 1] = state
    plan = cli("plan", *args)
    assert plan.returncode == 0, plan.stderr
    assert REHEARSAL_WARNING in plan.stdout and "proven by stream" not in plan.stdout
    assert "not checked against the stream: the bootstrap state is a rehearsal state" in plan.stdout
    result = cli("run", *args)
    assert result.returncode == 0, result.stderr
    assert REHEARSAL_WARNING in result.stdout and read_state_metadata(tmp_path / "out").round == 230


def test_a_rehearsal_state_the_stream_confirms_is_held_to_the_footers(history: History, tmp_path: Path) -> None:
    """Round 110 ends block 0: block 1's footer confirms a HASH given right, and the proofs stay."""
    [saved] = [path for path in history.saved_states if path.name == "110"]
    state = tmp_path / "states" / "110"
    assert cli("state", "init", "110", "--hash", read_state_metadata(saved).hash, state).returncode == 0
    args = replay_args(history, tmp_path, "--segment-rounds", "50", "--out", tmp_path / "out")
    args[args.index("--bootstrap-state") + 1] = state
    result = cli("run", *args)
    assert result.returncode == 0, result.stderr
    assert "matches the footer of block 1" in result.stdout and REHEARSAL_WARNING not in result.stdout
    assert "by the block stream" in result.stdout


def test_the_samples_rehearsal_from_a_state_init_state_runs_with_a_warning(samples: Path, tmp_path: Path) -> None:
    state = tmp_path / "states" / "0"
    assert cli("state", "init", "0", "--hash", "0" * 96, state).returncode == 0
    out = tmp_path / "out"
    blocks = samples / "blocks/hapi-0.78-CN_11_12_TSS_SCHNORR"
    args: list[StrPath] = [
        "--simulate",
        "--blocks",
        blocks,
        "--bootstrap-state",
        state,
        "--segment-rounds",
        "100",
        "--work-dir",
        tmp_path / "work",
    ]
    result = cli("run", *args, "--out", out)
    assert result.returncode == 0, result.stderr
    assert REHEARSAL_WARNING in result.stdout and read_state_metadata(out).round == 315
