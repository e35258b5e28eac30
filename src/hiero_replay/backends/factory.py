"""Backends from the configuration, or the built-in simulators for a rehearsal (``--simulate``)."""

from __future__ import annotations

import sys

from ..config import Settings
from .base import ReplayBackend
from .block_stream import BlockStreamBackend
from .event_stream import EventStreamBackend

SIMULATED_VALIDATOR = [sys.executable, "-m", "hiero_replay.simulate.validator"]
SIMULATED_PCLI = [sys.executable, "-m", "hiero_replay.simulate.pcli"]


def create_backends(settings: Settings) -> dict[str, ReplayBackend]:
    block_command = SIMULATED_VALIDATOR if settings.simulate else None
    event_command = SIMULATED_PCLI if settings.simulate else None
    return {
        "block-stream": BlockStreamBackend(settings.backends.block_stream, block_command),
        "event-stream": EventStreamBackend(settings.backends.event_stream, event_command),
    }
