"""verify-history: saved states found in both layouts, jobs selected, the worst code chosen, the CLI's
errors, the Kubernetes manifests (validated strictly against 1.33), retries and the report."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hiero_replay.config import load_settings
from hiero_replay.errors import ConfigError, MissingInputError
from hiero_replay.history.jobs import Selection
from hiero_replay.history.launch import with_retries
from hiero_replay.history.states import discover_states
from hiero_replay.model.history import JobResult, SavedState, worst_exit_code
from hiero_replay.simulate.history import History
from hiero_replay.simulate.state import DIVERGE_ENV, write_state_directory
from hiero_replay.states import InvalidStateError

from .deploy_checks import tool, validate_manifest
from .history_helpers import BOOTSTRAP, CLI, EVERY, JOBS, TARGET, make_history, run_cli, source_flags, summary_of, tamper_block

HASH = "ab" * 48


def _state(root: Path, round_number: int, state_hash: str = HASH) -> None:
    write_state_directory(root / str(round_number), round_number=round_number, state_hash=state_hash, node_id=0, consensus_time_ns=None)


def _settings(tmp_path: Path, node_id: int = 0) -> Any:
    return load_settings(None, {"work_dir": str(tmp_path / "work"), "replay": {"node_id": node_id}})


# --- saved states and jobs -------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["node", "flat"])
def test_saved_states_are_found_in_either_layout(tmp_path: Path, layout: str) -> None:
    history = make_history(tmp_path / "data", layout=layout)
    assert history.saved_dir is not None
    states = discover_states(str(history.saved_dir), _settings(tmp_path, 3))
    assert [state.round for state in states] == list(range(BOOTSTRAP, TARGET + 1, EVERY))
    assert [Path(state.location) for state in states] == list(history.saved_states)


def test_only_the_nodes_own_states_are_used_when_several_nodes_saved(tmp_path: Path) -> None:
    saved = tmp_path / "saved" / "ServicesMain"
    for node in (0, 1):
        for number in (10, 20, 30):
            _state(saved / str(node) / "123", number, ("0a" if node == 0 else "0b") * 48)
    states = discover_states(str(tmp_path / "saved"), _settings(tmp_path, 1))
    assert [(s.round, s.hash[:2]) for s in states] == [(10, "0b"), (20, "0b"), (30, "0b")]
    with pytest.raises(ConfigError, match="not of node 5"):
        discover_states(str(tmp_path / "saved"), _settings(tmp_path, 5))


def test_states_that_contradict_themselves_are_refused(tmp_path: Path) -> None:
    _state(tmp_path / "a", 10, "0a" * 48)
    _state(tmp_path / "b", 10, "0b" * 48)
    with pytest.raises(ConfigError, match="Two saved states of round 10 disagree"):
        discover_states(str(tmp_path), _settings(tmp_path))
    shutil.rmtree(tmp_path / "b")
    (tmp_path / "a" / "10").rename(tmp_path / "a" / "11")
    with pytest.raises(InvalidStateError, match="says ROUND 10"):
        discover_states(str(tmp_path), _settings(tmp_path))
    with pytest.raises(MissingInputError, match="does not exist"):
        discover_states(str(tmp_path / "nowhere"), _settings(tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingInputError, match="No saved states"):
        discover_states(str(tmp_path / "empty"), _settings(tmp_path))


def test_selection_pairs_consecutive_states() -> None:
    states = [SavedState(r, HASH, f"/s/{r}") for r in (10, 20, 30, 40, 50)]

    def rounds(selection: Selection) -> list[tuple[int, int]]:
        return [(a.round, b.round) for a, b in selection.pick(states)]

    assert rounds(Selection()) == [(10, 20), (20, 30), (30, 40), (40, 50)]
    assert rounds(Selection(from_round=15, to_round=45)) == [(20, 30), (30, 40)]
    assert rounds(Selection(last_jobs=2)) == [(30, 40), (40, 50)]
    with pytest.raises(ConfigError, match="No job to verify"):
        Selection(from_round=41).pick(states)


def test_the_worst_code_wins_mismatch_before_gap_before_the_rest() -> None:
    assert worst_exit_code([0, 0]) == 0
    assert worst_exit_code([6, 4, 5, 7]) == 5
    assert worst_exit_code([7, 4, 6]) == 4
    assert worst_exit_code([7, 6, 0]) == 6
    assert worst_exit_code([8, 3]) == 3


def _result(exit_code: int) -> JobResult:
    return JobResult(0, 10, 20, HASH, HASH, "x", exit_code, "w", 1.0)


@pytest.mark.parametrize(("codes", "runs", "attempts"), [([6, 7, 0], 3, 3), ([5, 0], 1, 1), ([4], 1, 1), ([6, 6, 6, 6], 3, 3), ([2], 1, 1)])
def test_only_transient_failures_are_retried(codes: list[int], runs: int, attempts: int) -> None:
    given = iter(codes)
    calls: list[int] = []

    def run() -> JobResult:
        calls.append(1)
        return _result(next(given))

    result = with_retries(run, 2)
    assert len(calls) == runs and result.attempts == attempts and result.exit_code == codes[runs - 1]


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return source_flags(make_history(tmp_path_factory.mktemp("history") / "data"))


def test_dry_run_lists_the_jobs(history: list[str], tmp_path: Path) -> None:
    result = run_cli(
        ["verify-history", *history, "--work-dir", str(tmp_path), "--dry-run", "--json", "--from-round", "20", "--to-round", "50"]
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [(job["index"], job["from_round"], job["to_round"]) for job in plan["jobs"]] == [(0, 20, 30), (1, 30, 40), (2, 40, 50)]
    assert plan["saved_states"] == JOBS + 1 and not any(job["already_verified"] for job in plan["jobs"])
    assert not (tmp_path / "history").exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--bootstrap-state", "/x"], 2, "sets --bootstrap-state for each job itself"),
        (["--executor", "dask"], 2, "needs --scheduler"),
        (["--executor", "kubernetes"], 2, "needs --results"),
        (["--job-index", "99", "--results", "R"], 2, "--job-index 99 is out of range"),
        (["--from-round", "65"], 2, "No job to verify"),
        (["--emit", "kubernetes", "--results", "s3://b/r"], 2, "needs --image"),
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], 6, "Cannot reach the Dask scheduler"),
    ],
)
def test_mistakes_exit_with_their_code_and_no_traceback(
    history: list[str], tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = run_cli(
        ["verify-history", *history, "--work-dir", str(tmp_path), *args], env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}
    )
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_help_loads_neither_dask_nor_pydantic() -> None:
    probe = (
        "import sys\nfrom hiero_replay.cli import main\ntry:\n    main(['verify-history', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pydantic', 'obstore')))\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "--job-index" in shown and shown.strip().splitlines()[-1] == "[]"


def test_a_gap_and_a_mismatch_exit_5_and_the_report_shows_the_timeline(tmp_path: Path) -> None:
    made = make_history(tmp_path / "data")
    tamper_block(made, 2)  # job 4, rounds 50..60
    (made.blocks_dir / f"{5:036d}.blk.gz").unlink()  # job 5, rounds 66..70 missing
    work = tmp_path / "work"
    result = run_cli(["verify-history", *source_flags(made), "--work-dir", str(work), "--workers", "2", "--json"])
    summary = summary_of(result)
    assert result.returncode == 5
    assert [job["outcome"] for job in summary["jobs"]] == ["verified"] * 4 + ["mismatch", "gap"]
    assert [job["exit_code"] for job in summary["jobs"]] == [0] * 4 + [5, 4]
    status = run_cli(["status", "--work-dir", str(work), "--json"])
    assert status.returncode == 0, status.stderr
    [listed] = json.loads(status.stdout)["histories"]
    assert listed["history_id"] == summary["history"] and listed["state"] == "failed" and listed["exit_code"] == 5
    assert (listed["jobs"], listed["verified"], listed["mismatch"], listed["gap"], listed["failed"]) == (6, 4, 1, 1, 0)
    line = run_cli(["status", "--work-dir", str(work)]).stdout
    assert f"history {summary['history']}  failed" in line and "jobs 4/6 verified (1 mismatch, 1 gap)  exit 5" in line
    page = tmp_path / "report.html"
    shown = run_cli(["report", "--work-dir", str(work), "--html", str(page)])
    assert shown.returncode == 0, shown.stderr
    html = page.read_text()
    assert "Timeline of jobs" in html and summary["history"] in html
    assert "job 4 (rounds 50..60): mismatch" in html and "job 5 (rounds 60..70): gap" in html
    assert html.count('class="mark bar outcome-verified"') == 4 and "<script" not in html and "http" not in html.split("</style>")[1]


def test_a_job_that_diverges_names_its_first_divergent_block_in_the_summary_and_status(tmp_path: Path) -> None:
    """Rounds from 58 on come out different: job 4 (blocks 2..3) is bisected to block 3, the first
    block whose stream-proven end state the replay missed; status names it for the whole history."""
    made = make_history(tmp_path / "data")
    work = tmp_path / "work"
    flags = [*source_flags(made), "--work-dir", str(work), "--workers", "2", "--from-round", "30", "--json"]
    result = run_cli(["verify-history", *flags], env={DIVERGE_ENV: "58"})
    summary = summary_of(result)
    assert result.returncode == 5
    rows = [(job["from_round"], job["outcome"]) for job in summary["jobs"]]
    assert rows == [(30, "verified"), (40, "verified"), (50, "mismatch"), (60, "mismatch")]
    assert summary["jobs"][2]["first_divergent_block"] == 3
    [listed] = json.loads(run_cli(["status", "--work-dir", str(work), "--json"]).stdout)["histories"]
    assert (listed["jobs"], listed["verified"], listed["mismatch"], listed["first_divergent_block"]) == (4, 2, 2, 3)
    assert "jobs 2/4 verified (2 mismatch, first divergent block 3)  exit 5" in run_cli(["status", "--work-dir", str(work)]).stdout
    # The same history verified again from round 60, diverging no more: status speaks of that invocation.
    narrower = [arg if arg != "30" else "60" for arg in flags]
    assert run_cli(["verify-history", *narrower]).returncode == 0
    [listed] = json.loads(run_cli(["status", "--work-dir", str(work), "--json"]).stdout)["histories"]
    assert (listed["state"], listed["jobs"], listed["verified"], listed["mismatch"], listed["first_divergent_block"]) == (
        "succeeded",
        1,
        1,
        0,
        None,
    )


def test_local_jobs_are_forked_from_one_process_that_did_their_imports(tmp_path: Path) -> None:
    """Not started by the command itself (a fresh interpreter per job, ~0.4 s of imports each) but
    by its forkserver, preloaded with the job worker: every attempt has that one parent."""
    made = make_history(tmp_path / "data")
    work = tmp_path / "work"
    command = subprocess.Popen([*CLI, "verify-history", *source_flags(made), "--work-dir", str(work), "--workers", "3"])
    assert command.wait(timeout=300) == 0
    attempts = [json.loads(line) for path in sorted(work.glob("history/*/*/attempts.jsonl")) for line in path.read_text().splitlines()]
    parents = {attempt["parent"] for attempt in attempts}
    assert len(attempts) == JOBS and len(parents) == 1 and command.pid not in parents
    assert len({attempt["pid"] for attempt in attempts}) == JOBS


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_jobs_stop_when_the_command_is_interrupted_or_killed_and_a_rerun_finishes_them(tmp_path: Path, signum: int) -> None:
    """Interrupted, the command stops its jobs and says how to carry on (exit 8). Killed, it cannot:
    the forkserver between them outlives it while jobs run, so each job waits on the command's end
    of its start pipe, stops its backend and records exit 8. Either way the same command run again
    verifies every job, each counted once."""
    made = make_history(tmp_path / "data")
    work = tmp_path / "work"
    flags = [*source_flags(made), "--work-dir", str(work), "--workers", "2", "--from-round", "40"]
    command = subprocess.Popen(
        [*CLI, "verify-history", *flags, "--rate", "0.5 rounds/s"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while len(list(work.glob("history/*/*/attempts.jsonl"))) < 2:  # both jobs replaying (over 10 s each at this rate)
        assert time.monotonic() < deadline and command.poll() is None
        time.sleep(0.1)
    [listed] = json.loads(run_cli(["status", "--work-dir", str(work), "--json"]).stdout)["histories"]
    assert listed["state"] == "running"  # its command holds the work directory
    command.send_signal(signum)
    _, stderr = command.communicate(timeout=120)
    if signum == signal.SIGINT:
        assert command.returncode == 8 and "Run the same command again" in stderr and "run --resume" not in stderr
    results = [path.with_name("result.json") for path in work.glob("history/*/*/attempts.jsonl")]
    while not all(path.exists() for path in results):
        assert time.monotonic() < deadline, "a job kept running after the command was stopped"
        time.sleep(0.1)
    assert [json.loads(path.read_text())["exit_code"] for path in results] == [8, 8]
    pids = [json.loads(path.with_name("attempts.jsonl").read_text())["pid"] for path in results]
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # killed, the history is still marked running in the store, but nothing holds its lock
    [listed] = json.loads(run_cli(["status", "--work-dir", str(work), "--json"]).stdout)["histories"]
    assert listed["state"] == "interrupted" and listed["exit_code"] == (8 if signum == signal.SIGINT else None)
    rerun = run_cli(["verify-history", *flags, "--json"])
    summary = summary_of(rerun)
    assert rerun.returncode == 0 and summary["verified"] == 3 and len(summary["jobs"]) == 3
    [listed] = json.loads(run_cli(["status", "--work-dir", str(work), "--json"]).stdout)["histories"]
    assert (listed["state"], listed["jobs"], listed["verified"]) == ("succeeded", 3, 3)


def _saved_state(made: History, round_number: int) -> Path:
    assert made.saved_dir is not None
    [found] = [path.parent for path in made.saved_dir.rglob("stateMetadata.txt") if path.parent.name == str(round_number)]
    return found


@pytest.mark.parametrize(
    ("cut", "outcome", "resumed", "put_aside"),
    [
        ("after the last checkpoint", "verified", True, False),  # the output is the run's own verified state
        ("between the final rename and its checkpoint", "verified", True, False),  # the runner recovers it
        ("after the last checkpoint, the output then replaced", "verified", True, True),  # replayed from the saved state
        ("after the last checkpoint, the end state then changed", "mismatch", False, True),  # a run for other states: not resumed
    ],
)
def test_a_job_cut_off_at_its_end_resumes_only_what_still_holds(
    tmp_path: Path, cut: str, outcome: str, resumed: bool, put_aside: bool
) -> None:
    """A job's run marked interrupted after its last segment's state reached the job's output. The
    rerun resumes it when the output is that run's own state and the run was planned against the
    job's states as they are now; otherwise the output is put aside and the job replayed afresh."""
    made = make_history(tmp_path / "data")
    work = tmp_path / "work"
    flags = ["verify-history", *source_flags(made), "--work-dir", str(work), "--from-round", "30", "--to-round", "40", "--keep-states"]
    assert run_cli(flags).returncode == 0
    [job] = work.glob("history/*/30-40")
    with sqlite3.connect(job / "work" / "runs.db") as runs:
        runs.execute("UPDATE runs SET state = 'interrupted', exit_code = 8, final_round = NULL, final_hash = NULL")
        if "rename" in cut:
            runs.execute("UPDATE segments SET state = 'running'")
    with sqlite3.connect(work / "runs.db") as history:
        history.execute("DELETE FROM jobs")  # the cut-off job never reported
    if "replaced" in cut:
        shutil.rmtree(job / "out")
        shutil.copytree(_saved_state(made, 30), job / "out")
    if "changed" in cut:
        metadata = _saved_state(made, 40) / "stateMetadata.txt"
        text = metadata.read_text()
        old = next(line.split()[1] for line in text.splitlines() if line.startswith("HASH:"))
        metadata.write_text(text.replace(old, old[::-1]))
    rerun = run_cli([*flags, "--json"])
    assert [job["outcome"] for job in summary_of(rerun)["jobs"]] == [outcome], rerun.stderr[-2000:]
    assert ("job resumed from its last checkpoint" in (job / "job.log").read_text()) is resumed
    assert (job / "out").is_dir() is (outcome == "verified")  # a mismatched state never takes the output's name
    assert bool(list(job.glob("out.unverified-*"))) is put_aside


