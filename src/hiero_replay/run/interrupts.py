"""Interruptions: SIGINT and SIGTERM (Ctrl-C, systemd, Kubernetes) end a run as a typed error
(exit 8), once its backend is stopped.

While a backend starts, an interruption is held back and raised right after, once the started
process is known: a signal that lands mid-start cannot orphan a backend. (Blocking the signal in one
thread would not do: the kernel hands a process signal to any thread that does not block it.)
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TypeVar

from ..errors import ReplayInterrupted
from ..workdir import resume_command

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def resume_hint(work_dir: Path, config: str | None = None) -> str:
    """What an interrupted run is told to do next: the command that resumes it, to be run as it is
    from any folder."""
    return f"Resume it with `{resume_command(work_dir, config=config)}`."


class _Held:
    """Whether interruptions are held back now, the one that came meanwhile, and what to do next."""

    holding = False
    pending: int | None = None
    hint = ""


def _interrupted(signum: int) -> ReplayInterrupted:
    return ReplayInterrupted(f"Interrupted by {signal.Signals(signum).name}; the backend was stopped.", hint=_Held.hint)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _Held.holding:
        _Held.pending = signum
        return
    raise _interrupted(signum)


def handling_interruptions(action: Callable[[], T], *, hint: str) -> T:
    """Run ``action`` with SIGINT and SIGTERM raising ``ReplayInterrupted`` (held back where ``held``
    says), whose ``hint`` says how to carry on."""
    previous = {number: signal.signal(number, _handler) for number in SIGNALS}
    earlier, _Held.hint = _Held.hint, hint
    try:
        return action()
    finally:
        _Held.hint = earlier
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def held() -> Iterator[None]:
    """Hold interruptions back for the block; one that came meanwhile is raised as it ends."""
    _Held.holding = True
    try:
        yield
    finally:
        _Held.holding = False
    pending, _Held.pending = _Held.pending, None
    if pending is not None:
        raise _interrupted(pending)
