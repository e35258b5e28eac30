"""Structured logging: readable console lines by default, one JSON object per line for machines.

Every line of a run carries the context bound with ``bind_run_context`` (run id, backend, segment).
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

LogFormat = Literal["console", "json"]


def configure_logging(log_format: LogFormat = "console", verbose: bool = False) -> None:
    """Console or JSON lines on stderr; ``verbose`` adds debug lines (every line the tools print)."""
    level = logging.DEBUG if verbose else logging.INFO
    renderer: structlog.typing.Processor
    renderer = structlog.processors.JSONRenderer() if log_format == "json" else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Whatever sys.stderr is when a line is written: the progress bar swaps in a proxy that keeps
        # log lines above the bar (loggers are not cached, so the factory runs for every line).
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger() -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("hiero_replay")
    return logger


bind_run_context = structlog.contextvars.bind_contextvars
unbind_run_context = structlog.contextvars.unbind_contextvars
