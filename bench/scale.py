"""P5, scale: what a round range and a full ``inspect`` cost at a million blocks.

- a 100-round range (the last 100 rounds) of a local folder of 1,000,000 blocks: wall time and
  peak RSS of ``hiero-replay inspect FOLDER --from-round R --to-round R+99`` (targets 2 s, 300 MB);
- the same range from a bucket of 1,000,000 objects on SeaweedFS on 127.0.0.1 (target 5 s);
- a full ``inspect`` of 100,000 and of 1,000,000 blocks: time per file at 1M against 100k (target
  at most 1.3 times: linear) and peak RSS (target 1 GB).

Each is a fresh process (``os.wait4`` gives its peak RSS, its worker processes apart); every
figure is min/median/max over ``--repeat`` runs, interleaved; the baseline measured in the same
run is ``hiero-replay --help`` (the command line's own start). Generating the folders (minutes)
and filling the bucket (longer) happen once, cached under ``bench/out/`` (see ``bench/bigfolder.py``).

    python -m bench.scale [--blocks 1000000] [--small 100000] [--repeat 3] [--skip-bucket] [--skip-full]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.object_servers import SeaweedS3

from bench.bigfolder import ensure_folder

CLI = [sys.executable, "-m", "hiero_replay"]
BUCKET = "scale"


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one command, its own process only."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0,):
        raise SystemExit(
            f"{' '.join(argv)} exited {process.returncode}: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
        )
    return wall, usage.ru_maxrss * 1024


def spread(values: Sequence[float], unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
    low, middle, high = min(values) * scale, statistics.median(values) * scale, max(values) * scale
    return f"{low:.{digits}f}/{middle:.{digits}f}/{high:.{digits}f} {unit}"


def fill_bucket(server: SeaweedS3, folder: Path, marker: Path) -> None:
    """Put every block of ``folder`` into the bucket under ``blocks/`` (once: a marker remembers)."""
    if marker.exists():
        return
    server.create_bucket(BUCKET)
    names = sorted(name for name in os.listdir(folder) if name.endswith(".blk.gz"))
    local = threading.local()
    port = int(server.endpoint.rsplit(":", 1)[1])
    done = [0]
    started = time.monotonic()

    def put(name: str) -> None:
        connection = getattr(local, "connection", None) or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        local.connection = connection
        data = (folder / name).read_bytes()
        for attempt in range(5):
            try:
                connection.request("PUT", f"/{BUCKET}/blocks/{name}", body=data)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    break
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            time.sleep(0.1 * (attempt + 1))
        else:
            raise SystemExit(f"cannot put {name}")
        done[0] += 1
        if done[0] % 100_000 == 0:
            print(f"  {done[0]} objects put ({time.monotonic() - started:.0f} s)", flush=True)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, names))
    marker.touch()


def bucket_env(server: SeaweedS3, work: Path) -> tuple[list[str], dict[str, str]]:
    config = work / "bucket.toml"
    work.mkdir(parents=True, exist_ok=True)
    config.write_text(f'work_dir = "{work}"\n[buckets]\nallow_http = true\npath_style = true\nanonymous = true\n')
    env = {**os.environ, "AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip
    return ["--config", str(config)], env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-bucket", action="store_true")
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--fill-only", action="store_true", help="only generate the folders and fill the bucket")
    args = parser.parse_args()
    big = ensure_folder(args.blocks)
    small = ensure_folder(args.small)
    server = None
    if not args.skip_bucket:
        server = SeaweedS3(Path(f"bench/out/seaweed-{args.blocks}").resolve())
    try:
        if server is not None:
            fill_bucket(server, big, Path(f"bench/out/seaweed-{args.blocks}/.filled"))
        if args.fill_only:
            return
        last = args.blocks  # block n holds round n + 1
        rounds = ["--from-round", str(last - 99), "--to-round", str(last)]
        work = Path("bench/out/scale-work").resolve()
        cases: dict[str, list[str]] = {"hiero-replay --help (baseline)": [*CLI, "--help"],
                                       f"local range, 100 of {args.blocks:,} blocks": [*CLI, "inspect", str(big), *rounds]}  # fmt: skip
        env = None
        if server is not None:
            extra, env = bucket_env(server, work)
            cases[f"bucket range, 100 of {args.blocks:,} objects"] = [*CLI, "inspect", f"s3://{BUCKET}/blocks", *rounds, *extra]
        if not args.skip_full:
            cases[f"full inspect, {args.small:,} blocks"] = [*CLI, "inspect", str(small)]
            cases[f"full inspect, {args.blocks:,} blocks"] = [*CLI, "inspect", str(big)]
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, argv in cases.items():
                if "bucket" in name:
                    subprocess.run(["rm", "-rf", str(work / "cache")], check=True)  # cold: every block downloaded
                results[name].append(run(argv, env))
    finally:
        if server is not None:
            server.stop()
    print(f"{os.cpu_count()} cores; min/median/max of {args.repeat} runs, interleaved")
    print(f"  {'':<42} {'wall':>22} {'peak RSS':>22}")
    for name, values in results.items():
        walls, rss = [w for w, _ in values], [r for _, r in values]
        print(f"  {name:<42} {spread(walls):>22} {spread(rss, 'MB', 1e-6, 0):>22}")
    if not args.skip_full:
        per_small = [w / args.small for w, _ in results[f"full inspect, {args.small:,} blocks"]]
        per_big = [w / args.blocks for w, _ in results[f"full inspect, {args.blocks:,} blocks"]]
        ratios = [b / s for s, b in zip(per_small, per_big, strict=True)]
        print(f"full inspect, time per file: {spread(per_small, 'µs', 1e6, 0)} at {args.small:,}, {spread(per_big, 'µs', 1e6, 0)} "
              f"at {args.blocks:,}; ratio (same iteration) {spread(ratios, '', 1, 2)} (target <= 1.3)")  # fmt: skip


if __name__ == "__main__":
    main()
