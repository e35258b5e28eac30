"""The replay plan: which backend applies which rounds from which files, in which order.

``select_backends`` is the pure decision (mode, cutover, coverage); ``make_plan`` gathers what it
needs (bootstrap and expected states, both stream sources), verifies the chosen input before any
backend could start, and lays out segments with their exact files, states and argument vectors.
"""

from __future__ import annotations

import bisect
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .backends import BackendName, Invocation, ReplayBackend
from .backends.factory import create_backends
from .config import Settings
from .errors import ConfigError, ContinuityError, NothingToReplay
from .pacing import Rate, Workload, cost_seconds
from .inventory import StreamFile, StreamFiles, load_stream_files, open_stream_source, read_workers, verify_stream_files
from .sources import ReplaySource, is_bucket_url, open_source
from .sources.factory import cache_root
from .sources.folders import download_folder
from .observe.logging import get_logger
from .states import METADATA_FILE, StateMetadata, read_state_metadata
from .streams.naming import FileKind, event_file_name
from .streams.timestamps import parse_consensus_time


@dataclass(frozen=True)
class Coverage:
    """The rounds a stream holds, first to last complete (gaps inside are the inventory's job)."""

    first: int
    last: int

    def holds(self, round_number: int) -> bool:
        return self.first <= round_number <= self.last


def coverage_of(files: Sequence[StreamFile]) -> Coverage | None:
    firsts = [f.first_round for f in files if f.first_round is not None]
    lasts = [f.last_complete_round for f in files if f.last_complete_round is not None]
    if not firsts or not lasts or max(lasts) < min(firsts):
        return None
    return Coverage(min(firsts), max(lasts))


@dataclass(frozen=True)
class BackendRange:
    backend: BackendName
    first: int
    last: int


@dataclass(frozen=True)
class BackendChoice:
    ranges: tuple[BackendRange, ...]
    cutover_round: int | None
    reason: str


def _cutover(cutover_override: int | None, blocks: Coverage | None) -> int | None:
    """The configured cutover, else the block stream's first round."""
    return cutover_override if cutover_override is not None else (blocks.first if blocks else None)


def _require(stream: str, covered: Coverage | None, first: int, last: int) -> None:
    if covered is None:
        raise ContinuityError(
            f"Rounds {first}..{last} must come from the {stream} stream, but no {stream} files with rounds were found.",
            hint=f"Set source.{'events' if stream == 'event' else 'blocks'} to a folder holding them.",
        )
    missing = []
    if first < covered.first:
        missing.append(f"{first}..{min(last, covered.first - 1)}")
    if last > covered.last:
        missing.append(f"{max(first, covered.last + 1)}..{last}")
    if missing:
        raise ContinuityError(
            f"Rounds {' and '.join(missing)} are not covered by the {stream} stream, which holds rounds {covered.first}..{covered.last}.",
            hint="Add the missing stream files, or change the bootstrap state or the target round.",
        )


def select_backends(
    mode: str,
    start: int,
    target: int,
    events: Coverage | None,
    blocks: Coverage | None,
    cutover_override: int | None = None,
) -> BackendChoice:
    """Pick the backend for every round in ``start..target``.

    auto: blocks when the block stream covers the start round; otherwise events up to the cutover
    and blocks from it. The cutover is the block stream's first round unless configured.
    """
    if target < start:
        raise NothingToReplay(f"The target round {target} is not after the bootstrap state (the replay would start at round {start}).")
    if mode == "event-stream":
        _require("event", events, start, target)
        return BackendChoice((BackendRange("event-stream", start, target),), None, "mode event-stream")
    if mode == "block-stream":
        _require("block", blocks, start, target)
        return BackendChoice((BackendRange("block-stream", start, target),), None, "mode block-stream")
    cutover = _cutover(cutover_override, blocks)
    if cutover is None:
        _require("event", events, start, target)
        return BackendChoice((BackendRange("event-stream", start, target),), None, "auto: no block stream, events only")
    origin = "configured cutover_round" if cutover_override is not None else "first round of the block stream"
    if start >= cutover:
        _require("block", blocks, start, target)
        reason = f"auto: the start round {start} is at or after the cutover {cutover} ({origin}): blocks only"
        return BackendChoice((BackendRange("block-stream", start, target),), cutover, reason)
    if target < cutover:
        _require("event", events, start, target)
        reason = f"auto: the target round {target} is before the cutover {cutover} ({origin}): events only"
        return BackendChoice((BackendRange("event-stream", start, target),), cutover, reason)
    _require("event", events, start, cutover - 1)
    _require("block", blocks, cutover, target)
    reason = f"auto: events for rounds {start}..{cutover - 1}, blocks from the cutover {cutover} ({origin})"
    return BackendChoice(
        (BackendRange("event-stream", start, cutover - 1), BackendRange("block-stream", cutover, target)), cutover, reason
    )


