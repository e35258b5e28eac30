"""Fetch throughput from a local S3 server (SeaweedFS on 127.0.0.1), three ways in one run.

2,000 synthetic block files of about 50 KB are put in a bucket; then each contender copies all
of them to a local folder, 32 transfers in parallel:

- ``rclone copy --transfers 32`` (Debian package rclone; the usual shell-script baseline);
- the raw client library: obstore ``get`` calls, 32 at a time (no checks, no cache);
- hiero-replay's preflight from the bucket: list, download, decode and verify every block and its
  hash chain, and write each verified copy atomically into the cache.

Each contender's CPU time (its own, and the server's) is measured too, and so is the CPU time of
verification alone (decompress, decode and hash every block, one thread). Our preflight does the raw
copy's work plus verification, so on C cores its wall time is at least (raw CPU + verification
CPU) / C: the bench prints that bound next to the ratios.

Also: the wall time of a bucket-sourced simulated replay against the same replay from a warm cache.

    python -m bench.fetch [--files 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import obstore
from obstore.store import S3Store

# Only 127.0.0.1 is talked to: static credentials keep every client off cloud metadata services.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.object_servers import SeaweedS3

from hiero_replay.config import BucketsConfig, load_settings
from hiero_replay.inventory import open_stream_source, scan_source
from hiero_replay.streams.blocks import read_block
from hiero_replay.streams.compression import compress, decompress
from hiero_replay.streams.naming import Compression, block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream

WORKERS = 32


@dataclass
class Measured:
    wall: float
    client_cpu: float
    server_cpu: float

    @property
    def cpu(self) -> float:
        return self.client_cpu + self.server_cpu


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(server: SeaweedS3, action: Callable[[], object], *, in_child: bool = False) -> Measured:
    """Wall time and CPU of ``action`` (this process's, or its finished children's) and of the server."""
    client = children_cpu if in_child else time.process_time
    server_before, client_before, started = process_cpu(server.process.pid), client(), time.perf_counter()
    action()
    wall = time.perf_counter() - started
    return Measured(wall, client() - client_before, process_cpu(server.process.pid) - server_before)


def populate(server: SeaweedS3, bucket: str, files: int) -> list[str]:
    server.create_bucket(bucket)
    rounds = generate_rounds(
        1, files * 2, start_time_ns=1_767_225_600 * 10**9, events_per_round=6, transactions_per_event=2, transaction_size=2100
    )
    keys = []
    with ThreadPoolExecutor(16) as pool:
        for block in write_block_stream(rounds, rounds_per_block=2):
            key = f"blocks/{block_file_name(block.number)}"
            pool.submit(server.put, bucket, key, compress(block.data, Compression.GZIP))
            keys.append(key)
    return keys


def rclone(server: SeaweedS3, bucket: str, target: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(
        RCLONE_CONFIG_SW_TYPE="s3",
        RCLONE_CONFIG_SW_PROVIDER="SeaweedFS",
        RCLONE_CONFIG_SW_ENDPOINT=server.endpoint,
        RCLONE_CONFIG_SW_ACCESS_KEY_ID="any",
        RCLONE_CONFIG_SW_SECRET_ACCESS_KEY="any",
        RCLONE_CONFIG_SW_FORCE_PATH_STYLE="true",
    )
    subprocess.run(["rclone", "copy", "--transfers", str(WORKERS), "--checkers", str(WORKERS), f"sw:{bucket}/blocks", str(target)],
                   check=True, env=env, capture_output=True)  # fmt: skip


def raw_library(server: SeaweedS3, bucket: str, keys: list[str], target: Path) -> None:
    store = S3Store(bucket, config={"endpoint": server.endpoint, "region": "us-east-1", "virtual_hosted_style_request": False,
                                    "skip_signature": True}, client_options={"allow_http": True})  # fmt: skip
    target.mkdir(parents=True)

    async def main() -> None:
        limit = asyncio.Semaphore(WORKERS)

        async def one(key: str) -> None:
            async with limit:
                data = await (await obstore.get_async(store, key)).bytes_async()
                (target / key.rsplit("/", 1)[1]).write_bytes(bytes(data))

        await asyncio.gather(*(one(key) for key in keys))

    asyncio.run(main())


def ours(server: SeaweedS3, bucket: str, keys: list[str], work: Path) -> None:
    """The preflight from a bucket: list, download (32 at a time), decode and verify every block and
    its links, and keep each verified copy in the cache."""
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    settings = load_settings(
        None, {"buckets": BucketsConfig(allow_http=True, anonymous=True).model_dump(mode="json"), "work_dir": str(work)}
    )
    source = open_stream_source(f"s3://{bucket}/blocks", settings)
    inventory = scan_source(source, workers=WORKERS)
    if not inventory.ok or len(inventory.block_files) != len(keys):
        raise SystemExit(f"the preflight did not verify the bucket: {inventory.problems[:3]}")


def verification_cpu(folder: Path) -> float:
    """CPU seconds to decompress, decode and hash every block of ``folder``, in one thread, from memory."""
    blobs = [path.read_bytes() for path in sorted(folder.iterdir())]
    started = time.process_time()
    for blob in blobs:
        read_block(decompress(blob, Compression.GZIP, name="bench"), name="bench")
    return time.process_time() - started


def replay_cold_and_warm(server: SeaweedS3, folder: Path) -> tuple[float, float]:
    """The same simulated replay twice from one work directory: first from the bucket, then from the warm cache."""
    from hiero_replay.simulate.history import write_history

    history = write_history(folder / "history", bootstrap_round=10, cutover_round=400, target_round=1600, rounds_per_block=10)
    server.create_bucket("history")
    with ThreadPoolExecutor(16) as pool:
        for path in [p for p in history.blocks_dir.iterdir()] + [p for p in history.events_dir.iterdir()]:
            prefix = "blocks/" if path.parent == history.blocks_dir else "events/"
            pool.submit(server.put, "history", prefix + path.name, path.read_bytes())
    config = folder / "buckets.toml"
    config.write_text("[buckets]\nallow_http = true\nanonymous = true\n")
    env = {**os.environ, "AWS_ENDPOINT_URL": server.endpoint}
    timings = []
    for attempt in ("cold", "warm"):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "hiero_replay", "run", "--simulate", "--config", str(config), "--events", "s3://history/events",
             "--blocks", "s3://history/blocks", "--bootstrap-state", str(history.bootstrap_state), "--node-id", "3",
             "--work-dir", str(folder / "replay-work"), "--out", str(folder / f"out-{attempt}")],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        timings.append(time.perf_counter() - started)
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        server = SeaweedS3(folder / "seaweed")
        try:
            keys = populate(server, "bench", args.files)
            results = {
                "rclone copy --transfers 32": measure(server, lambda: rclone(server, "bench", folder / "rclone"), in_child=True),
                "raw obstore get x32": measure(server, lambda: raw_library(server, "bench", keys, folder / "raw")),
                "hiero-replay preflight (verified, cached) x32": measure(server, lambda: ours(server, "bench", keys, folder / "ours")),
            }
            megabytes = sum(p.stat().st_size for p in (folder / "raw").iterdir()) / 1e6
            verification = verification_cpu(folder / "raw")
            cold, warm = replay_cold_and_warm(server, folder)
        finally:
            server.stop()
    cores = os.cpu_count() or 1
    print(f"{len(keys)} block files, {megabytes:.0f} MB, from SeaweedFS S3 on 127.0.0.1; {cores} cores")
    print(f"  {'':<46} {'wall':>7} {'files/s':>8} {'own CPU':>8} {'server CPU':>11}")
    for name, result in results.items():
        print(f"  {name:<46} {result.wall:6.2f}s {len(keys) / result.wall:8.0f} {result.client_cpu:7.2f}s {result.server_cpu:10.2f}s")
    rclone_run, raw, ours_run = results.values()
    print(f"ratio vs rclone: {rclone_run.wall / ours_run.wall:.2f} (target >= 2)")
    print(f"ratio vs raw library: {raw.wall / ours_run.wall:.2f} (target >= 0.9)")
    floor = (raw.cpu + verification) / cores
    print(f"verification alone: {verification:.2f} CPU-s; our wall time is at least (raw CPU {raw.cpu:.2f} s + {verification:.2f} s) / "
          f"{cores} cores = {floor:.2f} s, so ratio vs raw <= {raw.wall / max(floor, raw.wall):.2f} here")  # fmt: skip
    print(f"simulated replay of 1,590 rounds: from the bucket {cold:.2f} s, from the warm cache {warm:.2f} s (ratio {cold / warm:.2f})")


if __name__ == "__main__":
    main()
