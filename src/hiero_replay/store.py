"""The embedded run store: runs, segments, checkpoints, schedule state and verify-history jobs in SQLite.

One database per work directory (``<work_dir>/runs.db``), WAL journal and ``synchronous=FULL`` so a
committed checkpoint survives a crash or a power loss. The schema is versioned with
``PRAGMA user_version``; ``MIGRATIONS[n]`` (``store_schema``) brings a database from version n to n + 1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from .errors import RunStoreError
from .model.checked import DamagedRecord, Timestamp, checked
from .model.plan import ReplayPlan
from .paths import escaped
from .store_schema import MIGRATIONS, SCHEMA_VERSION
from .workdir import open_existing_work_dir, prepare_work_dir

DATABASE = "runs.db"


@dataclass(frozen=True)
class RunRecord:
    id: str
    trigger: str
    state: Literal["planning", "running", "succeeded", "failed", "interrupted", "skipped"]
    started_at: Timestamp
    finished_at: Timestamp | None
    settings: dict[str, Any]
    plan: dict[str, Any]
    target_round: int | None
    final_round: int | None
    final_hash: str | None
    error_kind: str | None
    error_message: str | None
    exit_code: int | None


@dataclass(frozen=True)
class SegmentRecord:
    run_id: str
    idx: int
    backend: str
    first_round: int
    last_round: int
    inputs: list[str]
    state: Literal["pending", "running", "verified", "failed"]
    supervisor_pid: int | None
    round: int | None
    hash: str | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    seconds: float | None
    consensus_seconds: float | None
    error_message: str | None
    fetched_files: int | None
    fetched_bytes: int | None
    fetch_seconds: float | None


@dataclass(frozen=True)
class ScheduleRecord:
    name: str
    last_fire: float | None
    paused: bool
    pause_reason: str | None
    last_run_id: str | None

    @property
    def last_fire_datetime(self) -> datetime | None:
        return None if self.last_fire is None else datetime.fromtimestamp(self.last_fire, UTC)


class RunStore:
    """The run store of a work directory; ``create=False`` (commands that only read) creates nothing
    and refuses a folder where no run was recorded (exit 3)."""

    def __init__(self, work_dir: Path, *, create: bool = True) -> None:
        if create:
            prepare_work_dir(work_dir)
        else:
            open_existing_work_dir(work_dir, DATABASE)
        self.path = work_dir / DATABASE
        _private_file(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as error:
            raise RunStoreError(f"Cannot open the run store {self.path}: {error}.", hint="Check the work directory.") from error

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RunStoreError(
                f"The run store {self.path} has schema version {version}, newer than this hiero-replay ({SCHEMA_VERSION}).",
                hint="Upgrade hiero-replay or use another work directory.",
            )
        for target in range(version, SCHEMA_VERSION):
            # One script, one transaction: a crash leaves the old version or the new one.
            self._db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[target]}; PRAGMA user_version = {target + 1}; COMMIT;")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # runs ------------------------------------------------------------------------------------

    def open_run(self, run_id: str, *, trigger: str, settings: dict[str, Any]) -> None:
        """A run is recorded from the moment it starts (``planning``): one that fails before its plan
        is made still shows, failed, with its error."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO runs (id, trigger, state, started_at, settings, plan) VALUES (?, ?, 'planning', ?, ?, '{}')",
                (run_id, trigger, time.time(), json.dumps(settings)),
            )

    def plan_run(self, run_id: str, plan: dict[str, Any]) -> None:
        """The run's plan and its segments (pending); the run is now ``running``."""
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET state = 'running', plan = ?, target_round = ? WHERE id = ?",
                (json.dumps(plan), plan.get("target_round"), run_id),
            )
            for segment in plan["segments"]:
                self._db.execute(
                    "INSERT INTO segments (run_id, idx, backend, first_round, last_round, inputs, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                    (
                        run_id,
                        segment["index"],
                        segment["backend"],
                        segment["first_round"],
                        segment["last_round"],
                        json.dumps(segment["files"]),
                    ),
                )

    def reopen_run(self, run_id: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET state = 'running', finished_at = NULL, error_kind = NULL, error_message = NULL, exit_code = NULL WHERE id = ?",
                (run_id,),
            )

    def finish_run(
        self,
        run_id: str,
        state: str,
        *,
        final_round: int | None = None,
        final_hash: str | None = None,
        error_kind: str | None = None,
        error_message: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET state = ?, finished_at = ?, final_round = ?, final_hash = ?, error_kind = ?, error_message = ?, exit_code = ? WHERE id = ?",
                (state, time.time(), final_round, final_hash, error_kind, _text(error_message), exit_code, run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_record(row, self.path) if row else None

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [_run_record(row, self.path) for row in rows]

    def latest_unfinished_run(self) -> RunRecord | None:
        row = self._db.execute(
            "SELECT * FROM runs WHERE state IN ('planning', 'running', 'failed', 'interrupted') ORDER BY started_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return _run_record(row, self.path) if row else None

    # segments and checkpoints ----------------------------------------------------------------

    def segment_starting(self, run_id: str, idx: int, started_at: float) -> None:
        """Recorded before the backend starts: a crash from here on leaves a segment to recover."""
        with self._transaction():
            self._db.execute(
                "UPDATE segments SET state = 'running', supervisor_pid = NULL, started_at = ?, error_message = NULL WHERE run_id = ? AND idx = ?",
                (started_at, run_id, idx),
            )

    def segment_fetched(self, run_id: str, idx: int, *, files: int, size: int, seconds: float) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE segments SET fetched_files = ?, fetched_bytes = ?, fetch_seconds = ? WHERE run_id = ? AND idx = ?",
                (files, size, seconds, run_id, idx),
            )

    def segment_supervised(self, run_id: str, idx: int, supervisor_pid: int) -> None:
        with self._transaction():
            self._db.execute("UPDATE segments SET supervisor_pid = ? WHERE run_id = ? AND idx = ?", (supervisor_pid, run_id, idx))

    def segment_verified(
        self, run_id: str, idx: int, *, round_number: int, state_hash: str, state_dir: Path, seconds: float, consensus_seconds: float | None
    ) -> None:
        """The segment's state verified and renamed into place: one transaction, one checkpoint."""
        now = time.time()
        with self._transaction():
            self._db.execute(
                "UPDATE segments SET state = 'verified', round = ?, hash = ?, finished_at = ?, seconds = ?, consensus_seconds = ? WHERE run_id = ? AND idx = ?",
                (round_number, state_hash, now, seconds, consensus_seconds, run_id, idx),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoints (run_id, idx, round, hash, state_dir, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, idx, round_number, state_hash, str(state_dir), now),
            )

    def segment_failed(self, run_id: str, idx: int, message: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE segments SET state = 'failed', finished_at = ?, error_message = ? WHERE run_id = ? AND idx = ?",
                (time.time(), _text(message), run_id, idx),
            )

    def segments(self, run_id: str) -> list[SegmentRecord]:
        rows = self._db.execute("SELECT * FROM segments WHERE run_id = ? ORDER BY idx", (run_id,)).fetchall()
        return [_segment_record(row, self.path) for row in rows]

    def bisect_step(
        self,
        run_id: str,
        idx: int,
        step: int,
        *,
        rounds: tuple[int, int],
        block: int,
        expected_hash: str,
        actual_hash: str,
        state_dir: Path,
    ) -> None:
        """One backend run of the bisect of segment ``idx``: rounds ``rounds`` applied, up to the end of ``block``."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO bisect_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, idx, step, *rounds, block, expected_hash, actual_hash, str(state_dir), time.time()),
            )

    def bisect_steps(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM bisect_steps WHERE run_id = ? ORDER BY idx, step", (run_id,)).fetchall()
        return [dict(row) for row in rows]

    # schedule --------------------------------------------------------------------------------

    def schedule(self, name: str) -> ScheduleRecord:
        row = self._db.execute("SELECT * FROM schedule WHERE name = ?", (name,)).fetchone()
        if row is None:
            return ScheduleRecord(name, None, False, None, None)
        return ScheduleRecord(row["name"], row["last_fire"], bool(row["paused"]), row["pause_reason"], row["last_run_id"])

    def save_schedule(self, record: ScheduleRecord) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO schedule (name, last_fire, paused, pause_reason, last_run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (record.name, record.last_fire, int(record.paused), record.pause_reason, record.last_run_id, time.time()),
            )


def _text(message: str | None) -> str | None:
    """A message as SQLite can store it (a path in it that is not UTF-8: its bytes escaped)."""
    return None if message is None else escaped(message)


def _private_file(path: Path) -> None:
    """Create the database file 0600 (SQLite's journal files take its mode), never through a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise RunStoreError(
            f"The run store {path} cannot be used ({error.strerror}).", hint="It must be a plain file of this work directory."
        ) from error
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise RunStoreError(f"The run store {path} is not a plain file.", hint="Remove it, or use another work directory.")
    finally:
        os.close(descriptor)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *_: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        if isinstance(error, sqlite3.Error | OverflowError):
            raise RunStoreError(f"The run store could not record this: {error}.", hint="Check the work directory and its disk.") from error


def _run_record(row: sqlite3.Row, path: Path) -> RunRecord:
    with damaged_record(path, f"run {row['id']!r}"):
        return checked(RunRecord, {**dict(row), "settings": json_field(row, "settings"), "plan": _plan(row)})


def _plan(row: sqlite3.Row) -> Any:
    """The run's plan: none yet (``{}``), or one that ``run --resume`` can read back."""
    plan = json_field(row, "plan")
    if isinstance(plan, dict) and plan:
        try:
            ReplayPlan.from_json(plan)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DamagedRecord(f"plan is not a plan hiero-replay writes ({type(error).__name__}: {error})") from None
    return plan


def _segment_record(row: sqlite3.Row, path: Path) -> SegmentRecord:
    with damaged_record(path, f"segment {row['idx']!r} of run {row['run_id']!r}"):
        return checked(SegmentRecord, {**dict(row), "inputs": json_field(row, "inputs")})


def json_field(row: sqlite3.Row, name: str) -> Any:
    """A column that holds JSON, parsed (its type is checked with the record's)."""
    try:
        return json.loads(row[name])
    except (TypeError, ValueError, RecursionError) as error:
        raise DamagedRecord(f"{name} is not JSON ({error})") from None


@contextmanager
def damaged_record(path: Path, what: str) -> Iterator[None]:
    """A row whose values are not what this tool writes (altered, or damaged) ends in ``RunStoreError``."""
    try:
        yield
    except DamagedRecord as error:
        raise RunStoreError(
            f"The run store {path} holds a damaged record of {what}: {error}.",
            hint="It was altered or damaged outside hiero-replay: use another --work-dir, or restore runs.db from a backup.",
        ) from None
