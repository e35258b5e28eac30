"""The two replay backends behind one ``ReplayBackend`` protocol, and the process runner they share."""

from .base import BackendName, Invocation, ReplayBackend
from .block_stream import BlockStreamBackend
from .event_stream import EventStreamBackend

__all__ = ["BackendName", "BlockStreamBackend", "EventStreamBackend", "Invocation", "ReplayBackend"]
