"""Saved states, stream file sizes and the work directory's own data, read back from hostile or
damaged copies: each ends in its typed error (or is reported and ignored), never in exit 70."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from hiero_replay.cli import _keep_traceback, options
from hiero_replay.config import load_settings
from hiero_replay.history.results import ResultFile, ResultsLocation
from hiero_replay.history.states import discover_states
from hiero_replay.inventory.reading import read_stream_file
from hiero_replay.model.history import JobResult
from hiero_replay.simulate.history import History, write_history
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.states import METADATA_FILE, METADATA_LIMIT, InvalidStateError, read_state_metadata
from hiero_replay.streams.compression import decompression_limit, set_decompression_limit
from hiero_replay.streams.naming import parse_stream_file_name

from .buckets import make_bucket
from .history_helpers import run_cli
from .object_servers import SeaweedS3


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history") / "base", saved_every=50)


def _saved(history: History, round_number: int) -> Path:
    return next(path for path in history.saved_states if path.name == str(round_number))


def _run(history: History, tmp_path: Path, *flags: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    args = ["run", "--simulate", "--work-dir", str(tmp_path / "work"), "--events", str(history.events_dir)]
    args += ["--blocks", str(history.blocks_dir), "--bootstrap-state", str(history.bootstrap_state), "--out", str(out), *flags]
    done = run_cli(args)
    return done.returncode, done.stderr, out


# --- --expected-state FOLDER: the newest snapshot must be the round it is named after ---------------


def test_expected_state_folder_refuses_a_newest_snapshot_of_another_round(history: History, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(history.expected_state, reference / "220")
    shutil.copytree(_saved(history, 60), reference / "999")  # round 60's state, named as a newer one
    code, stderr, out = _run(history, tmp_path, "--expected-state", str(reference))
    assert code == 3, stderr
    assert "999/stateMetadata.txt says ROUND 60, but its round directory is named 999" in stderr
    assert not out.exists()


def test_expected_state_folder_refuses_a_newest_snapshot_whose_metadata_is_not_a_file(history: History, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(history.expected_state, reference / "220")
    shutil.copytree(_saved(history, 60), reference / "300")
    (reference / "300" / METADATA_FILE).unlink()
    os.mkfifo(reference / "300" / METADATA_FILE)  # never passed over for an older snapshot, never waited on
    code, stderr, out = _run(history, tmp_path, "--expected-state", str(reference))
    assert code == 3, stderr
    assert f"{reference / '300' / METADATA_FILE} is not a regular file" in stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["٣٠٠", "²", "３００"])
def test_expected_state_folder_takes_only_ascii_round_names(history: History, tmp_path: Path, name: str) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(history.expected_state, reference / "220")
    shutil.copytree(_saved(history, 60), reference / name)  # not a round number: not a round directory
    code, stderr, out = _run(history, tmp_path, "--expected-state", str(reference))
    assert code == 0, stderr
    assert read_state_metadata(out).round == 220


def test_saved_states_in_folders_not_named_by_ascii_rounds_are_not_rounds(history: History, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(_saved(history, 60), saved / "ServicesMain" / "3" / "123" / "60")
    shutil.copytree(_saved(history, 110), saved / "ServicesMain" / "3" / "123" / "110")
    shutil.copytree(_saved(history, 160), saved / "ServicesMain" / "³" / "123" / "160")
    shutil.copytree(_saved(history, 210), saved / "ServicesMain" / "3" / "123" / "²")
    settings = load_settings(None, {"work_dir": str(tmp_path / "work"), "replay": {"node_id": 3}})
    assert [state.round for state in discover_states(str(saved), settings)] == [60, 110, 160]


# --- verify-history --states: every saved state is read, bounded, or refused ------------------------


def _saved_copy(history: History, tmp_path: Path) -> Path:
    assert history.saved_dir is not None
    saved = tmp_path / "saved"
    shutil.copytree(history.saved_dir, saved)
    return saved


def _verify_dry_run(history: History, tmp_path: Path, states: Path) -> tuple[int, str]:
    args = ["verify-history", "--simulate", "--work-dir", str(tmp_path / "work"), "--events", str(history.events_dir)]
    args += ["--blocks", str(history.blocks_dir), "--node-id", "3", "--states", str(states), "--dry-run"]
    done = run_cli(args)
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout + done.stderr


def _folder_with_a_file(path: Path) -> None:
    path.mkdir()
    (path / "x").write_text("ROUND: 60\n")


_NOT_A_FILE: dict[str, Callable[[Path], None]] = {
    "fifo": os.mkfifo,
    "empty folder": Path.mkdir,
    "folder with a file": _folder_with_a_file,
    "dangling link": lambda path: path.symlink_to(path.parent / "nowhere"),
    "link to a file": lambda path: path.symlink_to(path.parent / "hashInfo.txt"),
}


@pytest.mark.parametrize("kind", list(_NOT_A_FILE))
def test_a_saved_state_whose_metadata_is_not_a_file_is_refused_not_skipped(history: History, tmp_path: Path, kind: str) -> None:
    saved = _saved_copy(history, tmp_path)
    metadata = saved / "ServicesMain" / "3" / "123" / "60" / METADATA_FILE
    metadata.unlink()
    _NOT_A_FILE[kind](metadata)
    code, output = _verify_dry_run(history, tmp_path, saved)
    assert code == 3, output
    assert f"{metadata} is not a regular file" in output


def test_a_huge_saved_state_metadata_file_is_refused_after_reading_at_most_the_limit(history: History, tmp_path: Path) -> None:
    saved = _saved_copy(history, tmp_path)
    metadata = saved / "ServicesMain" / "3" / "123" / "60" / METADATA_FILE
    with metadata.open("r+b") as handle:
        handle.truncate(64 * 2**20)  # sparse: its valid first lines, then zeros
    code, output = _verify_dry_run(history, tmp_path, saved)
    assert code == 3, output
    assert f"{metadata} is larger than {METADATA_LIMIT:,} bytes" in output
    with pytest.raises(InvalidStateError, match="is larger than"):
        read_state_metadata(metadata.parent)  # the bootstrap path: the same reader


def test_a_huge_saved_state_metadata_object_is_refused_by_its_size(history: History, tmp_path: Path, seaweed: SeaweedS3) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, path_style=True)
    assert history.saved_dir is not None
    bucket.upload_folder(history.saved_dir)
    assert [state.round for state in discover_states(bucket.url, bucket.settings())][:2] == [10, 60]
    good = (_saved(history, 60) / METADATA_FILE).read_bytes()
    bucket.put(f"ServicesMain/3/123/60/{METADATA_FILE}", good + b"\0" * METADATA_LIMIT)
    with pytest.raises(InvalidStateError, match=f"60/{METADATA_FILE} is {len(good) + METADATA_LIMIT:,} bytes"):
        discover_states(bucket.url, bucket.settings())


def test_an_internal_error_is_kept_in_the_work_dir_given_even_before_it_exists(tmp_path: Path) -> None:
    token = options.current_work_dir.set(tmp_path / "work")
    try:
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            kept = Path(_keep_traceback())
    finally:
        options.current_work_dir.reset(token)
    assert kept.parent == tmp_path / "work" / "internal-errors"
    assert "RuntimeError: a bug" in kept.read_text()


# --- stream files: none larger than limits.max_decompressed_bytes is read -----------------------------

LIMIT = 2**20
LIMITED = {"HIERO_REPLAY_LIMITS__MAX_DECOMPRESSED_BYTES": str(LIMIT)}


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def _oversized_copy(history: History, tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """A copy of one stream folder with one of its files replaced by a sparse file past the limit."""
    if kind == "block":
        folder = shutil.copytree(history.blocks_dir, tmp_path / "blocks")
        gzipped = folder / "000000000000000000000000000000000007.blk.gz"
        gzipped.unlink()
        return folder, _sparse(folder / "000000000000000000000000000000000007.blk", LIMIT + 1)
    folder = shutil.copytree(history.events_dir, tmp_path / "events")
    first = sorted(folder.glob("*.evts"))[0]
    if kind == "signature":
        return folder, _sparse(first.with_suffix(".evts_sig"), LIMIT + 1)
    return folder, _sparse(first, LIMIT + 1)


@pytest.mark.parametrize("kind", ["block", "events", "signature"])
def test_a_plain_stream_file_past_the_limit_is_refused_by_its_size(history: History, tmp_path: Path, kind: str) -> None:
    folder, oversized = _oversized_copy(history, tmp_path, kind)
    done = run_cli(["inspect", str(folder)], env=LIMITED)
    assert done.returncode == 7, done.stdout + done.stderr
    assert f"{oversized.name}: {LIMIT + 1:,} bytes, more than a stream file may hold ({LIMIT:,} bytes" in done.stdout


class _CountingSource(LocalDirSource):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        self.reads.append(key)
        return super().read(key, fresh=fresh)


def test_a_stream_file_past_the_limit_is_never_read(history: History, tmp_path: Path) -> None:
    folder, oversized = _oversized_copy(history, tmp_path, "block")
    source = _CountingSource(folder)
    name = parse_stream_file_name(oversized.name)
    assert name is not None
    default = decompression_limit()
    set_decompression_limit(LIMIT)
    try:
        read = read_stream_file(source, name, oversized.stat().st_size)
    finally:
        set_decompression_limit(default)
    assert read.error is not None and read.error.exit_code == 7
    assert source.reads == []


# --- the work directory's own files, damaged: reported, never exit 70 --------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def recorded(history: History, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work directory holding one replay (its runs.db, status.json and probes.json)."""
    folder = tmp_path_factory.mktemp("recorded")
    code, stderr, _ = _run(history, folder)
    assert code == 0, stderr
    return folder / "work"


