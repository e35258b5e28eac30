"""Synthetic stream folders for tests, written with the project's own writers."""

from __future__ import annotations

from pathlib import Path

from hiero_replay.streams.compression import compress
from hiero_replay.streams.naming import Compression, block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream, write_event_stream

START_NS = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z


def write_events(folder: Path, first_round: int, count: int, **options: int) -> list[Path]:
    """Synthetic event files for ``count`` rounds; returns their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    start = options.pop("start_time_ns", START_NS)
    paths = []
    for written in write_event_stream(generate_rounds(first_round, count, start_time_ns=start, **options)):
        path = folder / written.name
        path.write_bytes(written.data)
        paths.append(path)
    return paths


def write_blocks(
    folder: Path,
    first_round: int,
    count: int,
    *,
    rounds_per_block: int = 5,
    compression: Compression = Compression.GZIP,
    **options: int,
) -> list[Path]:
    """Synthetic A4 block files from block 0 for ``count`` rounds; returns their paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    start = options.pop("start_time_ns", START_NS)
    paths = []
    rounds = generate_rounds(first_round, count, start_time_ns=start, **options)
    for block in write_block_stream(rounds, rounds_per_block=rounds_per_block):
        path = folder / block_file_name(block.number, compression)
        path.write_bytes(compress(block.data, compression))
        paths.append(path)
    return paths
