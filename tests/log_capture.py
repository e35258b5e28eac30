"""The lines the project logs, captured as the JSON format writes them (event, level, fields)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from hiero_replay.logs import fields_of


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(fields_of(record))


@contextmanager
def captured_logs() -> Iterator[list[dict[str, object]]]:
    logger, keep = logging.getLogger("hiero_replay"), _Keep()
    logger.addHandler(keep)
    try:
        yield keep.entries
    finally:
        logger.removeHandler(keep)