def test_status_calls_only_the_history_whose_command_holds_the_work_directory_running(tmp_path: Path) -> None:
    """Two histories marked running (the older one's command was killed): the lock a live
    verify-history holds makes the newer one running, never both; without it both were cut off.
    A history collected before collections recorded their rounds counts every job it has."""
    from hiero_replay.cli.commands.status import status_report
    from hiero_replay.history.store import HistoryStore
    from hiero_replay.lock import HISTORY_LOCK, work_dir_lock

    work = tmp_path / "work"
    store = HistoryStore(work)
    try:
        for name in ("history-killed", "history-live"):
            store.begin(name, states="/states", executor="local", spec={"jobs": []})
        store.begin("history-collected", states="/states", executor="kubernetes", spec={"results": "/results", "jobs": 2})
        for first in (10, 20):
            store.record("history-collected", JobResult(first // 10 - 1, first, first + 10, HASH, HASH, "verified", 0, "pod", 1.0))
        store.finish("history-collected", 0)
    finally:
        store.close()

    def states() -> dict[str, str]:
        return {entry["history_id"]: entry["state"] for entry in status_report(work, 10)["histories"]}

    with work_dir_lock(work, name=HISTORY_LOCK, holder="verify-history"):
        assert states() == {"history-collected": "succeeded", "history-live": "running", "history-killed": "interrupted"}
    assert states() == {"history-collected": "succeeded", "history-live": "interrupted", "history-killed": "interrupted"}
    [collected] = [entry for entry in status_report(work, 10)["histories"] if entry["history_id"] == "history-collected"]
    assert (collected["jobs"], collected["verified"]) == (2, 2)


# --- Kubernetes -------------------------------------------------------------------------------------


def _emit(history: list[str], tmp_path: Path, *extra: str) -> tuple[Path, dict[str, Any]]:
    result = run_cli([
        "verify-history", *history, "--work-dir", str(tmp_path), "--emit", "kubernetes", "--image", "registry.example/hiero-replay:0.1.0",
        "--results", "s3://hiero-replay-results/verify", "--workers", "3", "--claim", "hiero-replay-data=/data", *extra,
    ])  # fmt: skip
    assert result.returncode == 0, result.stderr
    path = tmp_path / "job.yaml"
    path.write_text(result.stdout)
    return path, yaml.safe_load(result.stdout)


def _kubernetes_validate() -> str:
    found = tool("kubernetes-validate")
    if found is None:
        pytest.skip("kubernetes-validate is not installed (the test extra installs it)")
    return found


def test_the_indexed_job_validates_and_maps_exit_codes(history: list[str], tmp_path: Path) -> None:
    path, job = _emit(history, tmp_path)
    assert validate_manifest(path, _kubernetes_validate()) == []
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"], spec["backoffLimitPerIndex"]) == ("Indexed", JOBS, 3, 2)
    rules = {rule["action"]: rule for rule in spec["podFailurePolicy"]["rules"] if "onExitCodes" in rule}
    assert {2, 3, 4, 5} <= set(rules["FailIndex"]["onExitCodes"]["values"])
    assert rules["Count"]["onExitCodes"]["values"] == [6, 7]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert pod["restartPolicy"] == "Never" and container["name"] == rules["FailIndex"]["onExitCodes"]["containerName"]
    args = container["args"]
    assert args[0] == "verify-history" and "--job-index=$(JOB_COMPLETION_INDEX)" in args
    assert "--results=s3://hiero-replay-results/verify" in args and any(a.startswith("--states=") for a in args)
    assert container["envFrom"][0]["secretRef"] == {"name": "hiero-replay-credentials", "optional": True}


def test_a_schedule_wraps_it_in_a_cronjob_that_never_overlaps(history: list[str], tmp_path: Path) -> None:
    path, cron = _emit(history, tmp_path, "--schedule", "15 3 * * *", "--last-jobs", "4")
    assert validate_manifest(path, _kubernetes_validate()) == []
    assert cron["kind"] == "CronJob" and cron["spec"]["concurrencyPolicy"] == "Forbid" and cron["spec"]["schedule"] == "15 3 * * *"
    assert cron["spec"]["jobTemplate"]["spec"]["completions"] == 4
    assert "--last-jobs=4" in cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("parallelism: 3", 'parallelism: "three"', "is not of type 'integer'"),
        ("backoffLimitPerIndex:", "backoffLimitPerIndx:", "'backoffLimitPerIndx' was unexpected"),
        ('operator: "In"', "operator: 5", "is not of type 'string'"),
    ],
)
def test_the_validation_fails_on_a_broken_job(history: list[str], tmp_path: Path, old: str, new: str, expected: str) -> None:
    path, _ = _emit(history, tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    problems = validate_manifest(path, _kubernetes_validate())
    assert any(expected in problem for problem in problems), problems
