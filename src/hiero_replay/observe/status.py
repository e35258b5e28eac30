"""``<work_dir>/status.json``: where the current run stands, replaced atomically as it moves."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..model.checked import checked
from ..safe_files import read_regular_file, write_atomically
from ..times import iso_now
from .events import RunObserver, rate_and_eta

if TYPE_CHECKING:
    from ..errors import ReplayError
    from ..model.plan import ReplayPlan, Segment
    from ..model.results import RunResult, SegmentResult

STATUS_FILE = "status.json"
_MIN_INTERVAL_SECONDS = 0.25


@dataclass(frozen=True, kw_only=True)
class _Opened:
    """What ``status`` shows of a run that has no plan (yet): a status file must hold these ..."""

    run_id: str
    state: str
    last_error: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Planned(_Opened):
    """... and these once the run is planned."""

    segment: int
    segments: int
    backend: str | None
    source_type: str | None
    current_round: int
    verified_round: int = 0
    target_round: int
    effective_rate_rounds_per_second: float | None = None
    eta_seconds: float | None = None


def read_status(work_dir: Path) -> dict[str, Any] | None:
    """The current run's status, ``None`` when there is none; a file that is not what this tool
    writes (damaged, a link, a FIFO) is reported as ``{"unreadable": why}``, never followed or waited on."""
    path = work_dir / STATUS_FILE
    try:
        status = json.loads(read_regular_file(path))
        checked(_Planned if isinstance(status, dict) and "segments" in status else _Opened, status)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as error:
        return {"unreadable": f"{path}: {error}"}
    return cast(dict[str, Any], status)


class StatusFile(RunObserver):
    def __init__(self, work_dir: Path) -> None:
        self.path = work_dir / STATUS_FILE
        self.status: dict[str, Any] = {}
        self._source_types: dict[str, str] = {}
        self._started = time.monotonic()
        self._written = 0.0

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < _MIN_INTERVAL_SECONDS:
            return
        self._written = now
        status = self.status
        if "current_round" in status:  # planned: rounds to count
            current = status["current_round"]
            rate, eta = rate_and_eta(current - status["bootstrap_round"], status["target_round"] - current, now - self._started)
            status["effective_rate_rounds_per_second"] = None if rate is None else round(rate, 3)
            status["eta_seconds"] = None if eta is None else round(eta, 1)
        status["updated_at"] = iso_now()
        write_atomically(self.path, json.dumps(status, indent=2))

    def run_opened(self, run_id: str) -> None:
        self._started = time.monotonic()
        self.status = {"run_id": run_id, "state": "planning", "last_error": None, "started_at": iso_now()}
        self._write(force=True)

    def run_started(self, plan: ReplayPlan, source_types: dict[str, str]) -> None:
        self._source_types = source_types
        self._started = time.monotonic()
        self.status = {
            "run_id": plan.run_id,
            "state": "running",
            "mode": plan.mode,
            "rate": plan.rate,
            "backend": None,
            "source_type": None,
            "segment": 0,
            "segments": len(plan.segments),
            "bootstrap_round": plan.bootstrap_round,
            "current_round": plan.bootstrap_round,
            "verified_round": plan.bootstrap_round,
            "target_round": plan.target_round,
            "last_error": None,
            "warnings": list(plan.warnings),
            "started_at": self.status.get("started_at", iso_now()),
        }
        self._write(force=True)

    def segment_started(self, segment: Segment) -> None:
        self.status.update(backend=segment.backend, source_type=self._source_types.get(segment.source, "unknown"), segment=segment.index)
        self._write(force=True)

    def round_applied(self, round_number: int) -> None:
        self.status["current_round"] = max(self.status["current_round"], round_number)
        self._write()

    def segment_verified(self, segment: Segment, result: SegmentResult, consensus_time_ns: int | None) -> None:
        self.status["current_round"] = max(self.status["current_round"], result.round)
        self.status["verified_round"] = result.round
        proven = self.status.setdefault("verified_by", {})
        proven[result.verified_by] = proven.get(result.verified_by, 0) + 1
        self._write(force=True)

    def run_finished(self, result: RunResult) -> None:
        achieved = result.achieved_rate()
        self.status.update(
            state="succeeded",
            final_hash=result.final_hash,
            achieved_rate=None if achieved is None else round(achieved, 3),
            exceeded_rate=result.exceeded_rate,
        )
        self._write(force=True)

    def run_failed(self, error: ReplayError) -> None:
        if self.status:
            self.status.update(state="interrupted" if error.exit_code == 8 else "failed", last_error=str(error))
            self._write(force=True)

    def run_skipped(self, reason: str) -> None:
        self.status.update(state="skipped", reason=reason)
        self._write(force=True)
