"""What a replaying command sets up around a run: its observers, and SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from ..errors import ReplayInterrupted

if TYPE_CHECKING:
    from ..config import Settings
    from ..observe.events import Observers
    from ..observe.metrics import ReplayMetrics

T = TypeVar("T")


def raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise ReplayInterrupted(f"Interrupted by {signal.Signals(signum).name}; the backend was stopped.", hint="Rerun the replay.")


def with_sigterm(action: Callable[[], T]) -> T:
    """SIGTERM (systemd, Kubernetes) stops a run like Ctrl-C: backend stopped, exit 8."""
    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        return action()
    finally:
        signal.signal(signal.SIGTERM, previous)


def observers(settings: Settings) -> tuple[Observers, ReplayMetrics]:
    """Metrics, the status file and the progress display, fanned out as one observer."""
    from ..observe.events import Observers
    from ..observe.metrics import ReplayMetrics
    from ..observe.progress import ProgressDisplay
    from ..observe.status import StatusFile

    metrics = ReplayMetrics(settings.metrics)
    return Observers(metrics, StatusFile(settings.work_dir), ProgressDisplay()), metrics
