"""What the block stream proves (``reference/hiero-tools.md`` §7.3): the footer of block B carries
the hash of the state after the last round of block B-1, so the state after a round is proven where
that round ends a block and the block after it is present, authenticated by a chain link, and of an
era whose value means something. Everywhere else there is a reason why not, never a false mismatch."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import HashMismatchError
from ..model.files import StreamFile
from ..model.plan import Proof
from ..states import StateMetadata
from ..streams.block_hash import EMPTY_HASH
from ..streams.blocks import BlockFile, link_algorithm

#: HAPI versions whose footers carry real state hashes (earlier ones carry mock values).
FIRST_REAL_STATE_HASHES = (0, 55)
#: Upgrades that changed how the state is hashed (0.65: the root became a VirtualMap; 0.72: leaf
#: hashing). The first block after one carries a hash under the new algorithm, of a state the
#: tools loaded and hashed under the old one: not comparable.
STATE_HASH_CHANGES = ((0, 65), (0, 72))

Version = tuple[int, int]
_VERSION = re.compile(r"(?:major\D*)?(\d+)\D+?(?:minor\D*)?(\d+)")


def _version(block: BlockFile) -> Version:
    return block.hapi_version[0], block.hapi_version[1]


def state_version(metadata: StateMetadata) -> Version | None:
    """The software version a saved state was written by (``SOFTWARE_VERSION``), when it reads as one."""
    found = _VERSION.search(metadata.fields.get("SOFTWARE_VERSION", ""))
    return (int(found.group(1)), int(found.group(2))) if found else None


def era_unusable(following: BlockFile, before: Version | None, before_name: str) -> str | None:
    """Why the value in ``following``'s footer means nothing for a state of version ``before``."""
    if following.record_file is not None:
        return f"block {following.number} wraps a record file: its footer carries no state hash"
    if following.footer is None:
        return f"block {following.number} has no footer (before HAPI 0.68 the value sits in its proof, which is not read)"
    if _version(following) < FIRST_REAL_STATE_HASHES:
        return f"block {following.number} is of HAPI {following.hapi}: state hashes before 0.55 are mock values"
    if following.footer.start_of_block_state_root_hash in (EMPTY_HASH, bytes(len(EMPTY_HASH))):
        return f"block {following.number}'s footer carries no state hash (a marker, not a hash)"
    if before is None:
        return f"the software version of {before_name} is unknown, so whether block {following.number}'s hash is comparable is not"
    for change in STATE_HASH_CHANGES:
        if before < change <= _version(following):
            return (
                f"block {following.number} is of HAPI {following.hapi} after {before_name} of {before[0]}.{before[1]}: the state "
                f"hash algorithm changed at {change[0]}.{change[1]}, so its value is not comparable"
            )
    return None


