"""Preflight verification throughput against the same run's limit.

The limit is what any verifier must at least do: decompress every ``.blk.gz`` and run one SHA-384
pass over the decompressed bytes, with the fastest inflater the project has (zlib-ng, as the
preflight: a slower one in the limit alone would flatter the ratio). The preflight is
``scan_source``: list, order, decompress, decode every block, hash every item into its root hash
and check every link. Both run over the same warm
files with the same number of threads; the ratio is limit time / preflight time (1.0 = no overhead),
taken in each iteration from the limit and the preflight measured back to back (so load on the
machine hits both alike), and shown as min/median/max over the iterations.

    python -m bench.preflight [--size-mb 1024] [--workers 4] [--dir bench/out/preflight]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from zlib_ng import zlib_ng

from hiero_replay.inventory import scan_source
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams.naming import block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream

ROUNDS_PER_BLOCK = 5
ROUND_SHAPE = {"events_per_round": 6, "transactions_per_event": 3, "transaction_size": 1000}


def ensure_blocks(folder: Path, size_mb: int) -> list[Path]:
    """Write synthetic blocks until the folder holds ``size_mb`` of .blk.gz (reused across runs)."""
    marker = folder / f".complete-{size_mb}mb"
    if marker.exists():
        return sorted(folder.glob("*.blk.gz"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("*.blk.gz"), *folder.glob(".complete-*")]:
        stale.unlink()
    target = size_mb * 1024 * 1024
    written = 0
    paths = []
    rounds = generate_rounds(1, 10**9, start_time_ns=1_767_225_600 * 10**9, **ROUND_SHAPE)
    for block in write_block_stream(rounds, rounds_per_block=ROUNDS_PER_BLOCK):
        path = folder / block_file_name(block.number)
        data = gzip.compress(block.data, compresslevel=6, mtime=0)
        path.write_bytes(data)
        paths.append(path)
        written += len(data)
        if written >= target:
            break
    marker.touch()
    return paths


def limit(paths: list[Path], workers: int) -> float:
    def work(path: Path) -> bytes:
        return hashlib.sha384(zlib_ng.decompress(path.read_bytes(), wbits=31)).digest()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(work, paths):
            pass
    return time.perf_counter() - start


def preflight(folder: Path, workers: int) -> float:
    start = time.perf_counter()
    inventory = scan_source(LocalDirSource(folder), workers=workers)
    elapsed = time.perf_counter() - start
    if not inventory.ok or inventory.hash_chain != "verified":
        raise SystemExit(f"preflight did not verify the synthetic set: {inventory.problems[:3]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("bench/out/preflight"))
    args = parser.parse_args()

    paths = ensure_blocks(args.dir, args.size_mb)
    compressed = sum(p.stat().st_size for p in paths)
    limit(paths, args.workers)  # warm the page cache
    limits, preflights = [], []
    for _ in range(args.repeat):  # each iteration measures the limit and the preflight back to back
        limits.append(limit(paths, args.workers))
        preflights.append(preflight(args.dir, args.workers))
    mb = compressed / 1e6
    ratios = [lim / pre for lim, pre in zip(limits, preflights, strict=True)]

    def spread(values: list[float], unit: str = "") -> str:
        return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}{unit}"

    print(f"files: {len(paths)} .blk.gz, {mb:.0f} MB compressed, workers={args.workers}; min/median/max of {args.repeat} iterations")
    print(f"limit (gunzip + one SHA-384 pass): {spread([mb / t for t in limits], ' MB/s')}")
    print(f"preflight (scan_source, verified):  {spread([mb / t for t in preflights], ' MB/s')}")
    print(f"ratio preflight/limit throughput, same iteration: {spread(ratios)}  (target >= 0.70)")


if __name__ == "__main__":
    main()
