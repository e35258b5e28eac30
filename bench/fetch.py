"""Fetch throughput from a local S3 server (SeaweedFS on 127.0.0.1), three ways in one run.

2,000 synthetic block files of about 50 KB are put in a bucket; then each contender copies all
of them to a local folder, 32 transfers in parallel:

- ``rclone copy --transfers 32`` (Debian package rclone; the usual shell-script baseline);
- the raw client library: obstore ``get`` calls, 32 at a time (no checks, no cache);
- hiero-replay's preflight from the bucket: list, download, decode and verify every block and its
  hash chain, and write each verified copy atomically into the cache.

Also: the wall time of a bucket-sourced simulated replay against the same replay from a warm cache.

    python -m bench.fetch [--files 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import obstore
from obstore.store import S3Store

# Only 127.0.0.1 is talked to: static credentials keep every client off cloud metadata services.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.object_servers import SeaweedS3  # noqa: E402 - the same server the tests use

from hiero_replay.config import BucketsConfig, load_settings  # noqa: E402
from hiero_replay.inventory import open_stream_source, scan_source  # noqa: E402
from hiero_replay.streams.compression import compress  # noqa: E402
from hiero_replay.streams.naming import Compression, block_file_name  # noqa: E402
from hiero_replay.streams.writers import generate_rounds, write_block_stream  # noqa: E402

WORKERS = 32


def populate(server: SeaweedS3, bucket: str, files: int) -> list[str]:
    server.create_bucket(bucket)
    rounds = generate_rounds(1, files * 2, start_time_ns=1_767_225_600 * 10**9, events_per_round=6, transactions_per_event=2, transaction_size=2100)
    keys = []
    with ThreadPoolExecutor(16) as pool:
        for block in write_block_stream(rounds, rounds_per_block=2):
            key = f"blocks/{block_file_name(block.number)}"
            pool.submit(server.put, bucket, key, compress(block.data, Compression.GZIP))
            keys.append(key)
    return keys


def rclone(server: SeaweedS3, bucket: str, target: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(RCLONE_CONFIG_SW_TYPE="s3", RCLONE_CONFIG_SW_PROVIDER="SeaweedFS", RCLONE_CONFIG_SW_ENDPOINT=server.endpoint,
               RCLONE_CONFIG_SW_ACCESS_KEY_ID="any", RCLONE_CONFIG_SW_SECRET_ACCESS_KEY="any", RCLONE_CONFIG_SW_FORCE_PATH_STYLE="true")
    started = time.perf_counter()
    subprocess.run(["rclone", "copy", "--transfers", str(WORKERS), "--checkers", str(WORKERS), f"sw:{bucket}/blocks", str(target)],
                   check=True, env=env, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def raw_library(server: SeaweedS3, bucket: str, keys: list[str], target: Path) -> float:
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

    started = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started


def ours(server: SeaweedS3, bucket: str, keys: list[str], work: Path) -> float:
    """The preflight from a bucket: list, download (32 at a time), decode and verify every block and
    its links, and keep each verified copy in the cache."""
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    settings = load_settings(None, {"buckets": BucketsConfig(allow_http=True, path_style=True, anonymous=True).model_dump(mode="json"), "work_dir": str(work)})
    source = open_stream_source(f"s3://{bucket}/blocks", settings)
    started = time.perf_counter()
    inventory = scan_source(source, workers=WORKERS)
    elapsed = time.perf_counter() - started
    if not inventory.ok or len(inventory.block_files) != len(keys):
        raise SystemExit(f"the preflight did not verify the bucket: {inventory.problems[:3]}")
    return elapsed


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
    config.write_text("[buckets]\nallow_http = true\npath_style = true\nanonymous = true\n")
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
                "rclone copy --transfers 32": rclone(server, "bench", folder / "rclone"),
                "raw obstore get x32": raw_library(server, "bench", keys, folder / "raw"),
                "hiero-replay preflight (verified, cached) x32": ours(server, "bench", keys, folder / "ours"),
            }
            megabytes = sum(p.stat().st_size for p in (folder / "raw").iterdir()) / 1e6
            cold, warm = replay_cold_and_warm(server, folder)
        finally:
            server.stop()
    print(f"{len(keys)} block files, {megabytes:.0f} MB, from SeaweedFS S3 on 127.0.0.1")
    for name, seconds in results.items():
        print(f"  {name:<44} {seconds:6.2f} s  {len(keys) / seconds:7.0f} files/s")
    ours_rate = len(keys) / results["hiero-replay preflight (verified, cached) x32"]
    print(f"ratio vs rclone: {ours_rate / (len(keys) / results['rclone copy --transfers 32']):.2f} (target >= 2)")
    print(f"ratio vs raw library: {ours_rate / (len(keys) / results['raw obstore get x32']):.2f} (target >= 0.9)")
    print(f"simulated replay of 1,590 rounds: from the bucket {cold:.2f} s, from the warm cache {warm:.2f} s (ratio {cold / warm:.2f})")


if __name__ == "__main__":
    main()
