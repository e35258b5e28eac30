"""Large synthetic block folders for the scale benches, generated once and cached under ``bench/out/``.

Blocks are as small as a valid chained A4 block gets (one round, one event, one small transaction:
about 0.5 KB gzip), so a folder of 1,000,000 blocks takes minutes to write, not hours.

    python -m bench.bigfolder --blocks 1000000 [--dir bench/out/blocks-1000000]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

from hiero_replay.streams.naming import block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream

ROUND_SHAPE = {"events_per_round": 1, "transactions_per_event": 1, "transaction_size": 64}
START_TIME_NS = 1_767_225_600 * 10**9


def folder_for(blocks: int, root: Path = Path("bench/out")) -> Path:
    return root / f"blocks-{blocks}"


def ensure_folder(blocks: int, folder: Path | None = None) -> Path:
    """A folder of ``blocks`` chained blocks ``%036d.blk.gz`` (block n holds round n + 1); reused
    when its completion marker is there."""
    folder = folder or folder_for(blocks)
    marker = folder / ".complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rounds = generate_rounds(1, blocks, start_time_ns=START_TIME_NS, **ROUND_SHAPE)
    for block in write_block_stream(rounds, rounds_per_block=1):
        descriptor = os.open(folder / block_file_name(block.number), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(descriptor, gzip.compress(block.data, compresslevel=1, mtime=0))
        finally:
            os.close(descriptor)
        if block.number % 100_000 == 99_999:
            print(f"  {block.number + 1} blocks written ({time.monotonic() - started:.0f} s)", flush=True)
    marker.touch()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    print(ensure_folder(args.blocks, args.dir))


if __name__ == "__main__":
    main()
