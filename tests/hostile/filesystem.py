"""Hostile and careless inputs for ``hiero-replay`` (issue 13): what the file system holds.

Builders for symlinks and over-long names, hidden folders and temporary files, FIFOs and sockets,
attacks on the work directory, misuse of ``report``, ``status`` and ``--resume``, and the last-resort
internal error. Each builds its hostile set-up under the test's own folder (a ``Setup``, see
``setup``) and returns the argv after ``hiero-replay``; ``tests/test_hostile_inputs.py`` runs it and
checks the invariants every case shares.

Builders only use the CLI contract (flags, files, folders), the project's stream writers and the
synthetic history, never the orchestrator's internals: the source is being restructured.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

import pytest

from hiero_replay.store import RunStore

from .setup import Setup, failed_run, fifo, hold_lock, truncate_half, unix_socket, write_toml

# Builders, by category.  Each returns the argv after ``hiero-replay``.

# symlinks --------------------------------------------------------------------------------------


def symlink_loop_pair(s: Setup) -> list[str]:
    (s.events / "2026-01-01T00_00_30.000000000Z.evts").symlink_to("2026-01-01T00_00_35.000000000Z.evts")
    (s.events / "2026-01-01T00_00_35.000000000Z.evts").symlink_to("2026-01-01T00_00_30.000000000Z.evts")
    return ["inspect", str(s.events)]


def symlink_self_block(s: Setup) -> list[str]:
    name = s.next_block_name()
    (s.blocks / name).symlink_to(name)
    return ["inspect", str(s.blocks)]


def symlink_dir_loop(s: Setup) -> list[str]:
    (s.events / "again").symlink_to(".")
    return ["inspect", str(s.events)]


def symlink_evil_root(s: Setup) -> list[str]:
    (s.events / "evil").symlink_to("/")
    return ["inspect", str(s.events)]


def _outside_event(s: Setup, index: int) -> Path:
    """Move one event file out of the folder and leave a symlink to it in its place."""
    original = s.event_files()[index]
    outside = s.tmp / "outside" / original.name
    outside.parent.mkdir(exist_ok=True)
    original.rename(outside)
    original.symlink_to(outside)
    s.inputs.append(outside.parent)
    return original


def symlink_file_outside_inspect(s: Setup) -> list[str]:
    _outside_event(s, -1)
    return ["inspect", str(s.events)]


def symlink_file_outside_run(s: Setup) -> list[str]:
    _outside_event(s, 0)
    return ["run", *s.quick()]


def symlink_dir_outside(s: Setup) -> list[str]:
    other = s.tmp / "other-node" / "events_0.0.4"
    shutil.copytree(s.events, other)
    s.inputs.append(other.parent)
    (s.events / "more").symlink_to(other)
    return ["inspect", str(s.events)]


def symlink_dev_null_block(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name()).symlink_to("/dev/null")
    return ["inspect", str(s.blocks)]


def symlink_loop_bootstrap(s: Setup) -> list[str]:
    (s.tmp / "loop-state").symlink_to("loop-state")
    return ["run", *s.quick(bootstrap=s.tmp / "loop-state")]


def symlink_out_dangling(s: Setup) -> list[str]:
    s.out = s.tmp / "out-link"
    s.out.symlink_to(s.tmp / "somewhere-else")
    s.inputs.append(s.out)
    return ["run", *s.quick()]


LONG = "n" * 300


def name_too_long_bootstrap(s: Setup) -> list[str]:
    return ["run", *s.quick(bootstrap=s.tmp / LONG)]


def name_too_long_out(s: Setup) -> list[str]:
    s.out = s.tmp / LONG
    return ["run", *s.quick()]


def name_too_long_inspect(s: Setup) -> list[str]:
    return ["inspect", str(s.tmp / LONG)]


def name_too_long_work(s: Setup) -> list[str]:
    s.work = s.tmp / LONG
    return ["run", *s.quick()]


# hidden folders and temporary files ------------------------------------------------------------


def hidden_staging_events(s: Setup) -> list[str]:
    """A half-finished copy in a hidden folder (an rsync or gsutil staging area)."""
    staging = s.events / ".staging"
    staging.mkdir()
    shutil.copyfile(s.event_files()[1], staging / s.event_files()[1].name)
    return ["inspect", str(s.events)]


def hidden_staging_blocks_plan(s: Setup) -> list[str]:
    staging = s.blocks / ".staging"
    staging.mkdir()
    damaged = staging / s.block_files()[2].name
    shutil.copyfile(s.block_files()[2], damaged)
    truncate_half(damaged)
    return ["plan", *s.args()]


def temporary_files(s: Setup) -> list[str]:
    """Downloads in progress and editor backups named after real event files."""
    last = s.event_files()[-1]
    for name in (f"{last.name}.tmp", f"{last.name}.part", f"{last.name}~", f"#{last.name}#", f".{last.name}.swp"):
        shutil.copyfile(last, s.events / name)
    (s.events / f".#{last.name}").symlink_to("root@host.12345:1767225600")  # an Emacs lock: a dangling link
    return ["inspect", str(s.events)]


# special files ---------------------------------------------------------------------------------


def special_fifo_event(s: Setup) -> list[str]:
    fifo(s.events / "2026-01-01T00_00_30.000000000Z.evts")
    return ["inspect", str(s.events)]


def special_fifo_signature(s: Setup) -> list[str]:
    first = s.event_files()[0]
    fifo(first.with_name(first.name + "_sig"))
    return ["inspect", str(s.events)]


def special_socket_block(s: Setup) -> list[str]:
    unix_socket(s, s.blocks / s.next_block_name())
    return ["inspect", str(s.blocks)]


def special_fifo_events_folder(s: Setup) -> list[str]:
    return ["run", *s.quick(events=fifo(s.tmp / "events-pipe"))]


def special_fifo_status_json(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    fifo(s.work / "status.json")
    return ["status", "--work-dir", str(s.work)]


# work-dir attacks ------------------------------------------------------------------------------


def work_is_regular_file(s: Setup) -> list[str]:
    s.work.write_text("not a folder\n")
    s.inputs.append(s.work)
    return ["run", *s.quick()]


def work_under_regular_file(s: Setup) -> list[str]:
    (s.tmp / "plain-file").write_text("not a folder\n")
    s.inputs.append(s.tmp / "plain-file")
    s.work = s.tmp / "plain-file" / "work"
    return ["run", *s.quick()]


def work_group_writable(s: Setup) -> list[str]:
    s.work.mkdir()
    s.work.chmod(0o775)
    return ["run", *s.quick()]


def work_world_writable(s: Setup) -> list[str]:
    s.work.mkdir()
    s.work.chmod(0o777)
    return ["run", *s.quick()]


def work_owned_by_other(s: Setup) -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("giving the work dir to another user needs root")
    s.work.mkdir(mode=0o700)
    os.chown(s.work, 65534, 65534)
    return ["run", *s.quick()]


def work_lock_symlink_to_victim(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "lock").symlink_to(s.victim)
    return ["run", *s.quick()]


def work_status_tmp_symlink(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    return ["run", *s.quick()]


def plant_status_tmp(s: Setup, pid: int) -> None:
    """Another user predicts the temporary name of status.json and plants a symlink there."""
    with contextlib.suppress(FileExistsError):  # the run was faster: the next status write finds the link instead
        (s.work / f".status.json.{pid}.tmp").symlink_to(s.victim)


def work_runs_db_symlink_to_victim(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "runs.db").symlink_to(s.victim)
    return ["run", *s.quick()]


def work_runs_db_garbage(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    (s.work / "runs.db").write_bytes(b"this is not a database" * 100)
    return ["status", "--work-dir", str(s.work)]


def work_status_json_damaged(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    (s.work / "status.json").write_text('{"run_id": "x", "state": "runn')
    return ["status", "--work-dir", str(s.work)]


def work_status_json_symlink_to_victim(s: Setup) -> list[str]:
    RunStore(s.work).close()  # a work directory runs used
    (s.work / "status.json").symlink_to(s.victim)
    return ["status", "--work-dir", str(s.work)]


def work_already_running(s: Setup) -> list[str]:
    hold_lock(s)
    return ["run", *s.quick()]


# report, status and resume misuse --------------------------------------------------------------


def report_into_missing_folder(s: Setup) -> list[str]:
    failed_run(s)
    return ["report", "--html", str(s.tmp / "no-such-folder" / "report.html"), "--work-dir", str(s.work)]


def report_onto_directory(s: Setup) -> list[str]:
    failed_run(s)
    (s.tmp / "a-folder").mkdir()
    return ["report", "--html", str(s.tmp / "a-folder"), "--work-dir", str(s.work)]


def report_unknown_run(s: Setup) -> list[str]:
    failed_run(s)
    return ["report", "no-such-run", "--html", str(s.tmp / "report.html"), "--work-dir", str(s.work)]


def status_work_dir_is_file(s: Setup) -> list[str]:
    s.work.write_text("not a folder\n")
    s.inputs.append(s.work)
    return ["status", "--work-dir", str(s.work)]


def resume_after_hash_mismatch(s: Setup) -> list[str]:
    failed_run(s)
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_after_early_stop(s: Setup) -> list[str]:
    early = (  # a PCLI that stops 5 rounds short of its final round, without failing (its usage unchanged)
        "import sys; from hiero_replay.simulate.pcli import main; a = sys.argv[1:]\n"
        "if '--final-round' in a: i = a.index('--final-round'); a[i + 1] = str(int(a[i + 1]) - 5)\n"
        "main(a)"
    )
    toml = write_toml(s, f"[backends.event_stream]\ncommand = [{sys.executable!r}, '-c', {early!r}]\n")
    args = s.quick()
    args.remove("--simulate")
    first = s.cli("run", "--config", toml, *args)
    assert first.returncode == 4, first.stderr
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_nothing(s: Setup) -> list[str]:
    s.work.mkdir(mode=0o700)
    return ["run", "--resume", "--work-dir", str(s.work)]


def resume_unknown_run_id(s: Setup) -> list[str]:
    failed_run(s)
    return ["run", "--resume", "--run-id", "20990101T000000Z-ffffff", "--work-dir", str(s.work)]


# the last resort -------------------------------------------------------------------------------


def internal_error(s: Setup) -> list[str]:
    """A fault nobody planned for (here: the JSON encoder breaks) must still end in one line."""
    inject = s.tmp / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import json\ndef _broken(*args, **kwargs):\n    raise RuntimeError('hostile injected fault')\njson.dumps = _broken\n"
    )
    s.env["PYTHONPATH"] = str(inject)
    return ["run", *s.quick()]


def internal_error_log_holds_traceback(s: Setup, output: str) -> None:
    import re

    match = re.search(r"internal error.*?see (\S+?)\.?$", output, re.MULTILINE | re.IGNORECASE)
    assert match, output
    log = Path(match.group(1))
    if not log.is_absolute():
        log = s.tmp / "cwd" / log
    text = log.read_text()
    assert "Traceback" in text and "hostile injected fault" in text