def split_ranges(ranges: Sequence[BackendRange], segment_rounds: int) -> list[BackendRange]:
    """Cut each backend range into segments of ``segment_rounds`` (0 = one segment per backend)."""
    if segment_rounds <= 0:
        return list(ranges)
    pieces = []
    for whole in ranges:
        for first in range(whole.first, whole.last + 1, segment_rounds):
            pieces.append(BackendRange(whole.backend, first, min(first + segment_rounds - 1, whole.last)))
    return pieces


def pace_ranges(
    ranges: Sequence[BackendRange], rate: Rate, max_seconds: float, workload: Callable[[BackendRange], Workload]
) -> list[BackendRange]:
    """Cut segments so that none takes longer than ``max_seconds`` at ``rate``.

    apply-blocks paces rounds itself (``--rate``), so with a rate in rounds/s its segments stay
    whole; everything else is only paced between segments, and must be cut to hold the pace.
    """
    if rate.is_unlimited:
        return list(ranges)
    pieces: list[BackendRange] = []
    for whole in ranges:
        if whole.backend == "block-stream" and rate.unit == "rounds":
            pieces.append(whole)
            continue
        first = whole.first
        while first <= whole.last:
            low, high = first, whole.last  # the longest piece first..last within max_seconds
            while low < high:
                middle = (low + high + 1) // 2
                if cost_seconds(rate, workload(BackendRange(whole.backend, first, middle))) <= max_seconds:
                    low = middle
                else:
                    high = middle - 1
            pieces.append(BackendRange(whole.backend, first, low))
            first = low + 1
    return pieces


class Timeline:
    """Consensus time by round, interpolated between what the files state (first and last event
    of an event file, the first round of a block)."""

    def __init__(self, files: Sequence[StreamFile]) -> None:
        points: dict[int, int] = {}
        for f in files:
            if f.first_round is not None and f.first_time_ns is not None:
                points.setdefault(f.first_round, f.first_time_ns)
            if f.events is not None:
                points[f.events.last_round] = f.events.last_time_ns
        self._rounds = sorted(points)
        self._times = [points[r] for r in self._rounds]

    def time_ns(self, round_number: int) -> int | None:
        rounds, times = self._rounds, self._times
        if len(rounds) < 2:
            return times[0] if rounds else None
        index = min(max(bisect.bisect_left(rounds, round_number), 1), len(rounds) - 1)
        r0, r1, t0, t1 = rounds[index - 1], rounds[index], times[index - 1], times[index]
        return t0 + (t1 - t0) * (round_number - r0) // (r1 - r0)

    def last_round_within(self, first: int, last: int, seconds: float) -> int:
        """The last round up to ``last`` that reached consensus at most ``seconds`` after round ``first - 1``."""
        start = self.time_ns(first - 1)
        if start is None:
            return last
        limit = start + int(seconds * 1e9)
        low, high = first - 1, last
        while low < high:
            middle = (low + high + 1) // 2
            if (self.time_ns(middle) or 0) <= limit:
                low = middle
            else:
                high = middle - 1
        return low

    def span_seconds(self, first: int, last: int) -> float | None:
        """Consensus time from the end of round ``first - 1`` to the end of round ``last``."""
        start, end = self.time_ns(first - 1), self.time_ns(last)
        return None if start is None or end is None else max(0, end - start) / 1e9


