"""Divergence bisect: a segment the block stream disproves is narrowed down to the first block whose
application gives another hash than the next block's footer (``reference/hiero-tools.md`` §7.3).

The block ends inside the segment that the stream proves are the checkpoints. Each step replays,
from the newest state known to match, to the middle checkpoint between it and the first known to
differ, and compares the resulting HASH itself: a segment of k checkpoints takes at most
⌈log2 k⌉ backend runs. States are hashed at block ends only, so a divergence stays once it starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Divergence, HashMismatchError, ReplayError, ReplayInterrupted, RunStoreError
from ..inventory import load_stream_files
from ..logs import get_logger
from ..model.plan import Invocation, Segment
from ..plan.proofs import StreamProofs
from ..sources.local import LocalDirSource


@dataclass(frozen=True)
class Checkpoint:
    """A block end inside a segment, with the state hash the stream proves for it."""

    round: int
    block: int
    expected_hash: str


@dataclass(frozen=True)
class Probe:
    """One bisect step as it ran: from which state to which checkpoint, and the hash it reached."""

    step: int
    from_round: int
    checkpoint: Checkpoint
    actual_hash: str
    state_dir: Path

    @property
    def matched(self) -> bool:
        return self.actual_hash == self.checkpoint.expected_hash


#: Runs the segment's backend from a state to a round into an output folder; returns the HASH reached.
ReplayTo = Callable[[Invocation, Path], str]


def checkpoints_of(segment: Segment) -> tuple[int, list[Checkpoint]]:
    """The first block ``segment`` applies, and the block ends in it the stream proves, read from
    its staged blocks; the segment's own end (proven by the block after it, not staged) last."""
    assert segment.expected_hash is not None and segment.proof.block is not None
    proofs = StreamProofs(load_stream_files(LocalDirSource(segment.input_dir)).blocks)
    first = proofs.holding(segment.first_round)
    assert first is not None, "a segment's blocks are staged before it runs"
    inner = []
    for end in proofs.block_ends(segment.first_round, segment.last_round - 1):
        proof = proofs.after_round(end)
        if proof.expected_hash is not None and proof.block is not None:
            inner.append(Checkpoint(end, proof.block - 1, proof.expected_hash))
    return first.number, [*inner, Checkpoint(segment.last_round, segment.proof.block - 1, segment.expected_hash)]


def disproved_by_stream(segment: Segment, error: HashMismatchError) -> None:
    """Say in ``error`` that the stream, not a reference of the user's, disproved the segment."""
    error.message = (
        f"Segment {segment.index} (rounds {segment.first_round}..{segment.last_round}) is disproved by the block stream: "
        f"the state it produced is not the one the {segment.proof.reason} carries. {error.message}"
    )


def narrow_down(
    segment: Segment, error: HashMismatchError, replay_to: ReplayTo, on_probe: Callable[[Probe], None], *, start_proven: bool
) -> None:
    """Bisect a segment the stream disproved, and say in ``error`` where it diverges. A step that
    fails ends the search (said in the hint); an interruption or a run-store failure ends the run."""
    log = get_logger()
    log.error("segment disproved by the block stream: bisecting", proof=segment.proof.reason)
    try:
        found = bisect_segment(segment, error.actual, replay_to, on_probe, start_proven=start_proven)
    except (ReplayInterrupted, RunStoreError):
        raise
    except ReplayError as failure:
        log.warning("bisect stopped", reason=str(failure))
        error.hint = f"{error.hint or ''} The search for the first divergent block stopped: {failure}".strip()
        return
    error.divergence = found
    error.message = f"{describe(found)} {error.message}"
    log.error("first divergent block found", **found.to_json())


def bisect_segment(
    segment: Segment,
    actual_hash: str | None,
    replay_to: ReplayTo,
    on_probe: Callable[[Probe], None],
    *,
    start_proven: bool = True,
) -> Divergence:
    """Narrow the divergence of ``segment`` (which reached ``actual_hash`` at its end) down. Where its
    start state is not proven and no step matched, the divergence may lie before the segment."""
    log = get_logger()
    first_block, checkpoints = checkpoints_of(segment)
    good_state, good_round, good_block = segment.state_dir, segment.first_round - 1, first_block - 1
    bad, bad_hash = len(checkpoints) - 1, actual_hash
    good, runs = -1, 0
    folder = segment.folder / "bisect"
    while bad - good > 1:
        middle = (good + bad) // 2
        checkpoint = checkpoints[middle]
        runs += 1
        out_dir = folder / f"{runs:02d}" / "state"
        invocation = replace(
            segment.invocation,
            state_dir=good_state,
            target_round=checkpoint.round,
            out_dir=out_dir,
            expected_hash=None,
            rounds_per_second=None,
        )
        probe = Probe(runs, good_round, checkpoint, replay_to(invocation, out_dir.parent), out_dir)
        on_probe(probe)
        log.info(
            "bisect step",
            step=runs,
            rounds=f"{good_round + 1}..{checkpoint.round}",
            block=checkpoint.block,
            matched=probe.matched,
        )
        if probe.matched:
            if good >= 0:
                shutil.rmtree(good_state, ignore_errors=True)  # superseded by a newer matching state
            good, good_state, good_round, good_block = middle, out_dir, checkpoint.round, checkpoint.block
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
            bad, bad_hash = middle, probe.actual_hash
    return Divergence(
        blocks=(good_block + 1, checkpoints[bad].block),
        rounds=(good_round + 1, checkpoints[bad].round),
        expected=checkpoints[bad].expected_hash,
        actual=bad_hash,
        state_before=str(good_state),
        runs=runs,
        start_proven=start_proven or good >= 0,
    )


def describe(found: Divergence) -> str:
    """Where the replay left the stream's history, in words."""
    if not found.start_proven:
        where = f"at or before block {found.blocks[1]}"
        caveat = f" The state it started from (round {found.rounds[0] - 1}) is not proven by the stream: the divergence may lie before it."
    else:
        where = f"at block {found.first_block}" if found.first_block is not None else f"in blocks {found.blocks[0]}..{found.blocks[1]}"
        caveat = ""
    return (
        f"The replay diverges from the block stream {where} (rounds {found.rounds[0]}..{found.rounds[1]}): "
        f"applied to the state kept at {found.state_before}, it gives {found.actual} where the footer of block "
        f"{found.blocks[1] + 1} says {found.expected} (found in {found.runs} bisect run(s)).{caveat}"
    )
