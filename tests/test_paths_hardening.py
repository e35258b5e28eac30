"""Where hiero-replay writes: ``--out``, ``--metrics-textfile``, ``report --html``, ``--job-root`` and
the work directory are never inside what a run reads or inside each other, are not empty and are
valid UTF-8; each is refused (exit 2) before anything is written. An ``--out`` that appears while a
run goes on is not replaced: the verified state is kept beside it, and the error says where."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata
from hiero_replay.store import RunStore

CLI = [sys.executable, "-m", "hiero_replay"]
#: A name that is not valid UTF-8, as Python hands it to the file system (surrogate escapes).
NOT_UTF8 = os.fsdecode(b"o\xff\xfe")


def cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *(arg if isinstance(arg, str) else str(arg) for arg in args)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
        cwd=cwd,
    )


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A history of its own for each test: a failing test must not damage another's inputs."""
    return write_history(tmp_path / "history", saved_every=50)


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its content."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def saved_110(history: History) -> Path:
    """The saved state of round 110, where the block stream already runs."""
    [state] = [state for state in history.saved_states if state.name == "110"]
    return state


def quick(history: History, *extra: object) -> list[object]:
    """A short block-stream run from the saved state of round 110 to round 150."""
    return [
        "run", "--simulate", "--mode", "block-stream", "--blocks", history.blocks_dir, "--events", history.events_dir,
        "--bootstrap-state", saved_110(history), "--node-id", "3", "--target-round", "150", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("target", ["bootstrap-metadata", "event-file", "run-store"])
def test_a_metrics_textfile_inside_an_input_or_the_work_dir_is_refused_before_anything_is_written(
    target: str, history: History, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    RunStore(work).close()  # a work directory that runs used
    textfile = {
        "bootstrap-metadata": saved_110(history) / "stateMetadata.txt",
        "event-file": sorted(history.events_dir.glob("*.evts"))[0],
        "run-store": work / "runs.db",
    }[target]
    inputs, kept = files(history.root), files(work)

    result = cli(*quick(history, "--work-dir", work, "--out", tmp_path / "out", "--metrics-textfile", textfile))

    assert result.returncode == 2, result.stderr
    assert f"--metrics-textfile {textfile} is inside the" in result.stderr
    assert files(history.root) == inputs and files(work) == kept
    assert not (tmp_path / "out").exists()


def test_a_resume_refuses_a_metrics_textfile_in_the_work_dir_too(history: History, tmp_path: Path) -> None:
    work = tmp_path / "work"
    config = tmp_path / "broken.toml"
    config.write_text(f"[backends.block_stream]\ncommand = {json.dumps([str(tmp_path / 'no-such-tool')])}\n")
    args = quick(history, "--work-dir", work, "--out", tmp_path / "out", "--config", config)
    args.remove("--simulate")
    failed = cli(*args)
    assert failed.returncode == 6, failed.stderr  # the tool cannot start: a run to resume
    kept = files(work)

    result = cli("run", "--resume", "--work-dir", work, "--metrics-textfile", work / "runs.db")

    assert result.returncode == 2, result.stderr
    assert f"--metrics-textfile {work / 'runs.db'} is inside the --work-dir folder" in result.stderr
    assert files(work) == kept
    # ...and checked against the folders the run recorded, not this command's (which names none)
    blocks = history.blocks_dir
    into_input = cli("run", "--resume", "--work-dir", work, "--metrics-textfile", blocks / "m.prom")
    assert into_input.returncode == 2 and "inside" in into_input.stderr, into_input.stderr
    unlocked = {name: data for name, data in kept.items() if name != "lock"}  # (the lock notes who took it last)
    assert not (blocks / "m.prom").exists() and {name: data for name, data in files(work).items() if name != "lock"} == unlocked


@pytest.mark.parametrize(
    ("case", "flags", "folder"),
    [
        ("out-inside-work-dir", ["--work-dir", "w", "--out", "w/runs"], "--work-dir"),
        ("out-is-work-dir", ["--work-dir", "x", "--out", "x"], "--out"),
        ("textfile-inside-out", ["--work-dir", "w", "--metrics-textfile", "ox/m.prom", "--out", "ox"], "--out"),
        ("work-dir-inside-out", ["--work-dir", "o/w", "--out", "o"], "--out"),
    ],
)
def test_outputs_inside_one_another_are_refused_before_anything_is_written(
    case: str, flags: list[str], folder: str, history: History, tmp_path: Path
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = cli(*quick(history, *flags), cwd=cwd)

    assert result.returncode == 2, result.stderr
    assert f"is inside the {folder} folder" in result.stderr, case
    assert not list(cwd.iterdir())  # no work directory, lock, run store or output


#: A backend that lets another process create ``--out`` while it replays (before it writes its
#: output): the block-stream simulator, run after making the folder named by OUT_APPEARS.
APPEARING = (
    "import os, runpy, sys\n"
    "if '--target-round' in sys.argv:\n"
    "    os.makedirs(os.environ['OUT_APPEARS'], exist_ok=True)\n"
    "runpy.run_module('hiero_replay.simulate.validator', run_name='__main__')\n"
)


@pytest.mark.parametrize("appears", ["empty-folder", "folder-with-a-file"])
def test_an_out_that_appears_during_the_run_is_not_replaced_and_the_state_is_kept_visibly(
    appears: str, history: History, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = tmp_path / "backends.toml"
    config.write_text(f"[backends.block_stream]\ncommand = {json.dumps([sys.executable, '-c', APPEARING])}\n")
    args = quick(history, "--work-dir", tmp_path / "work", "--out", out, "--config", config)
    args.remove("--simulate")  # the block-stream command is the wrapper above
    env = {**os.environ, "OUT_APPEARS": str(out)}
    if appears == "folder-with-a-file":
        env["OUT_APPEARS"] = str(out / "theirs")

    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)

    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    [kept] = [path for path in tmp_path.iterdir() if path.name.endswith("-final-state")]
    assert f"The output {out} appeared while the run went on" in result.stderr and str(kept) in result.stderr
    assert read_state_metadata(kept).round == 150  # the verified state, in full
    assert [path.name for path in out.rglob("*")] == ([] if appears == "empty-folder" else ["theirs"])  # theirs, untouched
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]
    status = json.loads(cli("status", "--json", "--work-dir", tmp_path / "work").stdout)
    assert status["runs"][0]["state"] == "failed" and status["runs"][0]["exit_code"] == 2


@pytest.mark.parametrize("flag", ["--out", "--work-dir", "--metrics-textfile"])
def test_a_path_that_is_not_utf8_is_refused_before_anything_is_written(flag: str, history: History, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args = quick(history, "--work-dir", tmp_path / "work", "--out", tmp_path / "out")
    given = {"--out": tmp_path / "out", "--work-dir": tmp_path / "work"}.get(flag)
    if given is not None:
        args[args.index(given)] = cwd / NOT_UTF8
    else:
        args += [flag, cwd / NOT_UTF8]

    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, errors="replace", timeout=300, cwd=cwd)

    assert result.returncode == 2, result.stderr
    assert "is not valid UTF-8" in result.stderr and "o\\xff\\xfe" in result.stderr
    assert not list(cwd.iterdir()) and not (tmp_path / "out").exists()


def test_an_input_path_that_is_not_utf8_fails_as_its_error_says_and_is_recorded(history: History, tmp_path: Path) -> None:
    """Inputs may be named in any bytes; a run that fails on one records its message (the bytes
    escaped) instead of failing to, and to keep the traceback of that, with a traceback of its own."""
    args = quick(history, "--work-dir", tmp_path / "work", "--out", tmp_path / "out")
    args[args.index("--bootstrap-state") + 1] = tmp_path / NOT_UTF8
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, errors="replace", timeout=300)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and "does not exist" in result.stderr
    [run] = RunStore(tmp_path / "work", create=False).runs()
    assert run.state == "failed" and run.exit_code == 3 and "o\\xff\\xfe does not exist" in (run.error_message or "")


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (["--out", ""], "replay.out"),
        (["--metrics-textfile", ""], "metrics.textfile"),
        (["--work-dir", ""], "work_dir"),
    ],
)
def test_an_empty_output_path_is_named_as_empty(command: list[str], field: str, history: History, tmp_path: Path) -> None:
    args = quick(history, "--work-dir", tmp_path / "work", "--out", tmp_path / "out")
    if command[0] in args:
        args[args.index(command[0]) + 1] = ""
    else:
        args += command

    result = cli(*args, cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert f"{field}: the path is empty" in result.stderr
    assert "already exists" not in result.stderr


def test_report_writes_nothing_into_the_work_dir_or_the_run_inputs(history: History, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert cli(*quick(history, "--work-dir", work, "--out", tmp_path / "out")).returncode == 0
    inputs, kept = files(history.root), files(work)

    for target, folder in [
        (work / "runs.db", "--work-dir"),
        (work / "report.html", "--work-dir"),
        (history.blocks_dir / "report.html", "--blocks"),
        (saved_110(history) / "stateMetadata.txt", "--bootstrap-state"),
    ]:
        refused = cli("report", "--work-dir", work, "--html", target)
        assert refused.returncode == 2, (target, refused.stdout, refused.stderr)
        assert f"--html {target} is inside the {folder} folder" in refused.stderr
    empty = cli("report", "--work-dir", work, "--html", "")
    assert empty.returncode == 2 and "--html: the path is empty" in empty.stderr

    assert files(history.root) == inputs and files(work) == kept
    assert cli("status", "--work-dir", work).returncode == 0
    assert cli("report", "--work-dir", work, "--html", tmp_path / "report.html").returncode == 0


@pytest.mark.parametrize("where", ["states", "blocks", "saved-state", "work-dir-in-states", "empty", "not-utf8"])
def test_verify_history_refuses_job_folders_inside_its_inputs_up_front(where: str, history: History, tmp_path: Path) -> None:
    assert history.saved_dir is not None
    work = history.saved_dir / "work" if where == "work-dir-in-states" else tmp_path / "work"
    job_root = {
        "states": history.saved_dir / "jobs",
        "blocks": history.blocks_dir / "jobs",
        "saved-state": saved_110(history) / "jobs",
        "empty": "",
        "not-utf8": tmp_path / NOT_UTF8,
    }.get(where)
    inputs = files(history.root)
    args = [
        "verify-history", "--simulate", "--events", history.events_dir, "--blocks", history.blocks_dir, "--node-id", "3",
        "--states", history.saved_dir, "--work-dir", work, *(["--job-root", job_root] if job_root is not None else []),
    ]  # fmt: skip

    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, errors="replace", timeout=300, cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    expected = {"empty": "--job-root: the path is empty", "not-utf8": "is not valid UTF-8", "work-dir-in-states": "--work-dir"}
    assert expected.get(where, "--job-root") in result.stderr
    assert files(history.root) == inputs
    assert not (tmp_path / "work").exists() and not list(history.root.rglob("jobs"))