@dataclass(frozen=True)
class Segment:
    index: int
    backend: BackendName
    first_round: int
    last_round: int
    source: str
    files: tuple[str, ...]
    #: What the backend is given; its ``out_dir`` is renamed to ``final_dir`` only once verified.
    invocation: Invocation
    final_dir: Path
    #: The state this segment must produce, when known (the final segment's expected hash).
    expected_hash: str | None
    argv: tuple[str, ...]
    #: Rounds, files and estimated consensus time: what the pacer charges for this segment.
    workload: Workload

    @property
    def rounds(self) -> int:
        return self.last_round - self.first_round + 1

    @property
    def state_dir(self) -> Path:
        return self.invocation.state_dir

    @property
    def input_dir(self) -> Path:
        return self.invocation.input_dir

    @property
    def out_dir(self) -> Path:
        return self.invocation.out_dir


@dataclass(frozen=True)
class ReplayPlan:
    run_id: str
    run_dir: Path
    mode: str
    reason: str
    bootstrap_state: Path
    bootstrap_round: int
    bootstrap_hash: str
    start_round: int
    target_round: int
    cutover_round: int | None
    expected_hash: str | None
    out: Path
    rate: str
    sources: dict[str, str]
    segments: tuple[Segment, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ReplayPlan":
        """The plan a run recorded (for ``run --resume``)."""
        segments = []
        for segment in data["segments"]:
            invocation = dict(segment["invocation"])
            for key in ("state_dir", "input_dir", "out_dir"):
                invocation[key] = Path(invocation[key])
            segments.append(
                Segment(
                    **{
                        **segment,
                        "files": tuple(segment["files"]),
                        "invocation": Invocation(**invocation),
                        "final_dir": Path(segment["final_dir"]),
                        "argv": tuple(segment["argv"]),
                        "workload": Workload(**segment["workload"]),
                    }
                )
            )
        paths = {key: Path(data[key]) for key in ("run_dir", "bootstrap_state", "out")}
        return cls(**{**data, **paths, "segments": tuple(segments)})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def _files_for(files: Sequence[StreamFile], first: int, last: int) -> tuple[str, ...]:
    return tuple(
        f.key
        for f in files
        if f.first_round is not None and f.last_round is not None and f.first_round <= last and f.last_round >= first
    )


@dataclass
class PlanInputs:
    """What the plan is made from; loaded once and reused by ``run``."""

    settings: Settings
    events: StreamFiles | None
    blocks: StreamFiles | None
    backends: dict[str, ReplayBackend]
    #: Open sources by their URL (``StreamFiles.source``), to fetch the planned files from.
    sources: dict[str, ReplaySource]
    #: The bootstrap state as a local folder, and what its stateMetadata.txt says.
    bootstrap_dir: Path
    bootstrap: StateMetadata
    #: From the configuration, or from the expected state's ROUND and HASH.
    target_round: int | None
    expected_hash: str | None


def load_plan_inputs(settings: Settings) -> PlanInputs:
    replay, source = settings.replay, settings.source
    if replay.bootstrap_state is None:
        raise ConfigError("replay.bootstrap_state is required (--bootstrap-state).", hint="Point at a saved round directory.")
    if replay.out is None:
        raise ConfigError("replay.out is required (--out): the directory the final state is written to.")
    if replay.out.exists():
        raise ConfigError(f"The output {replay.out} already exists; hiero-replay never overwrites a state.", hint="Choose a new --out.")
    if replay.mode == "event-stream" and not source.events:
        raise ConfigError("mode event-stream needs source.events (--events).")
    if replay.mode == "block-stream" and not source.blocks:
        raise ConfigError("mode block-stream needs source.blocks (--blocks).")
    if not source.events and not source.blocks:
        raise ConfigError("No stream source: set source.events (--events) and/or source.blocks (--blocks).")
    loaded: dict[str, StreamFiles] = {}
    sources: dict[str, ReplaySource] = {}

    bootstrap_dir = resolve_state(replay.bootstrap_state, settings)
    bootstrap = read_state_metadata(bootstrap_dir, role="bootstrap")
    target, expected_hash = replay.target_round, replay.expected_hash
    if replay.expected_state is not None:
        reference = read_state_metadata(newest_state_dir(resolve_state(replay.expected_state, settings)), role="expected")
        target, expected_hash = reference.round, reference.hash

    def load(location: str | None, start_after: str | None = None, last_round: int | None = target) -> StreamFiles | None:
        if not location:
            return None
        if location not in loaded:
            if location not in sources:
                sources[location] = open_stream_source(location, settings)
            opened = sources[location]
            # A folder of one kind only needs the files holding the replay's rounds (a block folder
            # starts with the cutover when the replay starts before it).
            rounds = (bootstrap.round + 1, last_round) if source.events != source.blocks else None
            loaded[location] = load_stream_files(opened, workers=read_workers(opened, settings), start_after=start_after, rounds=rounds)
        return loaded[location]

    blocks = load(source.blocks) if replay.mode != "event-stream" else None
    events = None
    if replay.mode != "block-stream" and source.events:
        # An event folder of its own is listed from a little before the bootstrap state on, and up
        # to the last round events replay: a replay from yesterday does not list (or read) months of
        # older files, nor, across the cutover, the event files after it.
        start_key = _event_listing_start(bootstrap) if source.events != source.blocks else None
        last_round = _last_event_round(replay.mode, target, replay.cutover_round, blocks)
        events = load(source.events, start_key, last_round)
        covered = coverage_of(events.events) if events is not None else None
        if start_key is not None and (covered is None or covered.first > bootstrap.round + 1):
            get_logger().info("event listing window started too late; listing the whole folder", start_after=start_key)
            del loaded[source.events]
            events = load(source.events, None, last_round)
    return PlanInputs(
        settings, events, blocks, create_backends(settings), {s.url: s for s in sources.values()},
        bootstrap_dir, bootstrap, target, expected_hash,
    )  # fmt: skip


def _last_event_round(mode: str, target: int | None, cutover_override: int | None, blocks: StreamFiles | None) -> int | None:
    """The last round event files may be needed for: the target, or in auto mode the round before
    the cutover (as ``select_backends`` will place it) when that comes first."""
    cutover = _cutover(cutover_override, coverage_of(blocks.blocks) if blocks is not None else None)
    if mode != "auto" or cutover is None:
        return target
    return cutover - 1 if target is None else min(target, cutover - 1)


#: How far before the bootstrap state's consensus time the event listing starts (files span a window).
EVENT_LISTING_MARGIN_NS = 3600 * 10**9


def _event_listing_start(bootstrap: StateMetadata) -> str | None:
    """The key event files are listed after: a file name an hour older than the bootstrap state."""
    try:
        moment = parse_consensus_time(bootstrap.consensus_timestamp or "")
    except ValueError:
        return None
    return event_file_name(moment - EVENT_LISTING_MARGIN_NS).removesuffix(".evts")


def newest_state_dir(path: Path) -> Path:
    """A round directory as given, or from a folder of round directories the newest one
    ("the snapshot of now" of a scheduled differential test)."""
    if (path / METADATA_FILE).exists() or not path.is_dir():
        return path
    rounds = [child for child in path.iterdir() if child.name.isdigit() and (child / METADATA_FILE).is_file()]
    return max(rounds, key=lambda child: int(child.name)) if rounds else path


def resolve_state(location: str, settings: Settings) -> Path:
    """A saved round directory as a local folder: bucket URLs are downloaded once into the cache."""
    if not is_bucket_url(location):
        return Path(location)
    source = open_source(location, settings.buckets, work_dir=settings.work_dir)
    return download_folder(source, cache_root(settings.buckets, settings.work_dir) / "states")  # type: ignore[arg-type]


def make_plan(inputs: PlanInputs, run_id: str | None = None) -> ReplayPlan:
    """Decide, verify and lay out the replay; raises the typed error of the first problem found."""
    settings = inputs.settings
    replay = settings.replay
    assert replay.out is not None
    bootstrap_dir, bootstrap = inputs.bootstrap_dir, inputs.bootstrap
    target, expected_hash = inputs.target_round, inputs.expected_hash
    events_files = inputs.events.events if inputs.events else []
    blocks_files = inputs.blocks.blocks if inputs.blocks else []
    events, blocks = coverage_of(events_files), coverage_of(blocks_files)
    start = bootstrap.round + 1
    if target is None:
        newest = [c.last for c in (events, blocks) if c is not None]
        if not newest:
            raise ContinuityError("The stream sources hold no complete rounds to replay.")
        target = max(newest)
        if replay.window is not None:
            target = Timeline([*events_files, *blocks_files]).last_round_within(start, target, replay.window.total_seconds())
    choice = select_backends(replay.mode, start, target, events, blocks, replay.cutover_round)

    for backend_range in choice.ranges:
        stream = inputs.events if backend_range.backend == "event-stream" else inputs.blocks
        kind = FileKind.EVENTS if backend_range.backend == "event-stream" else FileKind.BLOCK
        assert stream is not None
        verify_stream_files(stream, from_round=backend_range.first, to_round=backend_range.last, kinds=(kind,)).raise_for_problems()

    run_id = run_id or new_run_id()
    run_dir = settings.work_dir / "runs" / run_id
    stream_files = {"event-stream": events_files, "block-stream": blocks_files}
    timelines = {backend: Timeline(files) for backend, files in stream_files.items()}

    def workload(piece: BackendRange) -> Workload:
        files = _files_for(stream_files[piece.backend], piece.first, piece.last)
        return Workload(piece.last - piece.first + 1, len(files), timelines[piece.backend].span_seconds(piece.first, piece.last))

    rate = settings.pace.rate
    pieces = pace_ranges(split_ranges(choice.ranges, replay.segment_rounds), rate, settings.pace.max_segment_seconds, workload)
    segments: list[Segment] = []
    state_dir = bootstrap_dir
    for index, piece in enumerate(pieces, start=1):
        last = index == len(pieces)
        folder = run_dir / "segments" / f"{index:03d}-{piece.backend}"
        final_dir = replay.out if last else folder / "state"
        out_dir = replay.out.parent / f".{replay.out.name}.partial-{run_id}" if last else folder / "state.partial"
        backend = inputs.backends[piece.backend]
        stream = inputs.events if piece.backend == "event-stream" else inputs.blocks
        assert stream is not None
        files = _files_for(stream_files[piece.backend], piece.first, piece.last)
        work = workload(piece)
        invocation = Invocation(
            state_dir=state_dir,
            input_dir=folder / "input",
            node_id=replay.node_id,
            target_round=piece.last,
            out_dir=out_dir,
            expected_hash=expected_hash if last and backend.checks_expected_hash else None,
            rounds_per_second=rate.apply_blocks_rate(work) if piece.backend == "block-stream" else None,
        )
        segments.append(
            Segment(
                index=index,
                backend=piece.backend,
                first_round=piece.first,
                last_round=piece.last,
                source=stream.source,
                files=files,
                invocation=invocation,
                final_dir=final_dir,
                expected_hash=expected_hash if last else None,
                argv=tuple(backend.argv(invocation)),
                workload=work,
            )
        )
        state_dir = final_dir
    return ReplayPlan(
        run_id=run_id,
        run_dir=run_dir,
        mode=replay.mode,
        reason=choice.reason,
        bootstrap_state=bootstrap_dir,
        bootstrap_round=bootstrap.round,
        bootstrap_hash=bootstrap.hash,
        start_round=start,
        target_round=target,
        cutover_round=choice.cutover_round,
        expected_hash=expected_hash,
        out=replay.out,
        rate=str(settings.pace.rate),
        sources={"events": settings.source.events or "", "blocks": settings.source.blocks or ""},
        segments=tuple(segments),
    )
