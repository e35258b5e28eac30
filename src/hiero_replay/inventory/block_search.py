"""Find the blocks that hold a round range without reading (or, in a bucket, listing) them all.

Block numbers are dense and rounds grow with them, so the block holding a round is found from
one block's rounds per block (a guess), then by galloping away from the guess and bisecting over
block numbers. A probe asks for the first block at or after a number (a bisection of a listing,
or a one-page bucket listing from a key) and reads it for its rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

#: A block as the caller knows it (a listed file), with its number.
Block = TypeVar("Block")
Span = tuple[int, int]


class Unsearchable(Exception):
    """A probed block does not tell its rounds (unreadable, or no round in it)."""


class BlockSearch(Generic[Block]):
    def __init__(
        self,
        at_or_after: Callable[[int], Block | None],
        number_of: Callable[[Block], int],
        rounds_of: Callable[[Block], Span | None],
    ) -> None:
        self._at_or_after = at_or_after
        self._number_of = number_of
        self._rounds_of = rounds_of
        self._probes: dict[int, Block | None] = {}
        self._spans: dict[int, Span] = {}

    def block(self, number: int) -> Block | None:
        """The first block numbered ``number`` or more."""
        if number not in self._probes:
            self._probes[number] = self._at_or_after(number)
        return self._probes[number]

    def span(self, block: Block) -> Span:
        number = self._number_of(block)
        if number not in self._spans:
            span = self._rounds_of(block)
            if span is None:
                raise Unsearchable(number)
            self._spans[number] = span
        return self._spans[number]

    def range(self, origin: Block, first: int, last: int | None) -> tuple[int, int | None]:
        """Block numbers ``start`` and ``stop`` (exclusive; ``None``: to the end) around rounds
        ``first..last``: from the block before the one holding ``first`` (whose root that one links
        to) to the block after the one holding ``last`` (whose footer carries the state hash after
        it). ``origin`` is the folder's first block."""
        previous, holding = self._first_where(origin, lambda span: span[1] >= first, first)
        start = holding if previous is None else previous
        found = self.block(holding)
        if last is None or found is None:
            return start, None
        _, after = self._first_where(found, lambda span: span[0] > last, last + 1)
        following = self.block(max(after, self._number_of(found) + 1))
        return start, None if following is None else self._number_of(following) + 1

    def _satisfies(self, number: int, predicate: Callable[[Span], bool]) -> tuple[bool, int]:
        """Does the first block at or after ``number`` satisfy ``predicate`` (none left: yes)?
        On a miss, also that block's number: every number up to it misses too."""
        block = self.block(number)
        if block is None or predicate(self.span(block)):
            return True, number
        return False, self._number_of(block)

    def _first_where(self, origin: Block, predicate: Callable[[Span], bool], round_number: int) -> tuple[int | None, int]:
        """The smallest number whose first block at or after it satisfies ``predicate`` (monotonic
        in the block number), searched from ``origin`` on; and the block just before it, which
        misses (``None`` when ``origin`` itself satisfies)."""
        low = self._number_of(origin)
        first_round, last_round = self.span(origin)
        if predicate((first_round, last_round)):
            return None, low
        per_block = max(1, last_round - first_round + 1)
        guess = low + max(1, (round_number - first_round) // per_block)
        hit, reached = self._satisfies(guess, predicate)
        if hit:  # gallop back from the guess
            high, step = guess, 1
            while high - step > low:
                hit, reached = self._satisfies(high - step, predicate)
                if not hit:
                    low = reached
                    break
                high, step = high - step, step * 2
        else:  # gallop forward
            low, step = reached, 1
            while True:
                hit, reached = self._satisfies(low + step, predicate)
                if hit:
                    high = low + step
                    break
                low, step = reached, step * 2
        # low: a block that misses; no number in low+1..high-1 is known to hit
        while high - low > 1:
            middle = (low + high) // 2
            hit, reached = self._satisfies(middle, predicate)
            high, low = (middle, low) if hit else (high, reached)
        return low, high
