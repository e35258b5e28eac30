"""Start-up cost of the command line: ``hiero-replay --help`` and ``hiero-replay run --help``
against ``python -c pass`` (the interpreter's own start), measured in the same run.

Runs are interleaved (baseline, then each command, repeated) so load on the machine hits all
alike; min / median / max over ``--repeat`` runs, and the added cost of each command over the
baseline's median.

    python -m bench.startup [--repeat 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "hiero-replay --help": [sys.executable, "-m", "hiero_replay", "--help"],
    "hiero-replay run --help": [sys.executable, "-m", "hiero_replay", "run", "--help"],
}
#: The target: --help adds at most this much to the interpreter's own start.
TARGET_SECONDS = 0.150


def _time(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    for argv in COMMANDS.values():  # warm the page cache and the bytecode
        _time(argv)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, argv in COMMANDS.items():
            times[name].append(_time(argv))
    baseline = statistics.median(times["python -c pass"])
    print(f"{'command':<26} {'min':>8} {'median':>8} {'max':>8} {'added (median)':>15}")
    for name, values in times.items():
        added = statistics.median(values) - baseline
        verdict = "" if name == "python -c pass" else ("  ok" if added <= TARGET_SECONDS else f"  over {TARGET_SECONDS * 1000:.0f} ms")
        print(
            f"{name:<26} {min(values) * 1000:7.0f}ms {statistics.median(values) * 1000:7.0f}ms {max(values) * 1000:7.0f}ms"
            f" {added * 1000:13.0f}ms{verdict}"
        )


if __name__ == "__main__":
    main()
