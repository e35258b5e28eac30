"""The backend selection rule: which stream replays which rounds, and where the cutover is.

Pure: it sees only the rounds each stream covers, so it is tested without any file.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ContinuityError, NothingToReplay
from ..model.files import StreamFile
from ..model.plan import Coverage, StreamChoice, StreamRange
from ..streams.naming import FileKind

_NOUN = {FileKind.EVENTS: "event", FileKind.BLOCK: "block"}
_SOURCE_KEY = {FileKind.EVENTS: "source.events", FileKind.BLOCK: "source.blocks"}


def coverage_of(files: Sequence[StreamFile]) -> Coverage | None:
    firsts = [f.first_round for f in files if f.first_round is not None]
    lasts = [f.last_complete_round for f in files if f.last_complete_round is not None]
    if not firsts or not lasts or max(lasts) < min(firsts):
        return None
    return Coverage(min(firsts), max(lasts))


def cutover(cutover_override: int | None, blocks: Coverage | None) -> int | None:
    """The configured cutover, else the block stream's first round."""
    return cutover_override if cutover_override is not None else (blocks.first if blocks else None)


def last_event_round(auto: bool, target: int | None, cutover_override: int | None, blocks: Coverage | None) -> int | None:
    """The last round event files may be needed for: the target, or in auto mode the round before
    the cutover (as ``select_streams`` will place it) when that comes first."""
    first_block_round = cutover(cutover_override, blocks)
    if not auto or first_block_round is None:
        return target
    return first_block_round - 1 if target is None else min(target, first_block_round - 1)


def last_reachable_round(
    only: FileKind | None, events: Coverage | None, blocks: Coverage | None, cutover_override: int | None
) -> int | None:
    """The default target: the newest round the replay can reach. In auto mode that is the block
    stream's last once the cutover lies in it, since event files after the cutover are never replayed."""
    if only is not None:
        covered = events if only is FileKind.EVENTS else blocks
        return covered.last if covered is not None else None
    if blocks is not None and (cutover_override is None or cutover_override <= blocks.last):
        return blocks.last
    if events is not None:
        return events.last if cutover_override is None else min(events.last, cutover_override - 1)
    return blocks.last if blocks is not None else None


def _require(kind: FileKind, covered: Coverage | None, first: int, last: int) -> StreamRange:
    stream = _NOUN[kind]
    if covered is None:
        raise ContinuityError(
            f"Rounds {first}..{last} must come from the {stream} stream, but no {stream} files with rounds were found.",
            hint=f"Set {_SOURCE_KEY[kind]} to a folder holding them.",
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
    return StreamRange(kind, first, last)


def select_streams(
    only: FileKind | None,
    start: int,
    target: int,
    events: Coverage | None,
    blocks: Coverage | None,
    cutover_override: int | None = None,
) -> StreamChoice:
    """The stream for every round in ``start..target``: ``only`` one kind, or (``None``, auto)
    blocks when the block stream covers the start round; otherwise events up to the cutover and
    blocks from it. The cutover is the block stream's first round unless configured."""
    if target < start:
        raise NothingToReplay(f"The target round {target} is not after the bootstrap state (the replay would start at round {start}).")
    coverage = {FileKind.EVENTS: events, FileKind.BLOCK: blocks}
    if only is not None:
        return StreamChoice((_require(only, coverage[only], start, target),), None, f"the {_NOUN[only]} stream only, as the mode asks")
    try:
        return _auto(start, target, events, blocks, cutover_override)
    except ContinuityError as error:
        if cutover_override is not None and not _fails_alike(error, start, target, events, blocks):
            error.hint = _cutover_hint(cutover_override, events, blocks)
        raise


def _fails_alike(error: ContinuityError, start: int, target: int, events: Coverage | None, blocks: Coverage | None) -> bool:
    """Whether the cutover the streams imply fails the same way: then a configured one is not the cause."""
    try:
        _auto(start, target, events, blocks, None)
    except ContinuityError as without:
        return without.message == error.message
    return False


def _cutover_hint(configured: int, events: Coverage | None, blocks: Coverage | None) -> str:
    """What to do when a configured cutover asks for rounds a stream does not hold."""
    default = cutover(None, blocks)
    unset = f"unset, it is round {default} (the block stream's first)" if default is not None else "unset, the event stream replays it all"
    joined = ""
    if events is not None and blocks is not None and blocks.first <= events.last + 1:
        joined = f"the event stream reaches round {events.last} and the block stream starts at round {blocks.first}, so a cutover in {blocks.first}..{events.last + 1} joins them; "
    return f"Change --cutover-round {configured} (replay.cutover_round): {joined}{unset}. Or add the missing stream files."


def _auto(start: int, target: int, events: Coverage | None, blocks: Coverage | None, cutover_override: int | None) -> StreamChoice:
    """Auto mode's choice: events before the cutover, blocks from it."""
    first_block_round = cutover(cutover_override, blocks)
    if first_block_round is None:
        return StreamChoice((_require(FileKind.EVENTS, events, start, target),), None, "auto: no block stream, events only")
    origin = "configured cutover_round" if cutover_override is not None else "first round of the block stream"
    if start >= first_block_round:
        reason = f"auto: the start round {start} is at or after the cutover {first_block_round} ({origin}): blocks only"
        return StreamChoice((_require(FileKind.BLOCK, blocks, start, target),), first_block_round, reason)
    if target < first_block_round:
        reason = f"auto: the target round {target} is before the cutover {first_block_round} ({origin}): events only"
        return StreamChoice((_require(FileKind.EVENTS, events, start, target),), first_block_round, reason)
    ranges = (
        _require(FileKind.EVENTS, events, start, first_block_round - 1),
        _require(FileKind.BLOCK, blocks, first_block_round, target),
    )
    reason = f"auto: events for rounds {start}..{first_block_round - 1}, blocks from the cutover {first_block_round} ({origin})"
    return StreamChoice(ranges, first_block_round, reason)
