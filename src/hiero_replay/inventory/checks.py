"""The checks a replay relies on, over the files of a round range: names match contents, no block
or event file is missing, hash chains link, rounds are contiguous and cover the range.

Every violation becomes a ``Problem`` carrying a typed error; nothing is raised half-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ..errors import (
    ConfigError,
    ContinuityError,
    CorruptFileError,
    HashMismatchError,
    MissingInputError,
    ReplayError,
    UnverifiableError,
)
from ..model.files import Problem, StreamFile, StreamFiles
from ..model.inventory import Gap, Inventory
from ..streams.block_hash import Algorithm, StreamingTree
from ..streams.naming import FileKind
from ..streams.timestamps import format_consensus_time


def _select(files: list[StreamFile], from_round: int | None, to_round: int | None) -> list[StreamFile]:
    """The contiguous run of files that overlaps the range, with unreadable neighbours kept."""
    if from_round is None and to_round is None:
        return files
    low = from_round if from_round is not None else -1
    high = to_round if to_round is not None else 2**63
    hits = [
        index
        for index, f in enumerate(files)
        if f.first_round is not None and f.last_round is not None and f.first_round <= high and f.last_round >= low
    ]
    if not hits:
        return []
    start, stop = hits[0], hits[-1]
    while start > 0 and files[start - 1].error is not None:
        start -= 1
    while stop + 1 < len(files) and files[stop + 1].error is not None:
        stop += 1
    return files[start : stop + 1]


class _Checker:
    """Runs the checks, appending problems and gaps to one inventory."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def problem(self, error: ReplayError) -> None:
        self.inventory.problems.append(Problem(error))

    def gap(self, gap: Gap, error: ContinuityError) -> None:
        self.inventory.gaps.append(gap)
        self.problem(error)

    def check_blocks(self, files: Sequence[StreamFile]) -> None:
        previous: StreamFile | None = None
        chosen: dict[int, Algorithm] = {}  # the algorithm that verified a block's link; one at a time
        roots = _AllPreviousRoots(files)
        for current in files:
            if current.error is not None:
                self.problem(current.error)
            else:
                self._check_block_content(current)
            if previous is not None:
                self._check_block_link(previous, current, chosen)
                roots.fold(previous, chosen.pop(previous.block.number, None) if previous.block is not None else None)
            previous = current
        if previous is not None:
            roots.fold(previous, None)
        if roots.problem is not None:
            self.problem(roots.problem)

    def _check_block_content(self, current: StreamFile) -> None:
        block = current.block
        assert block is not None
        if block.number != current.name.block_number:
            self.problem(
                ContinuityError(
                    f"{current.key} holds block {block.number} but its name says block {current.name.block_number}.",
                    hint="A renamed or misplaced file breaks the ordering; restore the original file names.",
                    file=current.key,
                )
            )
        if any(proved != block.number for proved in block.proof_blocks):
            self.problem(
                ContinuityError(
                    f"{current.key}: block {block.number} carries a proof for block(s) {', '.join(map(str, block.proof_blocks))}.",
                    hint="The file was altered or assembled from two blocks; fetch it again.",
                    file=current.key,
                )
            )
        for part, present in (("block footer", block.has_footer), ("block proof", bool(block.proofs))):
            if not present:
                self.problem(CorruptFileError(f"{current.key}: block {block.number} has no {part}.", file=current.key))
        footer = block.footer if block.number == 0 else None
        if footer is not None:
            if footer.previous_block_root_hash == block.genesis_previous_hash:
                self.inventory.verified_links += 1
            else:
                self.problem(
                    HashMismatchError(
                        f"{current.key}: block 0 does not start from the genesis previous-block hash.",
                        expected=block.genesis_previous_hash,
                        actual=footer.previous_block_root_hash,
                        file=current.key,
                    )
                )
        if block.rounds and block.rounds != tuple(range(block.rounds[0], block.rounds[-1] + 1)):
            jumps = [f"{a}->{b}" for a, b in zip(block.rounds, block.rounds[1:], strict=False) if b != a + 1]
            self.problem(
                ContinuityError(
                    f"{current.key}: rounds inside block {block.number} are not consecutive ({', '.join(jumps[:5])}).",
                    file=current.key,
                )
            )

    def _check_block_link(self, previous: StreamFile, current: StreamFile, chosen: dict[int, Algorithm]) -> None:
        before, after = previous.name.block_number, current.name.block_number
        assert before is not None and after is not None
        if after != before + 1:
            rounds = ""
            last, first = previous.last_complete_round, current.first_round
            if last is not None and first is not None and first > last + 1:
                self.inventory.gaps.append(Gap("rounds", last + 1, first - 1, after=previous.key, before=current.key))
                rounds = f" (rounds {last + 1}..{first - 1})"
            self.gap(
                Gap("blocks", before + 1, after - 1, after=previous.key, before=current.key),
                ContinuityError(
                    f"Missing {after - before - 1} block file(s) between {previous.key} and {current.key}: "
                    f"blocks {before + 1}..{after - 1}{rounds}.",
                    hint="Fetch the missing blocks into the source before replaying.",
                    file=current.key,
                ),
            )
            return
        prev_block, block = previous.block, current.block
        footer = block.footer if block is not None else None
        if prev_block is None or block is None or footer is None:
            return
        root_hashes = prev_block.root_hashes
        if not root_hashes:
            self.inventory.unverifiable_links += 1
            self.problem(
                UnverifiableError(
                    f"{previous.key}: no supported root hash algorithm for HAPI {prev_block.hapi}; "
                    f"the link to block {block.number} cannot be checked.",
                    file=previous.key,
                )
            )
        else:
            claimed = footer.previous_block_root_hash
            matching = [algorithm for algorithm, root in root_hashes.items() if root == claimed]
            if matching:
                chosen[prev_block.number] = matching[0]
                self.inventory.verified_links += 1
            else:
                algorithm, computed = next(iter(root_hashes.items()))
                self.problem(
                    HashMismatchError(
                        f"Previous hash mismatch for block {block.number} ({current.key}): it does not chain to "
                        f"block {prev_block.number} ({previous.key}, root hash by algorithm {algorithm.value}).",
                        expected=computed,
                        actual=claimed,
                        hint=f"One of the two files was altered or replaced; fetch blocks {prev_block.number} and {block.number} again.",
                        file=current.key,
                    )
                )
        self._check_round_link(previous, current)

    def _check_round_link(self, previous: StreamFile, current: StreamFile) -> None:
        last, first = previous.last_complete_round, current.first_round
        if last is None or first is None:
            return
        if first > last + 1:
            self.gap(
                Gap("rounds", last + 1, first - 1, after=previous.key, before=current.key),
                ContinuityError(
                    f"Rounds {last + 1}..{first - 1} are missing between {previous.key} and {current.key}.",
                    hint="Fetch the stream files that hold these rounds.",
                    file=current.key,
                ),
            )
        elif first <= last:
            self.problem(
                ContinuityError(
                    f"{current.key} starts at round {first}, which {previous.key} already holds (up to round {last}).",
                    hint="A round must not appear in two files; check for misplaced or duplicated files.",
                    file=current.key,
                )
            )

    def check_events(self, files: Sequence[StreamFile]) -> None:
        previous: StreamFile | None = None
        for current in files:
            if current.error is not None:
                self.problem(current.error)
            else:
                self._check_event_content(current)
                if previous is not None and previous.events is not None:
                    self._check_event_link(previous, current)
            previous = current

    def _check_event_content(self, current: StreamFile) -> None:
        info, name = current.events, current.name
        assert info is not None and name.consensus_time_ns is not None
        unit = 10 ** (9 - name.fraction_digits)
        if info.first_time_ns // unit * unit != name.consensus_time_ns:
            self.problem(
                ContinuityError(
                    f"{current.key}: its name says {format_consensus_time(name.consensus_time_ns)} but its first event "
                    f"reached consensus at {format_consensus_time(info.first_time_ns)}.",
                    hint="A renamed or misplaced file breaks the ordering; restore the original file names.",
                    file=current.key,
                )
            )
        if info.running_hash_ok:
            self.inventory.verified_links += 1
        else:
            self.problem(
                HashMismatchError(
                    f"Running hash mismatch for {current.key}: the events do not hash to the file's end running hash.",
                    expected=info.end_hash,
                    actual=info.computed_end_hash,
                    hint="The file was altered or damaged; fetch it again from its source.",
                    file=current.key,
                )
            )
        if info.signature_fault is not None:
            self.problem(info.signature_fault)
        for fault in info.round_faults:
            self.problem(ContinuityError(f"{current.key}: {fault}.", file=current.key))

    def _check_event_link(self, previous: StreamFile, current: StreamFile) -> None:
        before, after = previous.events, current.events
        assert before is not None and after is not None
        if after.start_hash != before.end_hash:
            self.gap(
                Gap("event-files", after=previous.key, before=current.key),
                ContinuityError(
                    f"Missing event stream file prior to {current.key}: its start running hash "
                    f"{after.start_hash.hex()} is not the end running hash {before.end_hash.hex()} of {previous.key}.",
                    hint="Fetch the event files between these two before replaying.",
                    file=current.key,
                ),
            )
        else:
            self.inventory.verified_links += 1
            if after.first_order != before.last_order + 1:
                self.problem(
                    ContinuityError(
                        f"{current.key}: consensus order jumps from {before.last_order} to {after.first_order} "
                        f"although the running hashes link.",
                        file=current.key,
                    )
                )
        self._check_round_link(previous, current)

    def check_coverage(self, streams: Sequence[Sequence[StreamFile]]) -> None:
        """The rounds asked for (or spanned) must be covered, across both streams when mixed."""
        spans = []
        for files in streams:
            firsts = [f.first_round for f in files if f.first_round is not None]
            lasts = [f.last_complete_round for f in files if f.last_complete_round is not None]
            if firsts and lasts:
                spans.append((min(firsts), max(lasts)))
        inventory = self.inventory
        low = inventory.from_round if inventory.from_round is not None else min((s[0] for s in spans), default=inventory.to_round)
        high = inventory.to_round if inventory.to_round is not None else max((s[1] for s in spans), default=low)
        if low is None or high is None:
            return
        for first, last in _uncovered(low, high, spans):
            self.gap(
                Gap("rounds", first, last),
                ContinuityError(
                    f"Rounds {first}..{last} are not covered by any stream file in {inventory.source}.",
                    hint="Add the stream files holding these rounds, or narrow the round range.",
                ),
            )


