"""Progress on a terminal: a bar with rounds, rate and ETA; plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from ..logs import get_logger
from .events import RunObserver, rate_and_eta

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..errors import ReplayError
    from ..model.plan import ReplayPlan, Segment
    from ..model.results import RunResult, SegmentResult

PLAIN_INTERVAL_SECONDS = 5.0


class ProgressDisplay(RunObserver):
    """A bar on a terminal; elsewhere a ``progress`` log line every ``interval`` seconds while a run
    moves (also between a backend's progress lines) and after each segment."""

    def __init__(
        self, stream: IO[str] | None = None, *, clock: Callable[[], float] = time.monotonic, interval: float = PLAIN_INTERVAL_SECONDS
    ) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.clock = clock
        self.interval = interval
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._base = self._target = self._current = 0
        self._segments = 0
        self._segment = ""
        self._started = self._last = clock()

    def run_started(self, plan: ReplayPlan, source_types: dict[str, str]) -> None:
        self._base, self._target, self._current = plan.bootstrap_round, plan.target_round, plan.bootstrap_round
        self._segments = len(plan.segments)
        self._started = self._last = self.clock()
        if self.terminal:  # rich only for a terminal
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rounds  {task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._task = self._bar.add_task("replay", total=self._target - self._base, rate="")
            self._bar.start()

    def segment_started(self, segment: Segment) -> None:
        self._segment = f"segment {segment.index}/{self._segments} {segment.backend}"
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=self._segment)

    def round_applied(self, round_number: int) -> None:
        self._advance(round_number)

    def tick(self) -> None:
        self._advance(self._current)

    def segment_verified(self, segment: Segment, result: SegmentResult, consensus_time_ns: int | None) -> None:
        self._advance(result.round, force=True)

    def _advance(self, round_number: int, *, force: bool = False) -> None:
        self._current = max(self._current, round_number)
        now = self.clock()
        done = self._current - self._base
        rate, eta = rate_and_eta(done, self._target - self._current, now - self._started)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, rate=f"{rate or 0:.1f}/s")
        elif force or now - self._last >= self.interval:
            self._last = now
            get_logger().info(
                "progress",
                segment=self._segment,
                round=self._current,
                target_round=self._target,
                rounds_per_second=round(rate or 0, 2),
                eta_seconds=None if eta is None else round(eta, 1),
            )

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def run_finished(self, result: RunResult) -> None:
        self._stop()

    def run_failed(self, error: ReplayError) -> None:
        """The bar ends in a failed state (where it stopped, and why in one word) instead of freezing."""
        if self._bar is not None and self._task is not None:
            where = f" in {self._segment}" if self._segment else ""
            self._bar.update(self._task, description=f"[red]failed{where}: {error.kind} (exit {error.exit_code})[/red]")
        self._stop()
