"""Backend selection, table-driven: bootstrap round vs what each stream covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiero_replay.errors import ConfigError, ContinuityError
from hiero_replay.model.plan import Coverage
from hiero_replay.plan.segments import BackendRange, split_ranges
from hiero_replay.plan.selection import select_streams
from hiero_replay.streams.naming import FileKind

EV, BL = FileKind.EVENTS, FileKind.BLOCK
MODES = {"auto": None, "event-stream": EV, "block-stream": BL}


@pytest.mark.parametrize(
    ("mode", "start", "target", "events", "blocks", "cutover", "expected", "expected_cutover"),
    [
        # auto: blocks cover the start round -> blocks only
        ("auto", 150, 200, Coverage(1, 120), Coverage(101, 300), None, [(BL, 150, 200)], 101),
        ("auto", 101, 200, Coverage(1, 120), Coverage(101, 300), None, [(BL, 101, 200)], 101),
        # auto: start before the block stream -> events up to the cutover, blocks from it
        ("auto", 11, 200, Coverage(1, 120), Coverage(101, 300), None, [(EV, 11, 100), (BL, 101, 200)], 101),
        # auto: target before the cutover -> events only
        ("auto", 11, 90, Coverage(1, 120), Coverage(101, 300), None, [(EV, 11, 90)], 101),
        # auto: configured cutover inside the overlap
        ("auto", 11, 200, Coverage(1, 120), Coverage(101, 300), 115, [(EV, 11, 114), (BL, 115, 200)], 115),
        # auto: no block stream at all
        ("auto", 11, 90, Coverage(1, 120), None, None, [(EV, 11, 90)], None),
        # explicit modes ignore the other stream
        ("event-stream", 11, 110, Coverage(1, 120), Coverage(101, 300), None, [(EV, 11, 110)], None),
        ("block-stream", 120, 300, Coverage(1, 120), Coverage(101, 300), None, [(BL, 120, 300)], None),
    ],
)
def test_selection(
    mode: str,
    start: int,
    target: int,
    events: Coverage | None,
    blocks: Coverage | None,
    cutover: int | None,
    expected: list[tuple[FileKind, int, int]],
    expected_cutover: int | None,
) -> None:
    choice = select_streams(MODES[mode], start, target, events, blocks, cutover)
    assert [(r.kind, r.first, r.last) for r in choice.ranges] == expected
    assert choice.cutover_round == expected_cutover
    assert choice.reason


@pytest.mark.parametrize(
    ("mode", "start", "target", "events", "blocks", "cutover", "uncovered"),
    [
        # events end before the cutover: rounds 121..130 covered by nobody
        ("auto", 11, 200, Coverage(1, 120), Coverage(131, 300), None, "121..130"),
        # target beyond the block stream
        ("auto", 150, 400, Coverage(1, 120), Coverage(101, 300), None, "301..400"),
        # event stream starts after the bootstrap state
        ("event-stream", 5, 50, Coverage(20, 120), None, None, "5..19"),
        # configured cutover before the block stream's first round
        ("auto", 11, 200, Coverage(1, 120), Coverage(101, 300), 90, "90..100"),
        # block mode with no blocks at all
        ("block-stream", 5, 50, Coverage(1, 120), None, None, "5..50"),
    ],
)
def test_uncovered_rounds_are_named(
    mode: str, start: int, target: int, events: Coverage | None, blocks: Coverage | None, cutover: int | None, uncovered: str
) -> None:
    with pytest.raises(ContinuityError) as raised:
        select_streams(MODES[mode], start, target, events, blocks, cutover)
    assert uncovered in str(raised.value)
    assert raised.value.exit_code == 4


def test_target_before_start_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        select_streams(None, 100, 50, Coverage(1, 200), None)


def test_segmentation() -> None:
    ranges = [BackendRange("event-stream", 11, 100), BackendRange("block-stream", 101, 220)]
    assert split_ranges(ranges, 0, {}) == ranges
    pieces = split_ranges(ranges, 50, {})
    assert [(p.backend, p.first, p.last) for p in pieces] == [
        ("event-stream", 11, 60),
        ("event-stream", 61, 100),
        ("block-stream", 101, 150),
        ("block-stream", 151, 200),
        ("block-stream", 201, 220),
    ]


def test_block_segments_end_where_a_block_ends() -> None:
    """--segment-rounds N rounds up to the next block end; the target may end the last one mid-block."""
    ranges = [BackendRange("event-stream", 11, 100), BackendRange("block-stream", 101, 224)]
    ends = {"block-stream": list(range(107, 231, 7))}  # blocks of 7 rounds: 101..107, 108..114, ...
    pieces = split_ranges(ranges, 50, ends)
    assert [(p.backend, p.first, p.last) for p in pieces] == [
        ("event-stream", 11, 60),
        ("event-stream", 61, 100),
        ("block-stream", 101, 156),
        ("block-stream", 157, 212),
        ("block-stream", 213, 224),
    ]
    assert all(p.last in ends["block-stream"] for p in pieces[2:-1])


def test_event_listing_starts_shortly_before_the_bootstrap_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hiero_replay import plan
    from hiero_replay.config import load_settings
    from hiero_replay.plan import inputs
    from hiero_replay.simulate.history import write_history

    # One round a minute for 200 minutes (events 15 s apart: four 5-second files per round).
    history = write_history(tmp_path / "h", bootstrap_round=150, cutover_round=201, target_round=190, last_event_round=200,
                            last_block_round=201, round_interval_ns=60 * 10**9)  # fmt: skip
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir)},
            "replay": {
                "mode": "event-stream",
                "bootstrap_state": str(history.bootstrap_state),
                "target_round": 190,
                "out": str(tmp_path / "o"),
            },
            "work_dir": str(tmp_path / "w"),
            "simulate": True,
        },
    )
    total = len(list(history.events_dir.iterdir()))
    listed = plan.load_plan_inputs(settings).events
    assert listed is not None and len(listed.events) < total
    first = listed.events[0].first_round
    assert first is not None and 89 <= first <= 91  # from an hour before round 150 on
    assert [s.first_round for s in plan.make_plan(plan.load_plan_inputs(settings)).segments] == [151]
    # A listing window that starts too late is noticed, and the whole folder is listed instead.
    monkeypatch.setattr(inputs, "EVENT_LISTING_MARGIN_NS", -600 * 10**9)
    relisted = plan.load_plan_inputs(settings).events
    assert relisted is not None and len(relisted.events) == total


def test_a_block_range_is_found_by_a_search_not_by_reading_every_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hiero_replay import plan
    from hiero_replay.config import load_settings
    from hiero_replay.inventory import listing, reading
    from hiero_replay.model.files import StreamFile
    from hiero_replay.run import run_replay
    from hiero_replay.simulate.history import write_history
    from hiero_replay.sources.base import ReplaySource
    from hiero_replay.states import read_state_metadata
    from hiero_replay.streams.naming import StreamFileName

    # 100 blocks of 2 rounds (rounds 2..201); the replay needs rounds 151..170 only.
    history = write_history(tmp_path / "h", bootstrap_round=150, cutover_round=2, target_round=170, last_event_round=150,
                            last_block_round=201, rounds_per_block=2)  # fmt: skip
    settings = load_settings(
        None,
        {
            "source": {"blocks": str(history.blocks_dir)},
            "replay": {"mode": "block-stream", "bootstrap_state": str(history.bootstrap_state),
                       "expected_state": str(history.expected_state), "out": str(tmp_path / "o"), "node_id": 3},
            "work_dir": str(tmp_path / "w"),
            "simulate": True,
        },
    )  # fmt: skip
    reads: list[str] = []
    original = reading.read_stream_file

    def counting(source: ReplaySource, name: StreamFileName, size: int, signature: reading.Listed | None = None) -> StreamFile:
        reads.append(name.key)
        return original(source, name, size, signature)

    monkeypatch.setattr(reading, "read_stream_file", counting)  # reads of the range
    monkeypatch.setattr(listing, "read_stream_file", counting)  # probes of the search
    blocks = plan.load_plan_inputs(settings).blocks
    assert blocks is not None
    assert [(f.first_round, f.last_round) for f in blocks.blocks][:2] == [(148, 149), (150, 151)]
    # rounds 148..171, and the block after, whose footer proves the state after round 171
    assert blocks.blocks[-1].last_round == 173 and len(blocks.blocks) == 13
    assert len(set(reads)) <= 13 + 4  # the 13 blocks plus a few probes, not 100
    result = run_replay(settings)
    assert result.final_hash == read_state_metadata(history.expected_state).hash


def test_auto_mode_lists_and_reads_event_files_only_up_to_the_cutover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hiero_replay import plan
    from hiero_replay.config import load_settings
    from hiero_replay.inventory import listing
    from hiero_replay.run import run_replay
    from hiero_replay.simulate.history import write_history
    from hiero_replay.states import read_state_metadata

    monkeypatch.setattr(listing, "EVENT_PROBE_INTERVAL", 4)  # files listed between looks at the rounds
    # The node kept writing event files long after the block stream started at round 101.
    history = write_history(tmp_path / "h", bootstrap_round=10, cutover_round=101, target_round=400, last_event_round=600)
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {"mode": "auto", "bootstrap_state": str(history.bootstrap_state), "node_id": 3,
                       "expected_state": str(history.expected_state), "out": str(tmp_path / "o")},
            "work_dir": str(tmp_path / "w"),
            "simulate": True,
        },
    )  # fmt: skip
    inputs = plan.load_plan_inputs(settings)
    assert inputs.events is not None
    last_listed = inputs.events.events[-1].first_round
    assert last_listed is not None and 100 <= last_listed <= 100 + 4 * 20
    assert len(inputs.events.events) < len(list(history.events_dir.glob("*.evts")))
    result = run_replay(settings)
    assert [s.backend for s in result.plan.segments] == ["event-stream", "block-stream"]
    assert result.final_hash == read_state_metadata(history.expected_state).hash
