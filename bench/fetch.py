"""Fetch throughput from a local S3 server (SeaweedFS on 127.0.0.1), three ways in one run.

2,000 synthetic block files of about 50 KB are put in a bucket; then each contender copies all
of them to a local folder, 32 transfers in parallel:

- ``rclone copy --transfers 32`` (Debian package rclone; the usual shell-script baseline);
- the raw client library: obstore ``get`` calls, 32 at a time (no checks, no cache);
- hiero-replay's preflight from the bucket: list, download, decode and verify every block and its
  hash chain, and write each verified copy atomically into the cache;
- the same without decoding and verifying: its listing, downloads and cache writes alone.

Then the same through the tests' fault proxy with its latency fault (``--latency`` seconds per
request, plus up to ``--jitter``; in a process of its own, ``bench/latency_proxy.py``), as a real
bucket answers: rclone and the raw client at 32 and 128 transfers, ours held at 32 requests in
flight and ours adaptive (from 32, up to 256), and the raw client at the count ours reached.

Each contender's CPU time (its own, and the server's) is measured too, and so is the CPU time of
verification alone (decompress, decode and hash every block, one thread). Our preflight does the raw
copy's work plus verification, so on C cores its wall time is at least (raw CPU + verification
CPU) / C: the bench prints that bound next to the ratios.

Also: the wall time of a bucket-sourced simulated replay against the same replay from a warm cache.

    python -m bench.fetch [--files 2000] [--repeat 3] [--latency 0.05] [--jitter 0.005]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
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
from hiero_replay.sources.base import ReplaySource
from hiero_replay.sources.read_ahead import ReadAhead
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


def rclone(endpoint: str, bucket: str, target: Path, transfers: int = WORKERS) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    env.update(
        RCLONE_CONFIG_SW_TYPE="s3",
        RCLONE_CONFIG_SW_PROVIDER="SeaweedFS",
        RCLONE_CONFIG_SW_ENDPOINT=endpoint,
        RCLONE_CONFIG_SW_ACCESS_KEY_ID="any",
        RCLONE_CONFIG_SW_SECRET_ACCESS_KEY="any",
        RCLONE_CONFIG_SW_FORCE_PATH_STYLE="true",
    )
    subprocess.run(["rclone", "copy", "--transfers", str(transfers), "--checkers", str(transfers), f"sw:{bucket}/blocks", str(target)],
                   check=True, env=env, capture_output=True)  # fmt: skip


def raw_library(endpoint: str, bucket: str, keys: list[str], target: Path, in_flight: int = WORKERS) -> None:
    store = S3Store(bucket, config={"endpoint": endpoint, "region": "us-east-1", "virtual_hosted_style_request": False,
                                    "skip_signature": True}, client_options={"allow_http": True})  # fmt: skip
    target.mkdir(parents=True)

    async def main() -> None:
        limit = asyncio.Semaphore(in_flight)

        async def one(key: str) -> None:
            async with limit:
                data = await (await obstore.get_async(store, key)).bytes_async()
                (target / key.rsplit("/", 1)[1]).write_bytes(bytes(data))

        await asyncio.gather(*(one(key) for key in keys))

    asyncio.run(main())


def bucket_source(endpoint: str, bucket: str, work: Path, in_flight: int = WORKERS, cap: int = WORKERS) -> ReplaySource:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    options = BucketsConfig(allow_http=True, anonymous=True, download_workers=in_flight, max_requests_in_flight=cap)
    settings = load_settings(None, {"buckets": options.model_dump(mode="json"), "work_dir": str(work)})
    return open_stream_source(f"s3://{bucket}/blocks", settings)


def ours(endpoint: str, bucket: str, keys: list[str], work: Path, in_flight: int = WORKERS, cap: int = WORKERS) -> None:
    """The preflight from a bucket: list, download (``in_flight`` at a time, growing up to ``cap``),
    decode and verify every block and its links, and keep each verified copy in the cache."""
    inventory = scan_source(bucket_source(endpoint, bucket, work, in_flight, cap), workers=in_flight)
    if not inventory.ok or len(inventory.block_files) != len(keys):
        raise SystemExit(f"the preflight did not verify the bucket: {inventory.problems[:3]}")


def ours_unverified(endpoint: str, bucket: str, work: Path) -> None:
    """The preflight's listing, downloads and cache writes alone, without decoding or verifying."""
    source = bucket_source(endpoint, bucket, work)
    keys = [found.key for found in source.list()]
    with ReadAhead(source, keys, WORKERS) as downloads:
        for key in keys:
            downloads.remember(key, downloads.read(key))


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


