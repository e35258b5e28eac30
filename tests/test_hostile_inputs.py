"""Issue 13: hostile and careless inputs end in a documented exit code, never a traceback or a hang,
name the offending thing, and change nothing outside the work dir and ``--out``.

The CLI runs as a subprocess (``python -m hiero_replay``) so this table survives the restructure of
``src/``. Every case checks the same invariants:

- the exit code is the documented one (a few cases allow skip-and-report or refuse);
- no ``Traceback`` in stdout or stderr;
- the output names the offending file, key, round, URL or variable;
- a victim file, every input folder, the synthetic history and everything else under the test's
  folder except the work dir and ``--out`` are unchanged (hashed before and after);
- a run that fails promotes no ``--out`` state;
- the process ends within its timeout (a hang is a failure, the process group is killed).

Cases that fail today are strict xfails whose reason says what happens; they flip to failures once
the fix lands, and the marks are then removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hiero_replay.simulate.history import write_history

from .hostile import filesystem, inputs, layouts
from .hostile.setup import (
    CLI,
    DOCUMENTED_EXIT_CODES,
    HANG_TIMEOUT,
    WRONG_HASH,
    Case,
    Setup,
    Shared,
    failed_run,
    snapshot,
    write_toml,
)


def _file(setup: Setup) -> str:
    return re.escape(str(setup.notes["file"]))


def _noting(builder: Callable[[Setup], list[str]], pick: Callable[[Setup], Path]) -> Callable[[Setup], list[str]]:
    """Run ``builder`` after remembering the name of the file ``pick`` chooses (for ``names``)."""

    def build(setup: Setup) -> list[str]:
        setup.notes["file"] = pick(setup).name
        return builder(setup)

    return build


SIZE_WORDS = r"(?i:size|large|limit|bound|bomb|exceed)"
HOLDS = r"(?i)\b(holds?|contains?|has|have)\b[^\n]*\b{}"
BLOCK_7 = r"0{35}7\.blk"

CASES: list[Case] = [
    # -- configuration -------------------------------------------------------------------------
    Case("config-toml-syntax", inputs.config_toml_syntax, 2, r"broken\.toml"),
    Case("config-wrong-type", inputs.config_wrong_type, 2, r"replay\.segment_rounds"),
    Case("config-unknown-key", inputs.config_unknown_key, 2, r"replay\.bootstrap_round"),
    Case("config-unknown-section", inputs.config_unknown_section, 2, r"replya"),
    Case("config-rate-bare-number", inputs.config_rate_bare_number, 2, r'"20 rounds/s"'),
    Case("config-rate-zero", inputs.config_rate_zero, 2, r"pace\.rate"),
    Case("config-file-missing", inputs.config_file_missing, 2, r"absent\.toml"),
    Case("config-file-is-fifo", inputs.config_file_is_fifo, 2, r"piped\.toml", timeout=HANG_TIMEOUT),
    Case("config-expected-state-and-target", inputs.config_expected_state_and_target, 2, r"expected_state"),
    Case("config-target-round-past-2-63", inputs.config_target_round_past_2_63, 2, r"target_round"),
    Case("config-unsupported-url", inputs.config_unsupported_url, 2, r"ftp://mirror\.example/events_0\.0\.3"),
    Case("config-http-endpoint-remote", inputs.config_http_endpoint_remote, 2, r"198\.51\.100\.7"),
    Case("env-rate-with-space", inputs.env_rate_with_space, 0, r"20 rounds/s", env={"HIERO_REPLAY_PACE__RATE": "20 rounds/s"}),
    Case(
        "env-bad-integer",
        inputs.env_bad_integer,
        2,
        r"HIERO_REPLAY_REPLAY__SEGMENT_ROUNDS",
        env={"HIERO_REPLAY_REPLAY__SEGMENT_ROUNDS": "many"},
    ),
    Case(
        "env-bad-list",
        inputs.env_bad_list,
        2,
        r"HIERO_REPLAY_BACKENDS__EVENT_STREAM__COMMAND",
        forbid=r"config file None",
        env={"HIERO_REPLAY_BACKENDS__EVENT_STREAM__COMMAND": "pcli.sh -L /opt/lib"},
    ),
    Case("env-unknown-key", inputs.env_unknown_key, 2, r"HIERO_REPLAY_REPLAY__TARGETROUND", env={"HIERO_REPLAY_REPLAY__TARGETROUND": "20"}),
    Case("metrics-port-in-use", inputs.metrics_port_in_use, 11, lambda s: rf"\b{s.notes['port']}\b"),
    Case("pushgateway-down-keeps-exit-code", inputs.pushgateway_down_keeps_exit_code, 3, r"(?s)(?=.*no-such-state)(?=.*127\.0\.0\.1:9)"),
    Case(
        "textfile-unwritable-keeps-exit-code", inputs.textfile_unwritable_keeps_exit_code, 5, r"(?s)(?=.*replay\.prom)(?=.*expected hash)"
    ),
    # -- stream files --------------------------------------------------------------------------
    Case("file-truncated-event", _noting(inputs.file_truncated_event, lambda s: s.event_files()[1]), 7, _file),
    Case("file-truncated-block", _noting(inputs.file_truncated_block, lambda s: s.block_files()[3]), 7, _file),
    Case("file-corrupt-block", _noting(inputs.file_corrupt_block, lambda s: s.block_files()[2]), 7, _file),
    Case("file-corrupt-block-run", _noting(inputs.file_corrupt_block_run, lambda s: s.block_files()[2]), 7, _file),
    Case("file-empty-event", inputs.file_empty_event, 7, r"2026-01-01T00_00_02\.500000000Z\.evts"),
    Case("file-garbage-block", inputs.file_garbage_block, 7, BLOCK_7),
    Case("file-gzip-bomb", inputs.file_gzip_bomb, 7, rf"(?s)(?=.*{BLOCK_7}\.gz)(?=.*{SIZE_WORDS})"),
    Case("file-zstd-bomb", inputs.file_zstd_bomb, 7, rf"(?s)(?=.*{BLOCK_7}\.zstd)(?=.*{SIZE_WORDS})"),
    Case("file-event-time-year-1e11", inputs.file_event_time_year_1e11, 7, _file),
    Case("file-block-time-year-1e11", inputs.file_block_time_year_1e11, 7, r"0{36}\.blk\.gz"),
    Case("file-block-round-past-2-63", inputs.file_block_round_past_2_63, 7, r"0{36}\.blk\.gz"),
    Case("file-bootstrap-round-past-2-64", inputs.file_bootstrap_round_past_2_64, 3, r"stateMetadata\.txt"),
    Case("file-event-name-month-13", inputs.file_event_name_month_13, (0, 4, 7), r"2026-13-01T00_00_00"),
    Case("file-event-name-feb-30", inputs.file_event_name_feb_30, (0, 4, 7), r"2026-02-30T00_00_00"),
    Case("file-event-name-hour-25", inputs.file_event_name_hour_25, (0, 4, 7), r"2026-01-01T25_00_00"),
    Case("file-renamed-block", inputs.file_renamed_block, 4, r"0{35}9\.blk\.gz"),
    Case("file-corrupt-signature", inputs.file_corrupt_signature, 7, r"\.evts_sig"),
    # -- folder layouts ------------------------------------------------------------------------
    Case("layout-events-at-blocks", layouts.layout_events_at_blocks, 2, HOLDS.format("block")),
    Case("layout-blocks-at-events", layouts.layout_blocks_at_events, 2, HOLDS.format("event")),
    Case("layout-swapped-auto", layouts.layout_swapped_auto, 2, HOLDS.format("(block|event)")),
    Case("layout-two-nodes", layouts.layout_two_nodes, 2, r"events_0\.0\.4"),
    Case("layout-empty-events", layouts.layout_empty_events, 3, r"empty-events"),
    Case("layout-events-is-file", _noting(layouts.layout_events_is_file, lambda s: s.event_files()[0]), 3, _file),
    Case("layout-bootstrap-is-metadata-file", layouts.layout_bootstrap_is_metadata_file, 0, r"\(round 10\)"),
    Case("layout-out-is-events", layouts.layout_out_is_events, 2, r"already exists|inside the --events folder"),
    # -- outputs inside inputs -----------------------------------------------------------------
    Case("inside-out-in-events", layouts.inside_out_in_events, 2, r"events_0\.0\.3/replayed"),
    Case("inside-work-in-events", layouts.inside_work_in_events, 2, r"events_0\.0\.3/work"),
    Case("inside-work-is-events", layouts.inside_work_is_events, 2, r"(?i)work"),
    Case("inside-work-in-blocks", layouts.inside_work_in_blocks, 2, r"block-0\.0\.3/work"),
    Case("inside-out-in-bootstrap", layouts.inside_out_in_bootstrap, 2, r"bootstrap/10/replayed"),
    Case("inside-work-is-expected-state", layouts.inside_work_is_expected_state, 2, r"(?i)work"),
    Case("inside-out-in-expected-state", layouts.inside_out_in_expected_state, 2, r"reference/120/replayed"),
    # -- saved states --------------------------------------------------------------------------
    Case("state-no-metadata", layouts.state_no_metadata, 3, r"stateMetadata\.txt"),
    Case("state-metadata-binary", layouts.state_metadata_binary, 3, r"stateMetadata\.txt"),
    Case("state-metadata-no-hash", layouts.state_metadata_no_hash, 3, r"HASH"),
    Case("state-metadata-is-directory", layouts.state_metadata_is_directory, 3, r"stateMetadata\.txt"),
    Case("state-metadata-fifo", layouts.state_metadata_fifo, 3, r"stateMetadata\.txt", timeout=HANG_TIMEOUT),
    Case("state-expected-metadata-socket", layouts.state_expected_metadata_socket, 3, r"120/stateMetadata\.txt"),
    Case("state-metadata-dev-null", layouts.state_metadata_dev_null, 3, r"stateMetadata\.txt"),
    Case("state-metadata-symlink-outside", layouts.state_metadata_symlink_outside, 3, r"(?i)(symlink|symbolic link|outside)"),
    Case("state-bootstrap-is-file", layouts.state_bootstrap_is_file, 3, r"hashInfo\.txt"),
    Case("state-expected-hash-odd", layouts.state_expected_hash_odd, 3, r"HASH 'abc'"),
    # -- symlinks and names --------------------------------------------------------------------
    Case("symlink-loop-pair", filesystem.symlink_loop_pair, (0, 7), r"2026-01-01T00_00_3[05]"),
    Case("symlink-self-block", filesystem.symlink_self_block, (0, 7), BLOCK_7),
    Case("symlink-dir-loop", filesystem.symlink_dir_loop, (0, 7), r"again"),
    Case("symlink-evil-root", filesystem.symlink_evil_root, (0, 7), r"evil", timeout=HANG_TIMEOUT),
    Case("symlink-file-outside-inspect", _noting(filesystem.symlink_file_outside_inspect, lambda s: s.event_files()[-1]), (0, 7), _file),
    Case("symlink-file-outside-run", _noting(filesystem.symlink_file_outside_run, lambda s: s.event_files()[0]), (4, 7), _file),
    Case("symlink-dir-outside", filesystem.symlink_dir_outside, (0, 7), r"more"),
    Case("symlink-dev-null-block", filesystem.symlink_dev_null_block, (0, 7), BLOCK_7),
    Case("symlink-loop-bootstrap", filesystem.symlink_loop_bootstrap, 3, r"loop-state"),
    Case("symlink-out-dangling", filesystem.symlink_out_dangling, 2, r"out-link"),
    Case("name-too-long-bootstrap", filesystem.name_too_long_bootstrap, 3, r"nnnnnnnnnn"),
    Case("name-too-long-out", filesystem.name_too_long_out, 2, r"nnnnnnnnnn"),
    Case("name-too-long-inspect", filesystem.name_too_long_inspect, 3, r"nnnnnnnnnn"),
    Case("name-too-long-work", filesystem.name_too_long_work, (2, 10), r"nnnnnnnnnn"),
    # -- hidden folders and temporary files ----------------------------------------------------
    Case("hidden-staging-events", filesystem.hidden_staging_events, 0, r"(?i)ignored\D{0,40}[1-9]"),
    Case("hidden-staging-blocks-plan", filesystem.hidden_staging_blocks_plan, 0, r"cutover round\s+61"),
    Case("temporary-files", filesystem.temporary_files, 0, r"(?i)ignored\D{0,40}[1-9]"),
    # -- special files -------------------------------------------------------------------------
    Case("special-fifo-event", filesystem.special_fifo_event, (0, 7), r"2026-01-01T00_00_30", timeout=HANG_TIMEOUT),
    Case("special-fifo-signature", filesystem.special_fifo_signature, (0, 7), r"\.evts_sig", timeout=HANG_TIMEOUT),
    Case("special-socket-block", filesystem.special_socket_block, (0, 7), BLOCK_7),
    Case("special-fifo-events-folder", filesystem.special_fifo_events_folder, 3, r"events-pipe", timeout=HANG_TIMEOUT),
    Case("special-fifo-status-json", filesystem.special_fifo_status_json, (0, 10), r"status\.json", timeout=HANG_TIMEOUT),
    # -- work-dir attacks ----------------------------------------------------------------------
    Case("work-is-regular-file", filesystem.work_is_regular_file, (2, 10), lambda s: re.escape(str(s.work))),
    Case("work-under-regular-file", filesystem.work_under_regular_file, (2, 10), r"plain-file"),
    Case("work-group-writable", filesystem.work_group_writable, 2, r"(?s)(?=.*/work\b)(?=.*(?i:writable|permission|mode))"),
    Case("work-world-writable", filesystem.work_world_writable, 2, r"(?s)(?=.*/work\b)(?=.*(?i:writable|permission|mode))"),
    Case("work-owned-by-other", filesystem.work_owned_by_other, 2, r"(?s)(?=.*/work\b)(?=.*(?i:own))"),
    Case("work-lock-symlink-to-victim", filesystem.work_lock_symlink_to_victim, (2, 10), r"lock"),
    Case("work-status-tmp-symlink", filesystem.work_status_tmp_symlink, 0, r"final ROUND\s+20", during=filesystem.plant_status_tmp),
    Case("work-runs-db-symlink-to-victim", filesystem.work_runs_db_symlink_to_victim, (2, 10), r"runs\.db"),
    Case("work-runs-db-garbage", filesystem.work_runs_db_garbage, 10, r"runs\.db"),
    Case("work-status-json-damaged", filesystem.work_status_json_damaged, (0, 10), r"status\.json"),
    Case("work-status-json-symlink-to-victim", filesystem.work_status_json_symlink_to_victim, (0, 10), r"status\.json"),
    Case("work-already-running", filesystem.work_already_running, 9, r"(?i)already running"),
    # -- report, status and resume misuse ------------------------------------------------------
    Case("report-into-missing-folder", filesystem.report_into_missing_folder, 2, r"no-such-folder"),
    Case("report-onto-directory", filesystem.report_onto_directory, 2, r"a-folder"),
    Case("report-unknown-run", filesystem.report_unknown_run, 3, r"no-such-run"),
    Case("status-work-dir-is-file", filesystem.status_work_dir_is_file, 2, r"work"),
    Case(
        "resume-after-hash-mismatch",
        filesystem.resume_after_hash_mismatch,
        2,
        r"(?s)(?=.*(?i:hash mismatch|expected hash|exit 5))(?=.*(?i:resum))",
    ),
    Case(
        "resume-after-early-stop", filesystem.resume_after_early_stop, 2, r"(?s)(?=.*(?i:stopped early|continuity|exit 4))(?=.*(?i:resum))"
    ),
    Case("resume-nothing", filesystem.resume_nothing, 2, r"(?i)no unfinished run"),
    Case("resume-unknown-run-id", filesystem.resume_unknown_run_id, 2, r"20990101T000000Z-ffffff"),
    # -- the last resort -----------------------------------------------------------------------
    Case("internal-error", filesystem.internal_error, 70, r"(?i)internal error.*see ", check=filesystem.internal_error_log_holds_traceback),
]


#: What happens today, for every case that fails: the fixes' to-do list. Strict xfails, so each one
#: turns into a failure (XPASS) when its fix lands: then delete its line here.
TODAY: dict[str, str] = {}


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=TODAY[case.id])] if case.id in TODAY else []
    return pytest.param(case, id=case.id, marks=marks)


def test_the_table_is_consistent() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 60
    assert set(TODAY) <= set(ids), set(TODAY) - set(ids)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    root = tmp_path_factory.mktemp("hostile-history") / "history"
    return Shared(write_history(root, bootstrap_round=10, cutover_round=61, target_round=120))


@pytest.fixture(scope="module")
def history_snapshot(shared: Shared) -> dict[str, str]:
    return snapshot(shared.history.root)


def base_env() -> dict[str, str]:
    """The test's environment without any HIERO_REPLAY_* setting that could leak into a case."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HIERO_REPLAY_") or key == "HIERO_REPLAY_SAMPLES"}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def run_cli(
    argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, during: Callable[[int], None] | None = None
) -> tuple[int | None, str]:
    """Run the CLI in its own process group; ``None`` as exit code when it hung (the group is killed)."""
    process = subprocess.Popen(
        [*CLI, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=cwd, start_new_session=True,
    )  # fmt: skip
    if during is not None:
        during(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it ended just now
            os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return None, f"{stdout}\n{stderr}"
    return process.returncode, f"{stdout}\n{stderr}"


def _differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return [f"{key}: {before.get(key, 'absent')} -> {after.get(key, 'absent')}" for key in changed[:8]]


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_hostile_input(case: Case, tmp_path: Path, shared: Shared, history_snapshot: dict[str, str]) -> None:
    setup = Setup.create(tmp_path, shared, base_env())
    setup.env.update(case.env)
    try:
        argv = case.build(setup)
        work, out = setup.work, setup.out
        out_existed = os.path.lexists(out)
        outside = snapshot(tmp_path, exclude={work, out})
        protected = {path: snapshot(path) for path in [tmp_path / "in", *setup.inputs]}
        victim = setup.victim.read_bytes()
        hook = case.during
        during = (lambda pid: hook(setup, pid)) if hook else None
        code, output = run_cli(argv, env=setup.env, cwd=tmp_path / "cwd", timeout=case.timeout, during=during)
    finally:
        for cleanup in reversed(setup.cleanups):
            cleanup()

    problems: list[str] = []
    if code is None:
        problems.append(f"hang: no exit within {case.timeout:g} s (process group killed)")
    else:
        if code not in case.expected_codes:
            problems.append(f"exit {code}, expected {' or '.join(map(str, case.expected_codes))}")
        if code not in DOCUMENTED_EXIT_CODES:
            problems.append(f"exit {code} is not a documented exit code")
    if "Traceback" in output:
        problems.append("a Python traceback was printed")
    names = case.names(setup) if callable(case.names) else case.names
    if code is not None and not re.search(names, output):
        problems.append(f"the output does not name the offending thing ({names!r})")
    if case.forbid and re.search(case.forbid, output):
        problems.append(f"the output says {case.forbid!r}")
    if setup.victim.read_bytes() != victim:
        problems.append(f"the victim file {setup.victim} was changed")
    for difference in _differences(outside, snapshot(tmp_path, exclude={work, out})):
        problems.append(f"changed outside the work dir and --out: {difference}")
    for path, before in protected.items():
        for difference in _differences(before, snapshot(path)):
            problems.append(f"changed inside the input {path}: {difference}")
    for difference in _differences(history_snapshot, snapshot(shared.history.root)):
        problems.append(f"changed inside the shared history: {difference}")
    if code != 0 and not out_existed and os.path.lexists(out):
        problems.append(f"the run failed but promoted {out}")
    if not problems and case.check is not None:
        case.check(setup, output)
    assert not problems, "\n".join(problems) + "\n--- output ---\n" + output[-3000:]


# --------------------------------------------------------------------------------------------
# Resume after a final failure


def _status(setup: Setup) -> dict[str, Any]:
    result = setup.cli("status", "--json", "--work-dir", setup.work)
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = json.loads(result.stdout)
    return status


def test_resume_after_a_hash_mismatch_is_refused_and_the_run_shows_failed(tmp_path: Path, shared: Shared) -> None:
    setup = Setup.create(tmp_path, shared, base_env())
    failed_out = setup.out
    failed_run(setup)
    [run] = _status(setup)["runs"]
    assert run["state"] == "failed" and run["exit_code"] == 5
    before = snapshot(tmp_path, exclude={setup.work})

    code, output = run_cli(["run", "--resume", "--work-dir", str(setup.work)], env=setup.env, cwd=tmp_path / "cwd", timeout=60)
    explicit, explicit_output = run_cli(
        ["run", "--resume", "--run-id", run["run_id"], "--work-dir", str(setup.work)], env=setup.env, cwd=tmp_path / "cwd", timeout=60
    )

    assert "Traceback" not in output + explicit_output
    assert (code, explicit) == (2, 2), output + explicit_output
    assert re.search(r"(?i)hash mismatch|expected hash|exit 5", output) and run["run_id"] in output
    status = _status(setup)
    [after] = status["runs"]
    assert after["state"] == "failed" and after["exit_code"] == 5, after
    assert (status["current"] or {}).get("state") != "running", status["current"]
    assert not os.path.lexists(failed_out)
    assert _differences(before, snapshot(tmp_path, exclude={setup.work})) == []  # no partial folder beside --out


# --------------------------------------------------------------------------------------------
# Secrets and the billing project never reach what a run writes or prints

SECRETS = {
    "credentials": (
        {
            "AWS_ACCESS_KEY_ID": "AKIAHOSTILEKEYID0001",
            "AWS_SECRET_ACCESS_KEY": "hostile-secret-access-key-7f3a9c",
            "AWS_SESSION_TOKEN": "hostile-session-token-5e1d2b",
            "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/hostile-gcp-credentials-9b8c.json",
        },
        "",
    ),
    "billing-project": ({}, '[buckets]\nbilling_project = "hostile-billing-project-4d6e"\nrequester_pays = true\n'),
}


@pytest.mark.parametrize(
    "kind",
    ["credentials", "billing-project"],
)
def test_no_secret_reaches_the_work_dir_the_output_or_the_logs(kind: str, tmp_path: Path, shared: Shared) -> None:
    env, toml = SECRETS[kind]
    setup = Setup.create(tmp_path, shared, {**base_env(), **env})
    config = write_toml(setup, toml)
    secrets = list(env.values()) + re.findall(r'billing_project = "([^"]+)"', toml)
    outputs = []
    exported = setup.tmp / "exported"  # the metrics and the report: outside the work directory
    exported.mkdir()
    metrics = exported / "metrics.prom"
    failed = setup.cli("run", "--config", config, *setup.quick("--expected-hash", WRONG_HASH, "--metrics-textfile", metrics))
    assert failed.returncode == 5, failed.stderr
    ok = setup.cli("run", "--config", config, "--log-format", "json", *setup.quick("--metrics-textfile", metrics))
    assert ok.returncode == 0, ok.stderr
    outputs += [failed, ok]
    outputs.append(setup.cli("status", "--json", "--work-dir", setup.work))
    outputs.append(setup.cli("report", "--html", exported / "report.html", "--work-dir", setup.work))
    assert all(result.returncode == 0 for result in outputs[2:]), [result.stderr for result in outputs[2:]]

    leaks = []
    for result in outputs:
        leaks += [f"output of {result.args[3:5]}: {secret}" for secret in secrets if secret in result.stdout + result.stderr]
    for root in (setup.work, setup.out, exported):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                leaks += [f"{path}: {secret}" for secret in secrets if secret.encode() in data]
    assert leaks == []
