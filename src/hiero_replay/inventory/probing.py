"""Find the blocks of a round range in a local folder by name: no listing, a few ``stat`` calls.

In a folder of fixed-width block names (``%036d.blk.gz``, 19 digits, or the nested
``AAAA/BBBB/CCCC/DDDD/EEE`` layout) the key of block ``n`` is known without looking, so a block is
probed by name (``ProbingSource.probe``) instead of listing a million of them. One look at the folder
(a few entries, in directory order) gives some block and the layout; from its rounds per block a
guess, then galloping and bisection over block numbers, find the block holding the first round and
the one past the last: O(log n) probes and block reads, plus the range's own blocks.

The numbers in a folder are dense, but nothing proves it without a listing, so the result is used
only when it proves itself: every block of the range is there, the block before the first one is
there (or it is block 0), and the range's rounds are covered. Otherwise (a gap, the range running
past either end of the folder, a block that does not tell its rounds, a layout not recognised)
``None``: the caller lists the folder, which reports exactly what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..sources.base import ProbingSource, SourceObject
from ..streams.naming import Compression, FileKind, StreamFileName, parse_stream_file_name
from .block_search import Unsearchable
from .reading import Listed, read_stream_file

Span = tuple[int, int]
_NESTED_FOLDER = re.compile(r"\d{4}", re.ASCII)
_FLAT = re.compile(r"(\d{19}|\d{36})\.blk(\.gz|\.zstd)?", re.ASCII)
#: Entries of a folder looked at to recognise its layout.
SAMPLE = 64


def _layout_example(source: ProbingSource) -> StreamFileName | None:
    """Some block of the folder, from a look at a few entries (descending the nested layout's
    four levels of 4-digit folders); ``None`` when they show anything else (event files, other names)."""
    folder = ""
    for _ in range(5):
        entries = source.sample(folder, SAMPLE)
        files = [name for name, is_folder in entries if not is_folder and not name.startswith(".")]
        prefix = f"{folder}/" if folder else ""
        for name in files:
            parsed = parse_stream_file_name(prefix + name)
            if parsed is not None and parsed.kind is FileKind.BLOCK and (_FLAT.fullmatch(name) or folder.count("/") == 3):
                return parsed if _key_of(parsed, parsed.sort_key[0]) == parsed.key else None
            if parsed is not None or ".evts" in name:
                return None  # event files, or blocks named otherwise: not a folder of fixed-width block names
        folders = [name for name, is_folder in entries if is_folder and _NESTED_FOLDER.fullmatch(name)]
        if not folders or files or folder.count("/") == 3:
            return None
        folder = prefix + folders[0]
    return None


def _key_of(example: StreamFileName, number: int, compression: Compression | None = None) -> str | None:
    """The key block ``number`` has in the folder of ``example`` (``None`` past the layout's width)."""
    extension = ".blk" + (example.compression if compression is None else compression).value
    name = example.name
    if _FLAT.fullmatch(name):
        width = len(name.split(".", 1)[0])
        return f"{number:0{width}d}{extension}" if number < 10**width else None
    if number >= 10**19:
        return None
    digits = f"{number:019d}"
    return f"{digits[0:4]}/{digits[4:8]}/{digits[8:12]}/{digits[12:16]}/{digits[16:19]}{extension}"


class NamedBlocks:
    """Blocks by number, each looked up by its constructed name (the example's compression first,
    then the others), read for its rounds when needed; every lookup and read is kept."""

    def __init__(self, source: ProbingSource, example: StreamFileName) -> None:
        self.source = source
        self.example = example
        self._found: dict[int, Listed | None] = {}
        self._spans: dict[int, Span] = {}
        self.skipped: list[SourceObject] = []
        order = [example.compression, *(c for c in Compression if c is not example.compression)]
        self._compressions = order

    def get(self, number: int) -> Listed | None:
        if number < 0:
            return None
        if number not in self._found:
            self._found[number] = self._look_up(number)
        return self._found[number]

    def _look_up(self, number: int) -> Listed | None:
        for compression in self._compressions:
            key = _key_of(self.example, number, compression)
            if key is None:
                return None
            found = self.source.probe(key)
            if found is not None and found.skipped is not None:
                self.skipped.append(found)
                raise Unsearchable(number)  # a link out of the folder, a FIFO: the listing reports it
            if found is not None:
                name = parse_stream_file_name(key)
                assert name is not None
                return name, found.size
        return None

    def span(self, number: int) -> Span:
        if number not in self._spans:
            entry = self.get(number)
            if entry is None:
                raise Unsearchable(number)
            read = read_stream_file(self.source, *entry)
            if read.first_round is None or read.last_round is None:
                raise Unsearchable(number)
            self._spans[number] = (read.first_round, read.last_round)
        return self._spans[number]

    def first_true(self, test: Callable[[int], bool], low: int, high: int | None, guess: int) -> int:
        """The smallest number in ``low+1..high`` where ``test`` holds, for ``test`` false up to
        some number and true after it, known false at ``low`` and true at ``high`` (``None``: not
        known yet). From ``guess``, gallop away, then bisect."""
        guess = max(low + 1, guess if high is None else min(high, guess))
        if (high is not None and guess >= high) or test(guess):
            high, step = guess, 1
            while high - step > low:  # gallop back from the guess
                if not test(high - step):
                    low = high - step
                    break
                high, step = high - step, step * 2
        else:
            low, step = guess, 1
            while high is None or low + step < high:  # gallop forward
                if test(low + step):
                    high = low + step
                    break
                low, step = low + step, step * 2
        assert high is not None
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if test(middle) else (middle, high)
        return high

    def first_where(self, origin: int, predicate: Callable[[Span], bool], round_number: int) -> int:
        """The first block number whose rounds satisfy ``predicate`` (false, then true as numbers
        grow), or the number past the folder's last block when none does; searched from ``origin``
        with a guess from its rounds per block."""
        first_round, last_round = self.span(origin)
        guess = origin + (round_number - first_round) // max(1, last_round - first_round + 1)
        if predicate((first_round, last_round)):  # at or before origin; before the folder: false
            return self.first_true(lambda n: self.get(n) is not None and predicate(self.span(n)), -1, origin, min(origin, guess))
        return self.first_true(lambda n: self.get(n) is None or predicate(self.span(n)), origin, None, max(origin + 1, guess))


def probe_block_range(source: ProbingSource, first: int, last: int) -> list[Listed] | None:
    """The blocks from the one before the block holding round ``first`` to the block after the one
    holding round ``last`` (when there is one: its footer carries the state hash after the range),
    found by name; ``None`` when that cannot be proven without a listing."""
    example = _layout_example(source)
    if example is None:
        return None
    blocks = NamedBlocks(source, example)
    origin = example.sort_key[0]
    try:
        holding = blocks.first_where(origin, lambda span: span[1] >= first, first)
        if blocks.get(holding) is None:
            return None  # the range starts after the folder's last block
        stop = blocks.first_where(holding, lambda span: span[0] > last, last + 1)
        start = holding - 1 if holding > 0 else holding
        found = [blocks.get(number) for number in range(start, max(stop, holding + 1))]
        if any(entry is None for entry in found):
            return None  # a gap, or no block before the first one (the folder may start earlier)
        if blocks.get(stop) is None and blocks.span(stop - 1)[1] < last:
            return None  # the range runs past the folder's last block
        if holding == 0 and blocks.span(0)[0] > first:
            return None  # rounds before block 0: the coverage check says which
        following = blocks.get(max(stop, holding + 1))
    except Unsearchable:
        return None
    return [entry for entry in (*found, following) if entry is not None]