class StreamProofs:
    """The proofs a listing of blocks holds, looked up by round."""

    def __init__(self, blocks: Sequence[StreamFile]) -> None:
        self._by_number = {f.name.block_number: f for f in blocks if f.name.block_number is not None}
        #: The readable blocks holding rounds, in order; the first and last round of each.
        self._holding = sorted(
            (f.block for f in blocks if f.block is not None and f.block.last_round is not None), key=lambda block: block.number
        )
        self._firsts = [block.first_round for block in self._holding if block.first_round is not None]
        self._ends = [block.last_round for block in self._holding if block.last_round is not None]

    def block_ends(self, first: int, last: int) -> list[int]:
        """The rounds of ``first..last`` that end a block, in order."""
        return self._ends[bisect_left(self._ends, first) : bisect_right(self._ends, last)]

    def holding(self, round_number: int) -> BlockFile | None:
        """The block holding ``round_number``, if read."""
        index = bisect_left(self._ends, round_number)
        holder = self._holding[index] if index < len(self._holding) else None
        return holder if holder is not None and holder.first_round is not None and holder.first_round <= round_number else None

    def _block(self, number: int) -> BlockFile | None:
        listed = self._by_number.get(number)
        return listed.block if listed is not None else None

    def after_round(self, round_number: int, *, state: Version | None = None) -> Proof:
        """How the state after ``round_number`` is proven by the stream, or why it is not: by the
        footer of the block after the one ending with it; where that one is not in the source, by the
        footer of the block starting right after it, for a state of software version ``state``."""
        holder = self.holding(round_number)
        if holder is not None and holder.last_round != round_number:
            return Proof(
                "none",
                None,
                f"round {round_number} is inside block {holder.number} (rounds {holder.first_round}..{holder.last_round}): "
                "the node hashes states only at block ends",
            )
        if holder is None:
            index = bisect_left(self._firsts, round_number + 1)
            if index == len(self._firsts) or self._firsts[index] != round_number + 1:
                return Proof("none", None, f"no block of the source holds round {round_number} or starts right after it")
            return self._proof(self._holding[index], None, state, f"the state of round {round_number}")
        following_number = holder.number + 1
        listed = self._by_number.get(following_number)
        if listed is None or listed.block is None:
            missing = "is not in the source" if listed is None else "cannot be read"
            return Proof("none", None, f"block {following_number}, whose footer would prove it, {missing}", following_number)
        return self._proof(listed.block, holder, _version(holder), f"block {holder.number}")

    def _proof(self, following: BlockFile, before: BlockFile | None, version: Version | None, before_name: str) -> Proof:
        """The footer of ``following`` as the proof of the state before it, once its era and its
        authenticity hold: it names ``before``'s root, and the block after it (when listed) names its."""
        why_not = era_unusable(following, version, before_name)
        beyond = self._block(following.number + 1)
        if why_not is None and before is not None and link_algorithm(before, following) is None:
            why_not = f"block {following.number} does not chain to block {before.number} (or their hashes cannot be checked)"
        if why_not is None and beyond is not None and link_algorithm(following, beyond) is None:
            why_not = f"block {beyond.number} does not chain to block {following.number}"
        if why_not is None and before is None and beyond is None:
            why_not = f"block {following.number} cannot be authenticated: neither the block before it nor the one after it is in the source"
        if why_not is not None:
            return Proof("none", None, why_not, following.number)
        assert following.footer is not None
        return Proof(
            "stream", following.footer.start_of_block_state_root_hash.hex(), f"footer of block {following.number}", following.number
        )


def with_reference(stream: Proof, expected_hash: str | None, reference: str, round_number: int) -> Proof:
    """The final segment's proof where the user brought a reference (``expected-state`` or
    ``expected-hash``): the stream and the reference must agree, or nothing is replayed."""
    if expected_hash is None:
        return stream
    words = reference.replace("-", " ")
    if stream.expected_hash is None:
        return Proof(reference, expected_hash, f"the {words} (the stream cannot: {stream.reason})")
    if stream.expected_hash != expected_hash:
        raise HashMismatchError(
            f"The {words} and the block stream disagree on the state after round {round_number}: the {words} is "
            f"{expected_hash}, the {stream.reason} carries {stream.expected_hash}.",
            hint="One of the two references is of another network or history; check which one the replay should reach.",
        )
    return replace(stream, reason=f"{stream.reason}, which the {words} confirms")


def check_bootstrap(proofs: StreamProofs, bootstrap: StateMetadata, bootstrap_dir: Path) -> Proof:
    """Compare the bootstrap state's HASH with what the stream says the state after its round is;
    the proof it was checked against (``none`` and why, when it cannot be), or raises before any
    backend starts."""
    proof = proofs.after_round(bootstrap.round, state=state_version(bootstrap))
    if proof.expected_hash is None:
        return replace(proof, reason=f"not possible: {proof.reason}")
    if bootstrap.hash != proof.expected_hash:
        raise HashMismatchError(
            f"The bootstrap state {bootstrap_dir} (round {bootstrap.round}) is not the state block {proof.block} starts from: "
            f"its HASH is {bootstrap.hash}, the {proof.reason} carries {proof.expected_hash}.",
            hint="The state is of another network, history or node software; choose the saved state this stream continues "
            "(--no-bootstrap-check replays anyway).",
        )
    return replace(proof, reason=f"matches the {proof.reason}")