def _work_copy(recorded: Path, tmp_path: Path) -> Path:
    return shutil.copytree(recorded, tmp_path / "work")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (DEEP, "maximum recursion depth exceeded"),
        ("[1]", "not an object"),
        ('{"run_id": "r", "state": "running", "segments": 2}', "segment is missing"),
        ('{"run_id": "r", "state": "running", "segments": 2, "segment": 1, "backend": null, "source_type": null, '
         '"current_round": 5, "target_round": 9, "eta_seconds": "soon"}', "eta_seconds is 'soon'"),
        ('{"run_id": 7, "state": "failed"}', "run_id is 7"),
    ],
)  # fmt: skip
def test_a_damaged_status_file_is_reported_and_ignored(recorded: Path, tmp_path: Path, content: str, why: str) -> None:
    work = _work_copy(recorded, tmp_path)
    (work / "status.json").write_text(content)
    shown = run_cli(["status", "--work-dir", str(work)])
    assert shown.returncode == 0, shown.stderr
    assert "current: status.json unreadable, ignored" in shown.stdout and why in shown.stdout
    as_json = run_cli(["status", "--json", "--work-dir", str(work)])
    assert as_json.returncode == 0, as_json.stderr
    assert why in json.loads(as_json.stdout)["current"]["unreadable"]
    assert not (work / "internal-errors").exists()


