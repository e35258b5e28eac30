"""What the block stream proves (``reference/hiero-tools.md`` §7.3): the footer of block B carries
the hash of the state after the last round of block B-1, so the state after a round is proven where
that round ends a block and the block after it is present, chained to it, and of an era whose value
means something. Everywhere else there is a reason why not, never a false mismatch."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import HashMismatchError
from ..model.files import StreamFile
from ..model.plan import Proof
from ..states import StateMetadata
from ..streams.blocks import BlockFile, link_algorithm

#: HAPI versions whose footers carry real state hashes (earlier ones carry mock values).
FIRST_REAL_STATE_HASHES = (0, 55)
#: Upgrades that changed how the state is hashed (0.65: the root became a VirtualMap; 0.72: leaf
#: hashing). The first block after one carries a hash under the new algorithm, of a state the
#: tools loaded and hashed under the old one: not comparable.
STATE_HASH_CHANGES = ((0, 65), (0, 72))


def _version(block: BlockFile) -> tuple[int, int]:
    return block.hapi_version[0], block.hapi_version[1]


def footer_unusable(before: BlockFile, following: BlockFile, beyond: BlockFile | None) -> str | None:
    """Why the footer of ``following`` does not prove the state after ``before`` (``None``: it does).
    ``beyond`` is the block after ``following``, when listed: it must chain to it too."""
    if following.record_file is not None:
        return f"block {following.number} wraps a record file: its footer carries no state hash"
    if following.footer is None:
        return f"block {following.number} has no footer"
    if _version(following) < FIRST_REAL_STATE_HASHES:
        return f"block {following.number} is of HAPI {following.hapi}: state hashes before 0.55 are mock values"
    if not any(following.footer.start_of_block_state_root_hash):
        return f"block {following.number}'s footer carries no state hash (all zeros)"
    for change in STATE_HASH_CHANGES:
        if _version(before) < change <= _version(following):
            return (
                f"block {following.number} is the first of HAPI {following.hapi} after {before.hapi}: the state hash "
                f"algorithm changed at {change[0]}.{change[1]}, so its value is not comparable"
            )
    if link_algorithm(before, following) is None:
        return f"block {following.number} does not chain to block {before.number} (or their hashes cannot be checked)"
    if beyond is not None and link_algorithm(following, beyond) is None:
        return f"block {beyond.number} does not chain to block {following.number}"
    return None


class StreamProofs:
    """The proofs a listing of blocks holds, looked up by round."""

    def __init__(self, blocks: Sequence[StreamFile]) -> None:
        self._by_number = {f.name.block_number: f for f in blocks if f.name.block_number is not None}
        #: The readable blocks holding rounds, in order, and the last round of each.
        self._holding = sorted(
            (f.block for f in blocks if f.block is not None and f.block.last_round is not None), key=lambda block: block.number
        )
        self._ends = [block.last_round for block in self._holding if block.last_round is not None]

    def block_ends(self, first: int, last: int) -> list[int]:
        """The rounds of ``first..last`` that end a block, in order."""
        return self._ends[bisect_left(self._ends, first) : bisect_right(self._ends, last)]

    def _block(self, number: int) -> BlockFile | None:
        listed = self._by_number.get(number)
        return listed.block if listed is not None else None

    def holding(self, round_number: int) -> BlockFile | None:
        """The block holding ``round_number``, if read."""
        index = bisect_left(self._ends, round_number)
        holder = self._holding[index] if index < len(self._holding) else None
        return holder if holder is not None and holder.first_round is not None and holder.first_round <= round_number else None

    def after_round(self, round_number: int) -> Proof:
        """How the state after ``round_number`` is proven by the stream, or why it is not."""
        holder = self.holding(round_number)
        if holder is None:
            return Proof("none", None, f"no block of the source holds round {round_number}")
        if holder.last_round != round_number:
            return Proof(
                "none",
                None,
                f"round {round_number} is inside block {holder.number} (rounds {holder.first_round}..{holder.last_round}): "
                "the node hashes states only at block ends",
            )
        following_number = holder.number + 1
        listed = self._by_number.get(following_number)
        if listed is None:
            return Proof("none", None, f"block {following_number}, whose footer would prove it, is not in the source", following_number)
        if listed.block is None:
            return Proof("none", None, f"block {following_number}, whose footer would prove it, cannot be read", following_number)
        following = listed.block
        why_not = footer_unusable(holder, following, self._block(following_number + 1))
        if why_not is not None:
            return Proof("none", None, why_not, following_number)
        assert following.footer is not None
        return Proof(
            "stream", following.footer.start_of_block_state_root_hash.hex(), f"footer of block {following_number}", following_number
        )


def with_reference(stream: Proof, expected_hash: str | None, reference: str, round_number: int) -> Proof:
    """The final segment's proof where the user brought a reference (``expected-state`` or
    ``expected-hash``): the stream and the reference must agree, or nothing is replayed."""
    if expected_hash is None:
        return stream
    if stream.expected_hash is None:
        return Proof(reference, expected_hash, f"the {reference.replace('-', ' ')} (the stream cannot: {stream.reason})")
    if stream.expected_hash != expected_hash:
        raise HashMismatchError(
            f"The {reference.replace('-', ' ')} and the block stream disagree on the state after round {round_number}: "
            f"the {stream.reason} carries another hash.",
            expected=expected_hash,
            actual=stream.expected_hash,
            hint="One of the two references is of another network or history; check which one the replay should reach.",
        )
    return replace(stream, reason=f"{stream.reason}, which the {reference.replace('-', ' ')} confirms")


def check_bootstrap(proofs: StreamProofs, bootstrap: StateMetadata, bootstrap_dir: Path) -> str:
    """Compare the bootstrap state's HASH with what the stream says the state after its round is;
    returns what was checked, in words, or raises before any backend starts."""
    proof = proofs.after_round(bootstrap.round)
    if proof.expected_hash is None:
        return f"not possible: {proof.reason}"
    if bootstrap.hash != proof.expected_hash:
        raise HashMismatchError(
            f"The bootstrap state {bootstrap_dir} (round {bootstrap.round}) is not the state block {proof.block} starts from: "
            f"its HASH is not the one the {proof.reason} carries.",
            expected=proof.expected_hash,
            actual=bootstrap.hash,
            hint="The state is of another network, history or node software; choose the saved state this stream continues "
            "(--no-bootstrap-check replays anyway).",
        )
    return f"matches the {proof.reason}"
