"""The job table in the run store (``<work_dir>/runs.db``, tables ``histories`` and ``jobs``).

A job is keyed by its history and its two rounds: a rerun, a retry or a worker that died and had its
job run elsewhere updates the job's one row, so no job is ever counted twice. A verified job is
reused by the next invocation only while both its states still have the hashes it was verified with.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..errors import ReplayInterrupted, RunStoreError
from ..model.checked import checked
from ..model.history import VERIFIED, HistoryRecord, JobResult
from ..store import DATABASE, RunStore, damaged_record, json_field

INTERRUPTED = "interrupted"


class HistoryStore:
    def __init__(self, work_dir: Path, *, create: bool = True) -> None:
        RunStore(work_dir, create=create).close()  # creates the database (or refuses a missing one) and brings its schema up to date
        self.path = work_dir / DATABASE
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as error:
            raise RunStoreError(f"Cannot open the run store {self.path}: {error}.", hint="Check the work directory.") from error

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, values: tuple[Any, ...]) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(sql, values)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            raise RunStoreError(
                f"Cannot write the run store {self.path}: {error}.", hint="Check the work directory and its disk."
            ) from error

    # histories -----------------------------------------------------------------------------------

    def begin(self, history_id: str, *, states: str, executor: str, spec: dict[str, Any]) -> None:
        """Record an invocation: a new history, or the same one again (its first start is kept)."""
        self._write(
            "INSERT INTO histories (id, state, started_at, states, executor, spec) VALUES (?, 'running', ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET state = 'running', finished_at = NULL, exit_code = NULL, "
            "executor = excluded.executor, spec = excluded.spec",
            (history_id, time.time(), states, executor, json.dumps(spec)),
        )

    def finish(self, history_id: str, exit_code: int) -> None:
        state = "succeeded" if exit_code == 0 else INTERRUPTED if exit_code == ReplayInterrupted.exit_code else "failed"
        self._write(
            "UPDATE histories SET state = ?, finished_at = ?, exit_code = ? WHERE id = ?", (state, time.time(), exit_code, history_id)
        )

    def history(self, history_id: str) -> HistoryRecord | None:
        row = self._db.execute("SELECT * FROM histories WHERE id = ?", (history_id,)).fetchone()
        return _history(row, self.path) if row else None

    def histories(self, limit: int = 20) -> list[HistoryRecord]:
        rows = self._db.execute("SELECT * FROM histories ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [_history(row, self.path) for row in rows]

    # jobs ----------------------------------------------------------------------------------------

    def record(self, history_id: str, result: JobResult) -> None:
        """A job's latest result replaces its earlier one; its attempts add up."""
        self._write(
            "INSERT INTO jobs (history_id, from_round, to_round, from_hash, to_hash, idx, outcome, exit_code, worker, seconds, "
            "first_divergent_block, message, started_at, finished_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(history_id, from_round, to_round) DO UPDATE SET from_hash = excluded.from_hash, to_hash = excluded.to_hash, "
            "idx = excluded.idx, outcome = excluded.outcome, exit_code = excluded.exit_code, worker = excluded.worker, "
            "seconds = excluded.seconds, first_divergent_block = excluded.first_divergent_block, message = excluded.message, "
            "started_at = excluded.started_at, finished_at = excluded.finished_at, "
            # the same result recorded again (collected twice) adds no attempt
            "attempts = CASE WHEN jobs.started_at IS excluded.started_at THEN jobs.attempts ELSE jobs.attempts + excluded.attempts END",
            (
                history_id,
                result.from_round,
                result.to_round,
                result.from_hash,
                result.to_hash,
                result.index,
                result.outcome,
                result.exit_code,
                result.worker,
                result.seconds,
                result.first_divergent_block,
                result.message,
                result.started_at,
                result.finished_at,
                result.attempts,
            ),
        )

    def jobs(self, history_id: str) -> list[JobResult]:
        rows = self._db.execute("SELECT * FROM jobs WHERE history_id = ? ORDER BY from_round, to_round", (history_id,)).fetchall()
        return [_job(row, self.path) for row in rows]

    def verified(self, history_id: str) -> dict[tuple[int, int, str, str], JobResult]:
        """Verified jobs by (from round, to round, from hash, to hash)."""
        return {(job.from_round, job.to_round, job.from_hash, job.to_hash): job for job in self.jobs(history_id) if job.outcome == VERIFIED}


def _history(row: sqlite3.Row, path: Path) -> HistoryRecord:
    with damaged_record(path, f"verify-history {row['id']!r}"):
        return checked(HistoryRecord, {**dict(row), "spec": json_field(row, "spec")})


def _job(row: sqlite3.Row, path: Path) -> JobResult:
    with damaged_record(path, f"job {row['from_round']!r}-{row['to_round']!r} of verify-history {row['history_id']!r}"):
        return JobResult.from_json({**dict(row), "index": row["idx"]})
