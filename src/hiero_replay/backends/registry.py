"""The backends by name: ``--mode`` choices, configuration sections and ``--simulate`` come from here.

Adding a backend is one module (a ``ToolBackend`` with its config model) and one line below; the
backend contract suite (``tests/contract/test_backend_contract.py``) then runs against it.
Names are known without importing any backend, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..streams.naming import FileKind

if TYPE_CHECKING:
    from .base import BackendConfig, ReplayBackend, ToolBackend

#: name -> "module:class". Order matters only for ``default_for``: the first backend of a kind is
#: the one auto mode uses.
BACKENDS: dict[str, str] = {
    "event-stream": "hiero_replay.backends.pcli:EventStreamBackend",
    "block-stream": "hiero_replay.backends.apply_blocks:BlockStreamBackend",
}
AUTO = "auto"


def names() -> list[str]:
    return list(BACKENDS)


def mode_choices() -> list[str]:
    return [*BACKENDS, AUTO]


def config_key(name: str) -> str:
    """The configuration section of a backend: ``[backends.<key>]``."""
    return name.replace("-", "_")


def backend_class(name: str) -> type[ToolBackend[BackendConfig]]:
    module, _, attribute = BACKENDS[name].partition(":")
    cls: type[ToolBackend[BackendConfig]] = getattr(importlib.import_module(module), attribute)
    return cls


def default_for(kind: FileKind) -> str:
    """The backend auto mode replays a stream kind with."""
    return next(name for name in BACKENDS if backend_class(name).stream_kind is kind)


def create_backends(section: Callable[[str], BackendConfig], *, simulate: bool) -> dict[str, ReplayBackend]:
    """Every backend from its configuration ``section``, or its simulator for a rehearsal (``--simulate``)."""
    backends: dict[str, ReplayBackend] = {}
    for name in BACKENDS:
        cls = backend_class(name)
        command = [sys.executable, "-m", cls.simulator] if simulate else None
        backends[name] = cls(section(name), command)
    return backends