def _options_as_text(probes: str) -> str:
    return json.dumps({key: {**entry, "options": " ".join(entry["options"])} for key, entry in json.loads(probes).items()})


@pytest.mark.parametrize("damage", [lambda _: DEEP, _options_as_text], ids=["nested too deeply", "options as text"])
def test_a_damaged_probe_cache_is_probed_again(history: History, recorded: Path, tmp_path: Path, damage: Callable[[str], str]) -> None:
    work = _work_copy(recorded, tmp_path)
    probes = work / "probes.json"
    good = probes.read_text()
    probes.write_text(damage(good))
    code, stderr, _ = _run(history, tmp_path)
    assert code == 0, stderr
    assert json.loads(probes.read_text()) == json.loads(good)  # probed again and written anew
    probes.write_text(damage(good))
    assert history.saved_dir is not None
    args = ["verify-history", "--simulate", "--work-dir", str(work), "--events", str(history.events_dir), "--blocks"]
    args += [str(history.blocks_dir), "--node-id", "3", "--states", str(history.saved_dir), "--last-jobs", "1"]
    verified = run_cli(args)
    assert verified.returncode == 0, verified.stderr


_RUN_TAMPERING = {
    "plan not JSON": ("UPDATE runs SET plan = 'x'", "plan is not JSON"),
    "plan not an object": ("UPDATE runs SET plan = '[]'", "plan is [], not an object"),
    "plan not a plan": ("UPDATE runs SET plan = '{\"segments\": 5}'", "plan is not a plan hiero-replay writes"),
    "settings not JSON": ("UPDATE runs SET settings = '[1'", "settings is not JSON"),
    "settings null": ("UPDATE runs SET settings = 'null'", "settings is None, not an object"),
    "started_at text": ("UPDATE runs SET started_at = 'abc'", "started_at is 'abc', not a moment"),
    "started_at 1e300": ("UPDATE runs SET started_at = 1e300", "started_at is 1e+300, not a moment"),
    "segment seconds text": ("UPDATE segments SET seconds = 'abc'", "segment 1 of run"),
    "segment state bogus": ("UPDATE segments SET state = 'bogus'", "state is 'bogus', not one of 'pending'"),
    "segment inputs not JSON": ("UPDATE segments SET inputs = '{'", "inputs is not JSON"),
    "checksum dropped": (
        "UPDATE runs SET plan = json_remove(plan, '$.segments[0].checksums[0]')",
        "checksums must be one CRC-32 per file",
    ),
    "checksum not a number": (
        "UPDATE runs SET plan = json_set(plan, '$.segments[0].checksums[0]', 'x')",
        "checksums must be one CRC-32 per file",
    ),
}


