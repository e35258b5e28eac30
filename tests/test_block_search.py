"""BlockSearch finds the same blocks as a scan of every block, in a few probes."""

from __future__ import annotations

import random
from bisect import bisect_left

import pytest

from hiero_replay.inventory.block_search import BlockSearch, Unsearchable

#: (block number, first round, last round)
Block = tuple[int, int, int]


def folder(seed: int) -> list[Block]:
    """Blocks from a random first number, with random sizes in rounds and a few missing blocks."""
    rng = random.Random(seed)
    blocks, number, round_number = [], rng.randrange(0, 50), rng.randrange(1, 100)
    for _ in range(rng.randrange(1, 400)):
        size = rng.choice([1, 1, 2, 3, 7])
        blocks.append((number, round_number, round_number + size - 1))
        number += 1 if rng.random() > 0.03 else rng.randrange(2, 6)
        round_number += size
    return blocks


def search(blocks: list[Block]) -> tuple[BlockSearch[Block], list[int]]:
    numbers = [block[0] for block in blocks]
    reads: list[int] = []

    def at_or_after(number: int) -> Block | None:
        index = bisect_left(numbers, number)
        return blocks[index] if index < len(blocks) else None

    def rounds_of(block: Block) -> tuple[int, int]:
        reads.append(block[0])
        return block[1], block[2]

    return BlockSearch(at_or_after, lambda block: block[0], rounds_of), reads


def scanned(blocks: list[Block], first: int, last: int | None) -> list[Block]:
    """What a scan of every block selects: the one before the block holding ``first`` through the
    block after the one holding ``last`` (at least the block after the one holding ``first``)."""
    holding = next((i for i, block in enumerate(blocks) if block[2] >= first), len(blocks))
    after = len(blocks) if last is None else next((i for i, block in enumerate(blocks) if block[1] > last), len(blocks))
    return blocks[max(0, holding - 1) : max(after, holding + 1) + 1]


def selected(blocks: list[Block], start: int, stop: int | None) -> list[Block]:
    return [block for block in blocks if block[0] >= start and (stop is None or block[0] < stop)]


@pytest.mark.parametrize("seed", range(60))
def test_the_search_selects_what_a_full_scan_selects(seed: int) -> None:
    blocks = folder(seed)
    rng = random.Random(seed)
    low, high = blocks[0][1] - 5, blocks[-1][2] + 5
    for _ in range(20):
        first = rng.randrange(low, high)
        last = rng.choice([None, first + rng.randrange(0, 40)])
        finder, _ = search(blocks)
        assert selected(blocks, *finder.range(blocks[0], first, last)) == scanned(blocks, first, last), (first, last)


def test_evenly_sized_blocks_take_a_handful_of_reads() -> None:
    blocks = [(number, 1 + 2 * number, 2 + 2 * number) for number in range(1_000_000)]  # a month of blocks
    finder, reads = search(blocks)
    start, stop = finder.range(blocks[0], 1_234_567, 1_236_000)
    assert (start, stop) == (617_282, 618_001)
    assert len(set(reads)) <= 8


def test_a_block_that_does_not_tell_its_rounds_stops_the_search() -> None:
    blocks = [(number, number, number) for number in range(100)]
    finder = BlockSearch(
        lambda n: blocks[n] if n < 100 else None, lambda block: block[0], lambda block: None if block[0] == 50 else block[1:]
    )
    with pytest.raises(Unsearchable):
        finder.range(blocks[0], 50, 60)
