"""The ``Executor`` contract, run against every executor: ``local`` (processes here), ``dask`` (a
real scheduler and two workers started with the ``dask`` command on 127.0.0.1) and ``kubernetes``
(each ``--job-index i`` run as a separate process against a shared results folder, as the pods of
an Indexed Job do, then ``--collect``).

On a synthetic history of six jobs with one job's input tampered, every executor must give the
same result for every job (the tampered one a mismatch, exit 5; the others verified), exit 5, name
the worker of each job and count each job once; run again, the verified jobs are not run again.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.history.executors import names

from ..history_helpers import (
    JOBS,
    TAMPERED_BLOCK,
    TAMPERED_JOB,
    DaskCluster,
    dask_cluster,
    expected_outcomes,
    make_history,
    outcomes,
    recorded_history,
    run_cli,
    source_flags,
    summary_of,
    tamper_block,
)

Verify = Callable[[Path], tuple[int, dict[str, Any]]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    made = make_history(tmp_path_factory.mktemp("history") / "data")
    tamper_block(made, TAMPERED_BLOCK)
    return source_flags(made)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    if importlib.util.find_spec("distributed") is None or not shutil.which("dask", path=str(Path(__import__("sys").executable).parent)):
        pytest.skip("Dask's distributed package is not installed (pip install 'hiero-replay[dask]')")
    with dask_cluster(tmp_path_factory.mktemp("dask")) as started:
        yield started


def _local(flags: list[str]) -> Verify:
    def verify(work: Path) -> tuple[int, dict[str, Any]]:
        result = run_cli(["verify-history", *flags, "--work-dir", str(work), "--workers", "2", "--json"])
        return result.returncode, summary_of(result)

    return verify


def _dask(flags: list[str], cluster: DaskCluster) -> Verify:
    def verify(work: Path) -> tuple[int, dict[str, Any]]:
        result = run_cli(
            ["verify-history", *flags, "--work-dir", str(work), "--executor", "dask", "--scheduler", cluster.address, "--json"]
        )
        return result.returncode, summary_of(result)

    return verify


def _kubernetes(flags: list[str]) -> Verify:
    """What the pods of the Indexed Job do, one process per index, each with its own work folder."""

    def verify(work: Path) -> tuple[int, dict[str, Any]]:
        results = work / "results"
        for index in range(JOBS):
            pod = run_cli(
                ["verify-history", *flags, "--work-dir", str(work / f"pod-{index}"), "--job-index", str(index), "--results", str(results)]
            )
            assert pod.returncode == (5 if index == TAMPERED_JOB else 0), pod.stderr[-2000:]
        collected = run_cli(["verify-history", "--collect", str(results), "--work-dir", str(work), "--json"])
        return collected.returncode, summary_of(collected)

    return verify


@pytest.fixture(params=names())
def verify(request: pytest.FixtureRequest, history: list[str]) -> Verify:
    if request.param == "local":
        return _local(history)
    if request.param == "dask":
        return _dask(history, request.getfixturevalue("cluster"))
    return _kubernetes(history)


def test_every_job_once_with_its_outcome_and_worker(verify: Verify, tmp_path: Path) -> None:
    code, summary = verify(tmp_path)
    assert code == 5
    assert outcomes(summary) == expected_outcomes()
    assert (summary["verified"], summary["mismatch"], summary["gap"], summary["failed"]) == (JOBS - 1, 1, 0, 0)
    assert summary["exit_code"] == 5 and summary["missing"] == []
    assert all(job["worker"] for job in summary["jobs"])
    tampered = summary["jobs"][TAMPERED_JOB]
    assert "block" in tampered["message"] and tampered["rounds_per_second"] is None
    assert all(job["rounds_per_second"] > 0 for job in summary["jobs"] if job["outcome"] == "verified")
    record, jobs = recorded_history(tmp_path)
    assert [(job.from_round, job.to_round, job.outcome) for job in jobs] == [(row[1], row[2], row[3]) for row in expected_outcomes()]
    assert record.exit_code == 5 and record.state == "failed"


def test_a_rerun_reuses_verified_jobs_and_runs_the_rest_again(verify: Verify, tmp_path: Path) -> None:
    verify(tmp_path)
    code, summary = verify(tmp_path)
    assert code == 5
    assert outcomes(summary) == expected_outcomes()
    reused = [job["index"] for job in summary["jobs"] if job["reused"]]
    assert reused == [index for index in range(JOBS) if index != TAMPERED_JOB]
    _, jobs = recorded_history(tmp_path)
    assert len(jobs) == JOBS  # every job once
    assert [job.attempts for job in jobs] == [2 if index == TAMPERED_JOB else 1 for index in range(JOBS)]
