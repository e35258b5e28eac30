"""Writes into a full object cache, against the same writes into a cache that never evicts.

A cache of ``--files`` small files (``--size`` bytes each, in folders of 1,000, as block keys are)
is filled to its bound and counted; then the writer puts a quarter of that again, in the preflight's
one reading thread. Past the bound, every tenth of it written starts a count of the whole cache and
an eviction. The baseline is the same writes into the same cache with a bound it never reaches
(counted once, never evicting). Per iteration: the writer's time for all its writes, full over
baseline (1.0: the counts cost the writer nothing), the slowest write of each, and how long one
walk of the full cache takes (what one write would wait if it counted the whole cache at once);
min/median/max over the iterations.

    python -m bench.cache [--files 200000] [--size 1024] [--repeat 3] [--dir bench/out/cache]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hiero_replay.sources.cache import FileCache
from hiero_replay.sources.cache_count import CacheCount

URL = "s3://bench/blocks"


@dataclass
class Writes:
    seconds: float
    slowest: float


def prefill(root: Path, files: int, size: int) -> FileCache:
    """A cache at ``root`` holding ``files`` of ``size`` bytes, counted, bounded at that."""
    shutil.rmtree(root, ignore_errors=True)
    cache = FileCache(root, max_bytes=files * size)
    data = bytes(size)
    for number in range(files):
        path = cache.path_for(URL, f"old/{number // 1000:05d}/{number:012d}")
        if number % 1000 == 0:
            path.parent.mkdir(parents=True)
        path.write_bytes(data)
    cache.put(URL, "first", data)  # starts the first count...
    cache.settle()  # ...and waits for it
    return cache


def write(cache: FileCache, files: int, size: int) -> Writes:
    """``files`` new files written one after the other, as the preflight's reading thread does."""
    data = bytes(size)
    slowest = 0.0
    started = time.perf_counter()
    for number in range(files):
        before = time.perf_counter()
        cache.put(URL, f"new/{number // 1000:05d}/{number:012d}", data)
        slowest = max(slowest, time.perf_counter() - before)
    seconds = time.perf_counter() - started
    cache.settle()
    return Writes(seconds, slowest)


def one_walk(root: Path) -> float:
    started = time.perf_counter()
    CacheCount(root, bound=sys.maxsize, spared_from=None).advance(sys.maxsize, 0)
    return time.perf_counter() - started


def spread(values: list[float], digits: int = 2) -> str:
    return "/".join(f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("bench/out/cache"))
    options = parser.parse_args()
    new_files = options.files // 4
    ratios, full_seconds, baseline_seconds, full_slowest, baseline_slowest, walks = [], [], [], [], [], []
    for iteration in range(options.repeat):
        baseline_cache = prefill(options.dir / "baseline", options.files, options.size)
        baseline_cache.max_bytes = 10**15
        baseline = write(baseline_cache, new_files, options.size)
        full_cache = prefill(options.dir / "full", options.files, options.size)
        walks.append(one_walk(full_cache.root))
        full = write(full_cache, new_files, options.size)
        ratios.append(full.seconds / baseline.seconds)
        full_seconds.append(full.seconds)
        baseline_seconds.append(baseline.seconds)
        full_slowest.append(full.slowest * 1000)
        baseline_slowest.append(baseline.slowest * 1000)
        print(
            f"iteration {iteration + 1}: {new_files:,} writes into a full cache of {options.files:,} files "
            f"{full.seconds:.2f} s (slowest {full.slowest * 1000:.1f} ms), into a cache that never evicts "
            f"{baseline.seconds:.2f} s (slowest {baseline.slowest * 1000:.1f} ms); one walk of the cache {walks[-1]:.2f} s",
            flush=True,
        )
    shutil.rmtree(options.dir, ignore_errors=True)
    print(f"\nwrites into a full cache of {options.files:,} files ({options.size:,} bytes each), min/median/max of {options.repeat}:")
    print(f"  writer's time, full / never evicting:  {spread(ratios)}  ({spread(full_seconds)} s / {spread(baseline_seconds)} s)")
    print(f"  slowest write, ms, full:               {spread(full_slowest, 1)}")
    print(f"  slowest write, ms, never evicting:     {spread(baseline_slowest, 1)}")
    print(f"  one walk of the full cache, s:         {spread(walks)}")
    print(f"  (cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
