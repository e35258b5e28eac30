"""verify-history on a real Dask cluster when a worker dies mid-job: its job is run again on the
other worker (resumed in its folder, adopting the backend that kept running), and every job is
counted once."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time
from pathlib import Path

import pytest

from .history_helpers import CLI, JOBS, dask_cluster, make_history, recorded_history, source_flags, summary_of

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="Dask's distributed package is not installed (pip install 'hiero-replay[dask]')"
)
#: Simulated work per round: a job of ten rounds takes a few seconds, long enough to be cut off.
SLOW = {"HIERO_REPLAY_SIMULATOR_ROUND_SECONDS": "0.4"}


def _attempts(folder: Path) -> list[dict[str, object]]:
    path = folder / "attempts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_job_cut_off_by_a_dead_worker_is_rerun_on_the_other_and_counted_once(tmp_path: Path) -> None:
    history = make_history(tmp_path / "data")
    work = tmp_path / "work"
    with dask_cluster(tmp_path / "dask", env=SLOW) as cluster:
        doomed, survivor = list(cluster.workers)
        command = subprocess.Popen(
            [*CLI, "verify-history", *source_flags(history), "--work-dir", str(work), "--executor", "dask",
             "--scheduler", cluster.address, "--retries", "0", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        jobs_root = work / "history"
        deadline = time.monotonic() + 120
        victim = None
        while victim is None:
            assert time.monotonic() < deadline, "no job started on the first worker"
            assert command.poll() is None, command.communicate()
            for folder in jobs_root.glob("*/*"):
                if any(attempt["worker"] == doomed for attempt in _attempts(folder)):
                    victim = folder
            time.sleep(0.1)
        time.sleep(1.5)  # the job is replaying now
        assert not (victim / "result.json").exists()
        cluster.kill_worker(doomed)
        stdout, stderr = command.communicate(timeout=300)
    summary = summary_of(subprocess.CompletedProcess(command.args, command.returncode, stdout, stderr))
    assert command.returncode == 0, stderr[-3000:]
    assert [job["outcome"] for job in summary["jobs"]] == ["verified"] * JOBS
    assert sorted(job["index"] for job in summary["jobs"]) == list(range(JOBS))
    cut_off = next(job for job in summary["jobs"] if f"{job['from_round']}-{job['to_round']}" == victim.name)
    assert cut_off["worker"] == survivor
    assert [attempt["worker"] for attempt in _attempts(victim)] == [doomed, survivor]
    _, jobs = recorded_history(work)
    assert len(jobs) == JOBS and all(job.outcome == "verified" for job in jobs)