def spread(values: list[float], digits: int = 2) -> str:
    return f"{min(values):.{digits}f}/{statistics.median(values):.{digits}f}/{max(values):.{digits}f}"


def loopback(server: SeaweedS3, keys: list[str], folder: Path) -> dict[str, Measured]:
    """One iteration on loopback (no latency: CPU-bound), 32 transfers each."""
    end = server.endpoint
    return {
        "rclone copy --transfers 32": measure(server, lambda: rclone(end, "bench", folder / "rclone"), in_child=True),
        "raw obstore get x32 (writes files)": measure(server, lambda: raw_library(end, "bench", keys, folder / "raw")),
        "hiero-replay preflight x32 (verified, cached)": measure(server, lambda: ours(end, "bench", keys, folder / "ours")),
        UNVERIFIED: measure(server, lambda: ours_unverified(end, "bench", folder / "unverified")),
    }


ADAPTIVE = "ours adaptive (32, up to 256)"
UNVERIFIED = "ours without verification (download, cache)"
AT_PEAK = "raw obstore at ours' peak"


def under_latency(server: SeaweedS3, keys: list[str], folder: Path, latency: float, jitter: float) -> tuple[dict[str, float], int]:
    """One iteration through the fault proxy's latency fault: wall seconds of each contender, and
    the most requests the adaptive preflight had in flight."""
    proxy = subprocess.Popen(
        [sys.executable, "-m", "bench.latency_proxy", server.endpoint, str(latency), str(jitter)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proxy.stdin is not None and proxy.stdout is not None
    end = proxy.stdout.readline().strip()

    def command(line: str) -> str:
        assert proxy.stdin is not None and proxy.stdout is not None
        proxy.stdin.write(line + "\n")
        proxy.stdin.flush()
        return proxy.stdout.readline().strip()

    walls: dict[str, float] = {}

    def timed(name: str, action: Callable[[], object]) -> None:
        started = time.perf_counter()
        action()
        walls[name] = time.perf_counter() - started

    try:
        timed("rclone --transfers 32", lambda: rclone(end, "bench", folder / "rclone-32", 32))
        timed("rclone --transfers 128", lambda: rclone(end, "bench", folder / "rclone-128", 128))
        timed("raw obstore x32", lambda: raw_library(end, "bench", keys, folder / "raw-32", 32))
        timed("raw obstore x128", lambda: raw_library(end, "bench", keys, folder / "raw-128", 128))
        timed("ours x32 (held at 32)", lambda: ours(end, "bench", keys, folder / "ours-32", 32, 32))
        command("reset")
        timed(ADAPTIVE, lambda: ours(end, "bench", keys, folder / "ours-adaptive", 32, 256))
        reached = int(command("peak"))
        timed(AT_PEAK, lambda: raw_library(end, "bench", keys, folder / "raw-peak", reached))
    finally:
        proxy.stdin.close()
        proxy.wait(timeout=30)
    return walls, reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request by the proxy")
    parser.add_argument("--jitter", type=float, default=0.005, help="up to this many more seconds, uniform")
    args = parser.parse_args()
    loops: list[dict[str, Measured]] = []
    delayed: list[dict[str, float]] = []
    peaks: list[float] = []
    verification: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        server = SeaweedS3(folder / "seaweed")
        try:
            keys = populate(server, "bench", args.files)
            for attempt in range(args.repeat):
                loops.append(loopback(server, keys, folder / f"loop-{attempt}"))
                walls, reached = under_latency(server, keys, folder / f"late-{attempt}", args.latency, args.jitter)
                delayed.append(walls)
                peaks.append(reached)
                verification.append(verification_cpu(folder / f"loop-{attempt}" / "raw"))
            megabytes = sum(p.stat().st_size for p in (folder / "loop-0" / "raw").iterdir()) / 1e6
            cold, warm = replay_cold_and_warm(server, folder)
        finally:
            server.stop()
    cores = os.cpu_count() or 1
    files = len(keys)
    print(f"{files} block files, {megabytes:.0f} MB, SeaweedFS S3 on 127.0.0.1; {cores} cores; min/median/max of {args.repeat} iterations")
    print("loopback (no latency: CPU-bound), 32 transfers:")
    print(f"  {'':<48} {'files/s':>18} {'own CPU s':>16} {'server CPU s':>16}")
    for name in loops[0]:
        rates = [files / loop[name].wall for loop in loops]
        print(f"  {name:<48} {spread(rates, 0):>18} {spread([loop[name].client_cpu for loop in loops]):>16}"
              f" {spread([loop[name].server_cpu for loop in loops]):>16}")  # fmt: skip
    rclone_name, raw_name, ours_name, _ = list(loops[0])
    print(f"  ours/raw (same iteration): {spread([loop[raw_name].wall / loop[ours_name].wall for loop in loops])} (target >= 0.8)")
    print(f"  ours without verification / raw: {spread([loop[raw_name].wall / loop[UNVERIFIED].wall for loop in loops])}")
    print(f"  ours/rclone (same iteration): {spread([loop[rclone_name].wall / loop[ours_name].wall for loop in loops])}")
    floors = [(loop[raw_name].cpu + v) / cores for loop, v in zip(loops, verification, strict=True)]
    bound = [loop[raw_name].wall / max(f, loop[raw_name].wall) for loop, f in zip(loops, floors, strict=True)]
    print(f"  verification alone {spread(verification)} CPU-s; ours takes at least (raw CPU + verification) / {cores} cores ="
          f" {spread(floors)} s, so ours/raw <= {spread(bound)} on this machine")  # fmt: skip
    print(f"through the proxy's latency fault ({args.latency * 1000:.0f} ms + up to {args.jitter * 1000:.0f} ms per request):")
    for name in delayed[0]:
        print(f"  {name:<48} {spread([files / walls[name] for walls in delayed], 0):>18} files/s")
    print(f"  ours adaptive reached {spread(peaks, 0)} requests in flight (raw at ours' peak used the same count)")

    def ratio(ours_name: str, other: str) -> str:
        return spread([walls[other] / walls[ours_name] for walls in delayed])

    print(f"  ours x32 / raw x32: {ratio('ours x32 (held at 32)', 'raw obstore x32')} (target >= 0.9)")
    print(f"  ours adaptive / rclone --transfers 32: {ratio(ADAPTIVE, 'rclone --transfers 32')} (target >= 1.5)")
    print(f"  ours adaptive / rclone --transfers 128: {ratio(ADAPTIVE, 'rclone --transfers 128')}")
    print(f"  ours adaptive / raw at the same count: {ratio(ADAPTIVE, AT_PEAK)}")
    adaptive_rate = [files / walls[ADAPTIVE] for walls in delayed]
    cpu_bound = [files / loop[ours_name].wall for loop in loops]
    print(
        f"  ours adaptive / ours on loopback (its CPU-bound rate): {spread([a / c for a, c in zip(adaptive_rate, cpu_bound, strict=True)])}"
    )
    print(f"simulated replay of 1,590 rounds: from the bucket {cold:.2f} s, from the warm cache {warm:.2f} s (ratio {cold / warm:.2f})")


if __name__ == "__main__":
    main()
