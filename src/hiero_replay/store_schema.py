"""The run store's schema: ``MIGRATIONS[n]`` brings a database from version n to n + 1 (``PRAGMA
user_version``). Appended to, never edited: a database of any earlier version is brought up to date."""

from __future__ import annotations

MIGRATIONS = [
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        trigger TEXT NOT NULL,
        state TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        settings TEXT NOT NULL,
        plan TEXT NOT NULL,
        target_round INTEGER,
        final_round INTEGER,
        final_hash TEXT,
        error_kind TEXT,
        error_message TEXT,
        exit_code INTEGER
    );
    CREATE TABLE segments (
        run_id TEXT NOT NULL REFERENCES runs(id),
        idx INTEGER NOT NULL,
        backend TEXT NOT NULL,
        first_round INTEGER NOT NULL,
        last_round INTEGER NOT NULL,
        inputs TEXT NOT NULL,
        state TEXT NOT NULL,
        supervisor_pid INTEGER,
        round INTEGER,
        hash TEXT,
        started_at REAL,
        finished_at REAL,
        seconds REAL,
        consensus_seconds REAL,
        error_message TEXT,
        PRIMARY KEY (run_id, idx)
    );
    CREATE TABLE checkpoints (
        run_id TEXT NOT NULL REFERENCES runs(id),
        idx INTEGER NOT NULL,
        round INTEGER NOT NULL,
        hash TEXT NOT NULL,
        state_dir TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (run_id, idx)
    );
    CREATE TABLE schedule (
        name TEXT PRIMARY KEY,
        last_fire REAL,
        paused INTEGER NOT NULL DEFAULT 0,
        pause_reason TEXT,
        last_run_id TEXT,
        updated_at REAL NOT NULL
    );
    """,
    # 2: what staging fetched for each segment
    """
    ALTER TABLE segments ADD COLUMN fetched_files INTEGER;
    ALTER TABLE segments ADD COLUMN fetched_bytes INTEGER;
    ALTER TABLE segments ADD COLUMN fetch_seconds REAL;
    """,
    # 3: verify-history: each history (saved states + streams) and its jobs, one row per pair of states
    """
    CREATE TABLE histories (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        states TEXT NOT NULL,
        executor TEXT NOT NULL,
        spec TEXT NOT NULL,
        exit_code INTEGER
    );
    CREATE TABLE jobs (
        history_id TEXT NOT NULL REFERENCES histories(id),
        from_round INTEGER NOT NULL,
        to_round INTEGER NOT NULL,
        from_hash TEXT NOT NULL,
        to_hash TEXT NOT NULL,
        idx INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        exit_code INTEGER NOT NULL,
        worker TEXT,
        seconds REAL NOT NULL,
        first_divergent_block INTEGER,
        message TEXT,
        started_at REAL,
        finished_at REAL,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (history_id, from_round, to_round)
    );
    """,
    # 4: the backend runs of a divergence bisect, one row per step
    """
    CREATE TABLE bisect_steps (
        run_id TEXT NOT NULL REFERENCES runs(id),
        idx INTEGER NOT NULL,
        step INTEGER NOT NULL,
        from_round INTEGER NOT NULL,
        to_round INTEGER NOT NULL,
        block INTEGER NOT NULL,
        expected_hash TEXT NOT NULL,
        actual_hash TEXT NOT NULL,
        state_dir TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (run_id, idx, step)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
