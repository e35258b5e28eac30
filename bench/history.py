"""verify-history on one machine: 8 paced jobs with ``--executor local --workers 4`` against
``--workers 1`` (the baseline), measured in the same run.

Each job replays 10 rounds of blocks at 5 rounds/s (``--rate "5 rounds/s"``, which apply-blocks
holds round by round: about 2 s of pacing; ``--job-seconds`` changes it), so the
jobs wait rather than compute and 4 of them side by side fit on 2 cores. Runs are interleaved
(baseline, then 4 workers, repeated) with a fresh work directory each; min / median / max of the
wall time of the whole command over ``--repeat`` runs, and the ratio of the medians (and of each pair).

    python -m bench.history [--repeat 3] [--jobs 8] [--workers 4] [--job-seconds 2]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hiero_replay.simulate.history import write_history

ROUNDS_PER_JOB = 10
#: The target: 4 workers at least this many times faster than 1.
TARGET_RATIO = 3.2


def _verify(flags: list[str], work: Path, workers: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "hiero_replay", "verify-history", *flags, "--work-dir", str(work), "--workers", str(workers)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"verify-history exited {result.returncode}:\n{result.stdout}\n{result.stderr[-3000:]}")
    shutil.rmtree(work)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--job-seconds", type=float, default=2.0, help="pacing of each job: its rounds take this long")
    args = parser.parse_args()
    rate = f"{ROUNDS_PER_JOB / args.job_seconds:g} rounds/s"
    with tempfile.TemporaryDirectory(prefix="hiero-replay-bench-history-") as folder:
        root = Path(folder)
        target = 10 + args.jobs * ROUNDS_PER_JOB
        # a block stream from round 11: apply-blocks holds the rate round by round
        history = write_history(root / "data", bootstrap_round=10, cutover_round=11, target_round=target, saved_every=ROUNDS_PER_JOB)
        assert history.saved_dir is not None
        flags = ["--simulate", "--blocks", str(history.blocks_dir), "--node-id", "3", "--states", str(history.saved_dir), "--rate", rate]
        times: dict[int, list[float]] = {1: [], args.workers: []}
        for run in range(args.repeat):
            for workers in times:
                times[workers].append(_verify(flags, root / f"work-{run}-{workers}", workers))
    baseline, parallel = times[1], times[args.workers]
    print(f"{args.jobs} jobs of {ROUNDS_PER_JOB} rounds at {rate} ({args.job_seconds:g} s each), {args.repeat} runs each")
    print(f"{'executor':<24} {'min':>8} {'median':>8} {'max':>8}")
    for workers, values in times.items():
        print(f"{f'local --workers {workers}':<24} {min(values):7.2f}s {statistics.median(values):7.2f}s {max(values):7.2f}s")
    ratios = [one / many for one, many in zip(baseline, parallel, strict=True)]
    ratio = statistics.median(baseline) / statistics.median(parallel)
    verdict = "ok" if ratio >= TARGET_RATIO else f"below {TARGET_RATIO}"
    print(
        f"speed-up (median / median): {ratio:.2f}x ({verdict}); per run {min(ratios):.2f}x / "
        f"{statistics.median(ratios):.2f}x / {max(ratios):.2f}x (min/median/max)"
    )


if __name__ == "__main__":
    main()
