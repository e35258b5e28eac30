"""P4, orchestration overhead: a simulated replay through ``hiero-replay run`` against the same
backends' argument vectors run directly, one after the other, in the same run.

The history (``simulate.history``: events to the cutover, blocks after it) is replayed twice, in
few long segments and in many short ones, from one work directory (as an operator keeps it: the
tools' capability probe runs in a warm-up run, then comes from its cache). A run removes its staged
inputs and intermediate states once it succeeds, and that is part of what it costs: so each timed
run is followed by an untimed one of the same shape with ``--keep-intermediates``, whose segments
are then run straight from their argv (from its ``plan.json``, into fresh output folders, from its
staged inputs and states). What ``run`` adds is its wall time minus the direct runs' time; the added
time per segment is the slope between the two segmentations, and the rest is the fixed cost per
run (imports, planning, the run store, verification of the result).

    python -m bench.overhead [--rounds 5000] [--repeat 3] [--short 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hiero_replay.simulate.history import write_history

CLI = [sys.executable, "-m", "hiero_replay"]
#: Backends whose --out folder must exist (apply-blocks on main) get it created, as the runner does.
NEEDS_OUT_FOLDER = {"block-stream"}


def timed(argv: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - started


def direct(plan: dict[str, object], out: Path) -> float:
    """Every segment's argv, run one after the other into fresh output folders."""
    total = 0.0
    for segment in plan["segments"]:  # type: ignore[attr-defined]
        partial = segment["invocation"]["out_dir"]
        target = out / f"{segment['index']:03d}"
        argv = [str(target) if argument == partial else argument for argument in segment["argv"]]
        if segment["backend"] in NEEDS_OUT_FOLDER:
            target.mkdir(parents=True)
        folder = out / f"{segment['index']:03d}-cwd"  # the tools write log files where they run, as under the runner
        folder.mkdir(parents=True)
        total += timed(argv, cwd=folder)
    return total


def spread(values: list[float], scale: float = 1.0, unit: str = "s") -> str:
    return f"{min(values) * scale:.3f}/{statistics.median(values) * scale:.3f}/{max(values) * scale:.3f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--short", type=int, default=100, help="rounds per segment of the many-segment run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hiero-replay-overhead-") as directory:
        root = Path(directory)
        cutover = args.rounds // 2
        history = write_history(root / "history", bootstrap_round=10, cutover_round=cutover, target_round=args.rounds, rounds_per_block=10)
        common = ["run", "--simulate", "--events", str(history.events_dir), "--blocks", str(history.blocks_dir),
                  "--bootstrap-state", str(history.bootstrap_state), "--node-id", "3", "--target-round", str(args.rounds)]  # fmt: skip
        shapes = {"long segments": args.rounds, "short segments": args.short}
        rows: dict[str, dict[str, list[float]]] = {name: {"run": [], "direct": [], "segments": []} for name in shapes}
        work = root / "work"  # one work directory, as an operator keeps: the tools are probed once
        timed([*CLI, *common, "--segment-rounds", str(args.rounds), "--work-dir", str(work), "--out", str(root / "warm-up")])
        for attempt in range(args.repeat):
            for name, rounds in shapes.items():
                shape = [*common, "--segment-rounds", str(rounds), "--work-dir", str(work)]
                wall = timed([*CLI, *shape, "--out", str(root / f"out-{attempt}-{rounds}")])
                known = set((work / "runs").iterdir())
                timed([*CLI, *shape, "--keep-intermediates", "--out", str(root / f"kept-{attempt}-{rounds}")])
                (run_dir,) = set((work / "runs").iterdir()) - known
                plan = json.loads((run_dir / "plan.json").read_text())
                rows[name]["run"].append(wall)
                rows[name]["direct"].append(direct(plan, root / f"direct-{attempt}-{rounds}"))
                rows[name]["segments"].append(len(plan["segments"]))
    print(f"simulated replay of {args.rounds - 10} rounds (cutover at {cutover}); min/median/max of {args.repeat} runs")
    print(f"  {'':<16} {'segments':>8} {'hiero-replay run':>24} {'argv run directly':>24} {'added':>24} {'ratio':>18}")
    added: dict[str, list[float]] = {}
    for name, row in rows.items():
        added[name] = [r - d for r, d in zip(row["run"], row["direct"], strict=True)]
        ratios = [r / d for r, d in zip(row["run"], row["direct"], strict=True)]
        print(f"  {name:<16} {int(row['segments'][0]):>8} {spread(row['run']):>24} {spread(row['direct']):>24} {spread(added[name]):>24}"
              f" {spread(ratios, unit=''):>18}")  # fmt: skip
    long_count, short_count = rows["long segments"]["segments"][0], rows["short segments"]["segments"][0]
    per_segment = [(s - lo) / (short_count - long_count) for lo, s in zip(added["long segments"], added["short segments"], strict=True)]
    per_run = [lo - long_count * p for lo, p in zip(added["long segments"], per_segment, strict=True)]
    print(f"added per segment (slope, same iteration): {spread(per_segment, 1000, 'ms')} (target <= 50 ms)")
    print(f"added per run (fixed part):                {spread(per_run)} (target <= 0.5 s)")


if __name__ == "__main__":
    main()
