"""What a replaying command sets up around a run: its observers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..observe.events import Observers
    from ..observe.metrics import ReplayMetrics


def observers(settings: Settings) -> tuple[Observers, ReplayMetrics]:
    """Metrics, the status file and the progress display, fanned out as one observer."""
    from ..observe.events import Observers
    from ..observe.metrics import ReplayMetrics
    from ..observe.progress import ProgressDisplay
    from ..observe.status import StatusFile

    metrics = ReplayMetrics(settings.metrics)
    return Observers(metrics, StatusFile(settings.work_dir), ProgressDisplay()), metrics