@pytest.mark.parametrize("tampering", list(_RUN_TAMPERING))
def test_a_tampered_run_record_is_reported_as_damaged(recorded: Path, tmp_path: Path, tampering: str) -> None:
    work = _work_copy(recorded, tmp_path)
    statement, why = _RUN_TAMPERING[tampering]
    with sqlite3.connect(work / "runs.db") as db:
        db.execute("UPDATE runs SET state = 'interrupted', exit_code = 8")  # a run to resume
        db.execute(statement)
    db.close()
    for args in (["status"], ["status", "--json"], ["report", "--html", str(tmp_path / "report.html")], ["run", "--resume"]):
        done = run_cli([*args, "--work-dir", str(work)])
        assert done.returncode == 10, (args, done.stderr)
        assert f"The run store {work / 'runs.db'} holds a damaged record of" in done.stderr and why in done.stderr, args
    assert not (work / "internal-errors").exists()


# --- verify-history --collect: a result file is a job result, or refused ------------------------------


def _result_file(folder: Path, **job: object) -> Path:
    result = JobResult(0, 10, 60, "ab" * 48, "cd" * 48, "verified", 0, "pod", 1.5, started_at=1.7e9, finished_at=1.7e9 + 1.5)
    entry = ResultFile("history-x", "/states", 1, "listing", result, 1.7e9 + 2)
    path = folder / "history-x" / "10-60.json"
    path.parent.mkdir(parents=True)
    data = entry.to_json()
    data["job"] = None if job.get("job", 1) is None else {**data["job"], **job}
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("job", "why"),
    [
        ({"seconds": "abc"}, "job: seconds is 'abc', not a finite number"),
        ({"job": None}, "job: not an object but None"),
        ({"exit_code": "x"}, "job: exit_code is 'x', not a whole number"),
        ({"exit_code": 5}, "job: outcome 'verified' is not what exit code 5 gives (mismatch)"),
        ({"started_at": 1e300}, "job: started_at is 1e+300"),
        ({"index": True}, "job: index is True"),
    ],
)
def test_a_damaged_result_file_is_refused_by_collect(tmp_path: Path, job: dict[str, object], why: str) -> None:
    results = tmp_path / "results"
    path = _result_file(results, **job)
    done = run_cli(["verify-history", "--collect", str(results), "--work-dir", str(tmp_path / "work"), "--json"])
    assert done.returncode == 7, done.stderr
    assert f"{path.relative_to(results)} is not a job result: {why}" in done.stderr
    assert done.stdout == ""  # nothing counted as verified


def test_a_deeply_nested_result_file_is_refused_by_collect_and_ignored_by_a_pod(tmp_path: Path) -> None:
    results = tmp_path / "results"
    path = _result_file(results)
    location = ResultsLocation(str(results), load_settings(None, {"work_dir": str(tmp_path / "work")}))
    assert location.find("history-x", (10, 60)) is not None
    assert run_cli(["verify-history", "--collect", str(results), "--work-dir", str(tmp_path / "work")]).returncode == 0
    path.write_text(DEEP)
    done = run_cli(["verify-history", "--collect", str(results), "--work-dir", str(tmp_path / "work")])
    assert done.returncode == 7, done.stderr
    assert "is not a job result: nested too deeply" in done.stderr
    assert location.find("history-x", (10, 60)) is None  # the pod runs its job again


_HISTORY_TAMPERING = {
    "job seconds text": ("UPDATE jobs SET seconds = 'abc'", "seconds is 'abc'"),
    "job outcome not its exit code": ("UPDATE jobs SET exit_code = 5", "outcome 'verified' is not what exit code 5 gives"),
    "spec not JSON": ("UPDATE histories SET spec = '[['", "spec is not JSON"),
    "history state bogus": ("UPDATE histories SET state = 'bogus'", "state is 'bogus'"),
}


@pytest.mark.parametrize("tampering", list(_HISTORY_TAMPERING))
def test_a_tampered_history_record_is_reported_as_damaged(tmp_path: Path, tampering: str) -> None:
    results, work = tmp_path / "results", tmp_path / "work"
    _result_file(results)
    assert run_cli(["verify-history", "--collect", str(results), "--work-dir", str(work)]).returncode == 0
    statement, why = _HISTORY_TAMPERING[tampering]
    with sqlite3.connect(work / "runs.db") as db:
        db.execute(statement)
    db.close()
    for args in (["status"], ["report", "--html", str(tmp_path / "report.html")]):
        done = run_cli([*args, "--work-dir", str(work)])
        assert done.returncode == 10, (args, done.stderr)
        assert "holds a damaged record of" in done.stderr and why in done.stderr, args
