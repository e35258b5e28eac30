"""Structured logging: readable console lines by default, one JSON object per line for machines.

``get_logger().info("segment started", first_round=11, ...)`` logs an event with its fields, and
every line of a run carries the context bound with ``bind_run_context`` (run id, backend, segment).
It rests on the standard library's ``logging``, which costs a run nothing to load.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal

LogFormat = Literal["console", "json"]

_LOGGER = logging.getLogger("hiero_replay")
_LOGGER.propagate = False  # its lines are ours to write, once, whoever configured the root logger
_context: ContextVar[Mapping[str, object]] = ContextVar("log_context", default=MappingProxyType({}))

#: A console value with one of these is quoted (``repr``), so that ``key=value`` pairs stay apart.
_QUOTED = frozenset(" \t=\r\n\"'")
#: Console colours (ANSI), by level, when stderr is a terminal.
_COLOURS = {"debug": "\x1b[32m", "info": "\x1b[36m", "warning": "\x1b[33m", "error": "\x1b[31m"}
_KEY, _RESET, _BOLD = "\x1b[2m", "\x1b[0m", "\x1b[1m"


class Logger:
    """Logs an event (a short fixed phrase) with its fields; the bound context is added to each."""

    __slots__ = ()

    def debug(self, event: str, **fields: object) -> None:
        _log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: object) -> None:
        _log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: object) -> None:
        _log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: object) -> None:
        _log(logging.ERROR, event, fields)


def _log(level: int, event: str, fields: dict[str, object]) -> None:
    if _LOGGER.isEnabledFor(level):
        _LOGGER.log(level, "%s", event, extra={"fields": {**_context.get(), **fields}})


def get_logger() -> Logger:
    return Logger()


def bind_run_context(**values: object) -> None:
    """Add ``values`` to every line logged from here on (in this thread or task)."""
    _context.set(MappingProxyType({**_context.get(), **values}))


def unbind_run_context(*keys: str) -> None:
    _context.set(MappingProxyType({key: value for key, value in _context.get().items() if key not in keys}))


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    """A record's event, level and fields, as the JSON format writes them."""
    fields: dict[str, object] = getattr(record, "fields", {})
    return {"event": record.getMessage(), "level": record.levelname.lower(), **fields}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"timestamp": _timestamp(record), **fields_of(record)}, default=repr)


class _ConsoleFormatter(logging.Formatter):
    """``<time> [level    ] event<padded to 30> key=value ...``, keys sorted."""

    def __init__(self, colours: bool) -> None:
        super().__init__()
        self.colours = colours

    def format(self, record: logging.LogRecord) -> str:
        level, event = record.levelname.lower(), record.getMessage()
        fields: dict[str, object] = getattr(record, "fields", {})
        pairs = [(key, _console_value(fields[key])) for key in sorted(fields)]
        if not self.colours:
            return " ".join([f"{_timestamp(record)} [{level:<9}] {event:<30}", *(f"{key}={value}" for key, value in pairs)])
        colour = _COLOURS.get(level, "")
        head = f"{_KEY}{_timestamp(record)}{_RESET} [{colour}{level:<9}{_RESET}] {_BOLD}{event:<30}{_RESET}"
        return " ".join([head, *(f"{_KEY}{key}={_RESET}{value}" for key, value in pairs)])


def _console_value(value: object) -> str:
    if isinstance(value, str) and not _QUOTED.intersection(value):
        return value
    return repr(value)


class _CurrentStderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a line is logged: the progress bar swaps in a proxy
    that keeps log lines above the bar. Anything raised while a line is written reaches the caller
    (an interruption above all: SIGINT and SIGTERM raise ``ReplayInterrupted``), except a stderr that
    is gone, where the line has nowhere to go and neither has a report of it."""

    def emit(self, record: logging.LogRecord) -> None:
        stream = sys.stderr
        if stream is None:  # started with stderr closed
            return
        line = self.format(record)
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or file
            pass


def configure_logging(log_format: LogFormat = "console", verbose: bool = False) -> None:
    """Console or JSON lines on stderr; ``verbose`` adds debug lines (every line the tools print)."""
    handler = _CurrentStderr()
    colours = sys.stderr is not None and sys.stderr.isatty()
    handler.setFormatter(_JsonFormatter() if log_format == "json" else _ConsoleFormatter(colours=colours))
    for old in list(_LOGGER.handlers):
        _LOGGER.removeHandler(old)
    _LOGGER.addHandler(handler)
    _LOGGER.setLevel(logging.DEBUG if verbose else logging.INFO)


configure_logging()  # until a command chooses: console lines at info
