"""What a plan is made from, loaded once: the states as local folders (bucket states downloaded
here, before planning), and the stream files of both sources, listed and read for the replay's rounds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..backends import registry
from ..backends.base import ReplayBackend
from ..backends.probe import probe
from ..config import Settings
from ..errors import ConfigError, MissingInputError
from ..inventory import load_stream_files, open_stream_source, read_workers
from ..logs import get_logger
from ..model.files import StreamFile, StreamFiles
from ..sources.base import ReplaySource
from ..sources.folders import download_folder
from ..sources.registry import cache_root, open_source
from ..states import StateMetadata, read_newest_state, read_state_metadata, state_folder
from ..streams.naming import FileKind, event_file_name
from ..streams.timestamps import parse_consensus_time
from .selection import coverage_of, last_event_round

#: How far before the bootstrap state's consensus time the event listing starts (files span a window).
EVENT_LISTING_MARGIN_NS = 3600 * 10**9


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

    def stream(self, kind: FileKind) -> StreamFiles | None:
        return self.events if kind is FileKind.EVENTS else self.blocks

    def files(self, kind: FileKind) -> list[StreamFile]:
        """The loaded files of one stream kind (none when that source is not used)."""
        stream = self.stream(kind)
        return stream.of_kind(kind) if stream is not None else []


_NOUN = {FileKind.EVENTS: ("event", "--events"), FileKind.BLOCK: ("block", "--blocks")}


def stream_locations(settings: Settings) -> dict[FileKind, str | None]:
    return {FileKind.EVENTS: settings.source.events, FileKind.BLOCK: settings.source.blocks}


def _check_settings(settings: Settings, backends: dict[str, ReplayBackend]) -> None:
    replay = settings.replay
    if replay.bootstrap_state is None:
        raise ConfigError("replay.bootstrap_state is required (--bootstrap-state).", hint="Point at a saved round directory.")
    if replay.out is None:
        raise ConfigError("replay.out is required (--out): the directory the final state is written to.")
    try:
        taken = os.path.lexists(replay.out)
    except OSError as error:  # pragma: no cover - lexists reports False for most errors
        raise ConfigError(f"--out {replay.out} cannot be used: {error.strerror}.") from error
    if taken:
        what = "is a symbolic link" if replay.out.is_symlink() else "already exists"
        raise ConfigError(f"The output {replay.out} {what}; hiero-replay never overwrites a state.", hint="Choose a new --out.")
    try:
        longest = os.pathconf(replay.out.parent if replay.out.parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        longest = 255
    if len(os.fsencode(replay.out.name)) > longest:
        raise ConfigError(
            f"--out {replay.out}: its name is longer than this file system allows ({longest} bytes).", hint="Choose a shorter --out."
        )
    locations = stream_locations(settings)
    if replay.mode != registry.AUTO:
        kind = backends[replay.mode].stream_kind
        if not locations[kind]:
            flag = "--events" if kind is FileKind.EVENTS else "--blocks"
            raise ConfigError(f"mode {replay.mode} needs source.{'events' if kind is FileKind.EVENTS else 'blocks'} ({flag}).")
    if not any(locations.values()):
        raise ConfigError("No stream source: set source.events (--events) and/or source.blocks (--blocks).")


def unused_by_mode(settings: Settings, backends: dict[str, ReplayBackend]) -> list[str]:
    """What a mode of one backend leaves unused of the settings, in words: warnings, not errors (one
    configuration may serve several modes, and --mode overrides it)."""
    replay = settings.replay
    if replay.mode == registry.AUTO:
        return []
    kind = backends[replay.mode].stream_kind
    only = f"mode {replay.mode} replays the {_NOUN[kind][0]} stream only"
    unused = []
    if replay.cutover_round is not None:
        unused.append(f"--cutover-round {replay.cutover_round} (replay.cutover_round) is ignored: {only} (the cutover is mode auto's)")
    locations = stream_locations(settings)
    other = FileKind.BLOCK if kind is FileKind.EVENTS else FileKind.EVENTS
    if locations[other] and locations[other] != locations[kind]:
        noun, flag = _NOUN[other]
        unused.append(f"{flag} {locations[other]} (source.{noun}s) is ignored: {only}")
    return unused


def probe_backends(settings: Settings, backends: dict[str, ReplayBackend], kinds: set[FileKind]) -> dict[str, list[str]]:
    """Probe the backends of the stream kinds a replay may use and adapt them to what the installed
    tools support; returns, by backend, what that changes, in words."""
    return {name: backend.adapt(probe(backend, settings.work_dir)) for name, backend in backends.items() if backend.stream_kind in kinds}


def require_stream_files(files: StreamFiles, kind: FileKind) -> None:
    """A source given for a stream must hold files of it: a folder of the other kind, or of none,
    is named for what it is rather than found to lack rounds later."""
    if files.found.get(kind):
        return
    noun, flag = _NOUN[kind]
    other = FileKind.BLOCK if kind is FileKind.EVENTS else FileKind.EVENTS
    if files.found.get(other):
        raise ConfigError(
            f"{flag} {files.source} holds {_NOUN[other][0]} stream files, not {noun} stream files.",
            hint=f"Pass it as {_NOUN[other][1]}, and the folder of {noun} files as {flag}.",
        )
    reasons: dict[str, int] = {}
    for entry in files.ignored:
        reasons[entry.reason] = reasons.get(entry.reason, 0) + 1
    held = "; ".join(f"{count} {reason}" for reason, count in reasons.items()) or "nothing"
    raise MissingInputError(
        f"{flag} {files.source} holds no {noun} stream files (it holds: {held}).",
        hint=f"Point {flag} at one node's {noun} stream folder (`hiero-replay inspect` lists what a folder holds).",
        file=files.source,
    )


def load_plan_inputs(settings: Settings) -> PlanInputs:
    backends = registry.create_backends(settings.backends.of, simulate=settings.simulate)
    _check_settings(settings, backends)
    replay, source = settings.replay, settings.source
    assert replay.bootstrap_state is not None
    only = None if replay.mode == registry.AUTO else backends[replay.mode].stream_kind
    loaded: dict[str, StreamFiles] = {}
    sources: dict[str, ReplaySource] = {}

    bootstrap_dir = resolve_state(replay.bootstrap_state, settings).absolute()
    bootstrap = read_state_metadata(bootstrap_dir, role="bootstrap")
    target, expected_hash = replay.target_round, replay.expected_hash
    if replay.expected_state is not None:
        reference = read_newest_state(resolve_state(replay.expected_state, settings), role="expected")
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

    blocks = load(source.blocks) if only in (None, FileKind.BLOCK) else None
    if blocks is not None:
        require_stream_files(blocks, FileKind.BLOCK)
    events = None
    if only in (None, FileKind.EVENTS) and source.events:
        # An event folder of its own is listed from a little before the bootstrap state on, and up
        # to the last round events replay: a replay from yesterday does not list (or read) months of
        # older files, nor, across the cutover, the event files after it.
        start_key = _event_listing_start(bootstrap) if source.events != source.blocks else None
        block_coverage = coverage_of(blocks.blocks) if blocks is not None else None
        last_round = last_event_round(only is None, target, replay.cutover_round, block_coverage)
        events = load(source.events, start_key, last_round)
        covered = coverage_of(events.events) if events is not None else None
        if start_key is not None and (covered is None or covered.first > bootstrap.round + 1):
            get_logger().info("event listing window started too late; listing the whole folder", start_after=start_key)
            del loaded[source.events]
            events = load(source.events, None, last_round)
        if events is not None:
            require_stream_files(events, FileKind.EVENTS)
    return PlanInputs(
        settings, events, blocks, backends, {s.url: s for s in sources.values()}, bootstrap_dir, bootstrap, target, expected_hash
    )


def _event_listing_start(bootstrap: StateMetadata) -> str | None:
    """The key event files are listed after: a file name an hour older than the bootstrap state."""
    try:
        moment = parse_consensus_time(bootstrap.consensus_timestamp or "")
    except ValueError:
        return None
    return event_file_name(moment - EVENT_LISTING_MARGIN_NS).removesuffix(".evts")


def resolve_state(location: str, settings: Settings) -> Path:
    """A saved round directory as a local folder: bucket URLs are downloaded once into the cache."""
    source = open_source(location, settings.buckets, work_dir=settings.work_dir)
    if source.features.local:
        return state_folder(Path(location))
    return download_folder(source, cache_root(settings.buckets, settings.work_dir) / "states")
