"""The plan itself: decide the backends, verify their input, and lay out the segments with their
exact files, states and argument vectors. Nothing is downloaded here: ``inputs`` loaded it all."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from ..backends import registry
from ..backends.probe import startup_error
from ..errors import ContinuityError
from ..inventory import verify_stream_files
from ..model.files import StreamFile
from ..model.plan import Invocation, Proof, ReplayPlan, Segment
from ..model.rate import Workload
from ..states import is_rehearsal_state
from ..streams.naming import FileKind
from .inputs import PlanInputs, probe_backends, unused_by_mode
from .proofs import StreamProofs, check_bootstrap, with_reference
from .segments import BackendRange, pace_ranges, pacing_warnings, pacing_window, split_ranges
from .selection import coverage_of, last_reachable_round, select_streams
from .timeline import Timeline

#: Why an event-stream segment is not proven by the stream.
EVENTS_UNPROVEN = "an event-stream segment: event streams carry no state hash"
#: Why a block-stream segment replayed from a rehearsal state the stream does not confirm is not checked against it.
REHEARSAL_UNPROVEN = "not checked against the stream: the bootstrap state is a rehearsal state the stream does not confirm"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def holding(files: Sequence[StreamFile], first: int, last: int) -> list[StreamFile]:
    """The files holding any of rounds ``first..last``."""
    return [f for f in files if f.first_round is not None and f.last_round is not None and f.first_round <= last and f.last_round >= first]


def _checksum(file: StreamFile) -> int:
    assert file.checksum is not None, file.key  # a planned file was read and verified
    return file.checksum


def files_for(files: Sequence[StreamFile], first: int, last: int) -> tuple[str, ...]:
    """The keys of the files holding any of rounds ``first..last``."""
    return tuple(f.key for f in holding(files, first, last))


def make_plan(inputs: PlanInputs, run_id: str | None = None) -> ReplayPlan:
    """Decide, verify and lay out the replay; raises the typed error of the first problem found."""
    settings = inputs.settings
    replay = settings.replay
    assert replay.out is not None
    # Absolute paths: every backend runs in a folder of its own.
    out, work_dir = replay.out.absolute(), settings.work_dir.absolute()
    bootstrap_dir, bootstrap = inputs.bootstrap_dir, inputs.bootstrap
    target, expected_hash = inputs.target_round, inputs.expected_hash
    stream_files = {kind: inputs.files(kind) for kind in (FileKind.EVENTS, FileKind.BLOCK)}
    events, blocks = coverage_of(stream_files[FileKind.EVENTS]), coverage_of(stream_files[FileKind.BLOCK])
    start = bootstrap.round + 1
    for files in stream_files.values():
        unreadable = next((f.error for f in files if f.error is not None), None)
        if unreadable is not None and coverage_of(files) is None:
            raise unreadable  # not one file of the stream could be read: say why
    only = None if replay.mode == registry.AUTO else inputs.backends[replay.mode].stream_kind
    if target is None:
        target = last_reachable_round(only, events, blocks, replay.cutover_round)
        if target is None:
            raise ContinuityError("The stream sources hold no complete rounds to replay.")
        if replay.window is not None:
            timeline = Timeline([*stream_files[FileKind.EVENTS], *stream_files[FileKind.BLOCK]])
            target = timeline.last_round_within(start, target, replay.window.total_seconds())
    try:
        choice = select_streams(only, start, target, events, blocks, replay.cutover_round)
    except ContinuityError as error:
        raise _with_ignored_files(error, inputs) from None

    ranges = []
    for stream_range in choice.ranges:
        stream = inputs.stream(stream_range.kind)
        assert stream is not None
        verify_stream_files(
            stream, from_round=stream_range.first, to_round=stream_range.last, kinds=(stream_range.kind,)
        ).raise_for_problems()
        name = replay.mode if only is not None else registry.default_for(stream_range.kind)
        ranges.append(BackendRange(name, stream_range.first, stream_range.last))
    proofs = StreamProofs(stream_files[FileKind.BLOCK])
    bootstrap_proof = (
        check_bootstrap(proofs, bootstrap, bootstrap_dir)
        if replay.bootstrap_check
        else Proof("none", None, "skipped (--no-bootstrap-check)")
    )
    # Only once the data holds: ask the tools the ranges need what they support, and adapt to it.
    used = {piece.backend: inputs.backends[piece.backend] for piece in ranges}
    notes = probe_backends(settings, used, {backend.stream_kind for backend in used.values()})
    warnings = [*unused_by_mode(settings, inputs.backends), *(note for name in used for note in notes.get(name, []))]
    for backend in used.values():
        cannot_start = startup_error(backend)
        if cannot_start is not None:
            raise cannot_start

    run_id = run_id or new_run_id()
    run_dir = work_dir / "runs" / run_id
    timelines = {kind: Timeline(files) for kind, files in stream_files.items()}

    def workload(piece: BackendRange) -> Workload:
        kind = inputs.backends[piece.backend].stream_kind
        files = files_for(stream_files[kind], piece.first, piece.last)
        return Workload(piece.last - piece.first + 1, len(files), timelines[kind].span_seconds(piece.first, piece.last))

    # Block backends end segments where a block ends: only there does the stream prove the state.
    ends = {r.backend: proofs.block_ends(r.first, r.last) for r in ranges if inputs.backends[r.backend].stream_kind is FileKind.BLOCK}
    rate = settings.pace.rate
    pace = settings.pace
    windows = {r.backend: pacing_window(rate.cost_seconds(workload(r)), pace.max_segment_seconds, pace.min_segment_seconds) for r in ranges}
    pieces = pace_ranges(split_ranges(ranges, replay.segment_rounds, ends), rate, windows, workload, inputs.backends, ends)
    warnings += pacing_warnings(ranges, pieces, rate, windows, workload, inputs.backends)
    reference = "expected-state" if replay.expected_state is not None else "expected-hash"
    # A HASH given by hand (state init) that no footer confirms: what is replayed from it is not the
    # history the footers describe, so they would only disprove every segment they can check.
    rehearsal = is_rehearsal_state(bootstrap_dir) and not bootstrap_proof.verified
    unchecked = 0
    segments: list[Segment] = []
    state_dir = bootstrap_dir
    for index, piece in enumerate(pieces, start=1):
        last = index == len(pieces)
        backend = inputs.backends[piece.backend]
        # Only block backends: event streams carry no state hash, and PCLI's state may be of another
        # transaction offset than the node's (§7.2), which no footer would confirm.
        if backend.stream_kind is not FileKind.BLOCK:
            proof = Proof("none", None, EVENTS_UNPROVEN)
        elif not replay.stream_proofs:
            proof = Proof("none", None, "not checked against the stream (--no-stream-proofs)")
        else:
            proof = proofs.after_round(piece.last)
            if rehearsal and proof.verified:
                proof, unchecked = Proof("none", None, REHEARSAL_UNPROVEN), unchecked + 1
        if last:
            proof = with_reference(proof, expected_hash, reference, piece.last)
        folder = run_dir / "segments" / f"{index:03d}-{piece.backend}"
        final_dir = out if last else folder / "state"
        # Beside --out (one file system for the final rename), named after the run: never too long a name.
        out_dir = out.parent / f".hiero-replay-{run_id}.partial" if last else folder / "state.partial"
        stream = inputs.stream(backend.stream_kind)
        assert stream is not None
        work = workload(piece)
        invocation = Invocation(
            state_dir=state_dir,
            input_dir=folder / "input",
            node_id=replay.node_id,
            target_round=piece.last,
            out_dir=out_dir,
            expected_hash=proof.expected_hash if backend.checks_expected_hash else None,
            rounds_per_second=rate.rounds_per_second(work) if backend.paces_rounds else None,
        )
        planned = holding(stream_files[backend.stream_kind], piece.first, piece.last)
        segments.append(
            Segment(
                index=index,
                backend=piece.backend,
                first_round=piece.first,
                last_round=piece.last,
                source=stream.source,
                files=tuple(f.key for f in planned),
                invocation=invocation,
                final_dir=final_dir,
                proof=proof,
                argv=tuple(backend.argv(invocation)),
                workload=work,
                checksums=tuple(_checksum(f) for f in planned),
            )
        )
        state_dir = final_dir
    if unchecked:
        warnings.append(
            f"the bootstrap state {bootstrap_dir} is a rehearsal state (hiero-replay state init: its HASH given by hand) "
            "that the block stream does not confirm: the footers carry the hashes of the network's states, not of states "
            f"replayed from it, so {unchecked} block-stream segment(s) are not checked against them (as with --no-stream-proofs)"
        )
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
        out=out,
        rate=str(rate),
        sources={"events": settings.source.events or "", "blocks": settings.source.blocks or ""},
        segments=tuple(segments),
        warnings=tuple(warnings),
        bootstrap_proof=bootstrap_proof,
    )


def _with_ignored_files(error: ContinuityError, inputs: PlanInputs) -> ContinuityError:
    """Rounds not covered, and files of the sources were left out: say which, they may be why."""
    streams = {id(stream): stream for stream in (inputs.events, inputs.blocks) if stream is not None}  # one, when mixed
    ignored = [entry for stream in streams.values() for entry in stream.ignored]
    if ignored:
        shown = "; ".join(f"{entry.key} ({entry.reason})" for entry in ignored[:3])
        more = f" and {len(ignored) - 3} more" if len(ignored) > 3 else ""
        error.message = f"{error.message} Files of the sources that were not used: {shown}{more}."
    return error