class _AllPreviousRoots:
    """From block 0 on, each footer's root of all previous block hashes is recomputable (A3/A4):
    folded block by block as the links are checked, keeping nothing per block."""

    def __init__(self, files: Sequence[StreamFile]) -> None:
        self.tree: StreamingTree | None = StreamingTree() if files and files[0].name.block_number == 0 else None
        self.problem: HashMismatchError | None = None

    def fold(self, current: StreamFile, algorithm: Algorithm | None) -> None:
        """Check ``current`` against the blocks before it, then add its root by ``algorithm`` (the
        one its successor's link confirmed; ``None``: unconfirmed, so later folds would only echo it)."""
        block = current.block
        if self.tree is None or block is None:
            self.tree = None
            return
        footer, root_hashes = block.footer, block.root_hashes
        if footer is None or not root_hashes or Algorithm.A2 in root_hashes:
            self.tree = None
            return
        expected = self.tree.root()
        if footer.root_hash_of_all_block_hashes_tree != expected:
            self.problem = HashMismatchError(
                f"{current.key}: block {block.number}'s root of all previous block hashes does not match blocks 0..{block.number - 1}.",
                expected=expected,
                actual=footer.root_hash_of_all_block_hashes_tree,
                file=current.key,
            )
            self.tree = None
            return
        if algorithm is None:
            self.tree = None
            return
        self.tree.add_hash(root_hashes[algorithm])


