"""Pacing accuracy at 1, 50 and 500 rounds/s, through the simulators.

For each backend and rate, replays about ``--seconds`` of work at the rate and reads, from the
simulators' ledger, the moment every round was applied. The baseline is the ideal schedule
t0 + k / rate measured in the same run: the ratio achieved/target, the p99 lateness of a round
against its due time, and the largest earliness (a burst ahead of the schedule) are printed.
apply-blocks paces each round itself (``--rate``); PCLI is paced by releasing segments, cut to
``--segment-seconds`` of work.

    python -m bench.pacing [--seconds 8] [--segment-seconds 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

from hiero_replay.config import load_settings
from hiero_replay.logs import configure_logging
from hiero_replay.run import run_replay
from hiero_replay.simulate.history import History, write_history
from hiero_replay.simulate.state import LEDGER_ENV

RATES = (1, 50, 500)


def measure(
    history: History, folder: Path, backend: str, rate: int, seconds: float, segment_seconds: float
) -> dict[str, str | int | float]:
    rounds = max(4, int(rate * seconds))
    ledger = folder / f"ledger-{backend}-{rate}.txt"
    os.environ[LEDGER_ENV] = str(ledger)
    settings = load_settings(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {
                "mode": backend,
                "bootstrap_state": str(history.bootstrap_state),
                "node_id": 3,
                "target_round": history.bootstrap_round + rounds,
                "out": str(folder / f"out-{backend}-{rate}"),
            },
            "pace": {"rate": f"{rate} rounds/s", "max_segment_seconds": segment_seconds},
            "work_dir": str(folder / f"work-{backend}-{rate}"),
            "simulate": True,
        },
    )
    result = run_replay(settings)
    times = sorted(float(line.split()[2]) for line in ledger.read_text().splitlines())
    start = times[0]
    lateness = sorted(t - (start + k / rate) for k, t in enumerate(times))
    achieved = (len(times) - 1) / (times[-1] - start)
    return {
        "backend": backend,
        "rate": rate,
        "rounds": len(times),
        "segments": len(result.segments),
        "ratio": achieved / rate,
        "p99_late_ms": lateness[min(len(lateness) - 1, int(0.99 * len(lateness)))] * 1000,
        "max_early_ms": max(0.0, -lateness[0]) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--segment-seconds", type=float, default=1.0)
    args = parser.parse_args()
    configure_logging("console")
    logging.getLogger("hiero_replay").setLevel(logging.WARNING)  # the table, not every run's lines
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        top = 10 + int(max(RATES) * args.seconds) + 10
        history = write_history(folder / "history", bootstrap_round=10, cutover_round=11, target_round=top, last_event_round=top)
        print(f"{'backend':<13} {'rate':>5} {'rounds':>6} {'segments':>8} {'achieved/target':>15} {'p99 late':>9} {'max early':>9}")
        for backend in ("block-stream", "event-stream"):
            for rate in RATES:
                row = measure(history, folder, backend, rate, args.seconds, args.segment_seconds)
                print(
                    f"{row['backend']:<13} {row['rate']:>5} {row['rounds']:>6} {row['segments']:>8} {row['ratio']:>15.3f}"
                    f" {row['p99_late_ms']:>7.1f}ms {row['max_early_ms']:>7.1f}ms"
                )


if __name__ == "__main__":
    main()
