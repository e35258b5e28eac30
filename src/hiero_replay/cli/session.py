"""What a replaying command sets up around a run: its observers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config import Settings
    from ..observe.events import Observers


class MetricsExport(Protocol):
    """Where a command's metrics go: an HTTP endpoint it serves, a Pushgateway it pushes to."""

    def serve(self) -> None: ...

    def push(self) -> None: ...


class _NotExported:
    """No endpoint, textfile or Pushgateway is configured: the metrics would go nowhere."""

    def serve(self) -> None:
        pass

    def push(self) -> None:
        pass


def observers(settings: Settings) -> tuple[Observers, MetricsExport]:
    """Metrics, the status file and the progress display, fanned out as one observer. Metrics are
    kept only when they go somewhere: otherwise prometheus-client is not even imported (about 30 ms
    of every run)."""
    from ..observe.events import Observers
    from ..observe.progress import ProgressDisplay
    from ..observe.status import StatusFile

    others = (StatusFile(settings.work_dir), ProgressDisplay())
    if not settings.metrics.exported:
        return Observers(*others), _NotExported()
    from ..observe.metrics import ReplayMetrics

    metrics = ReplayMetrics(settings.metrics)
    return Observers(metrics, *others), metrics