def _uncovered(low: int, high: int, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    cursor = low
    for first, last in sorted(spans):
        if first > cursor and cursor <= high:
            yield cursor, min(first - 1, high)
        cursor = max(cursor, last + 1)
    if cursor <= high:
        yield cursor, high


def verify_stream_files(
    files: StreamFiles,
    *,
    from_round: int | None = None,
    to_round: int | None = None,
    kinds: tuple[FileKind, ...] = (FileKind.EVENTS, FileKind.BLOCK),
) -> Inventory:
    """Select the files overlapping the round range and run every check on them."""
    if from_round is not None and to_round is not None and from_round > to_round:
        raise ConfigError(f"The round range {from_round}..{to_round} is empty: the first round is after the last.")
    inventory = Inventory(source=files.source, from_round=from_round, to_round=to_round, ignored=list(files.ignored))
    streams: list[list[StreamFile]] = []
    checker = _Checker(inventory)
    if FileKind.EVENTS in kinds:
        inventory.problems.extend(files.event_problems)
        inventory.event_files = _select(files.events, from_round, to_round)
        checker.check_events(inventory.event_files)
        streams.append(inventory.event_files)
    if FileKind.BLOCK in kinds:
        inventory.problems.extend(files.block_problems)
        inventory.block_files = _select(files.blocks, from_round, to_round)
        checker.check_blocks(inventory.block_files)
        streams.append(inventory.block_files)
    present = (files.events if FileKind.EVENTS in kinds else []) + (files.blocks if FileKind.BLOCK in kinds else [])
    if not present:
        what = " or ".join("event" if kind is FileKind.EVENTS else "block" for kind in kinds)
        inventory.problems.append(
            Problem(MissingInputError(f"No {what} stream files found in {files.source}.", hint="Check the source path."))
        )
        return inventory
    checker.check_coverage(streams)
    return inventory
