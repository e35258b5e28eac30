"""Retries with exponential backoff and jitter for object-store requests."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
_STATUS = re.compile(r"status code:? (\d{3})")
_TRANSIENT_TEXT = (
    "connection reset",
    "connection closed",
    "timed out",
    "timeout",
    "error sending request",
    "error decoding response body",
    "incomplete",
    "broken pipe",
    "unexpected eof",
    "connection refused",
)


def is_transient(error: BaseException) -> bool:
    """Throttling (429, 503), other 5xx, timeouts, resets and truncated bodies are worth another try."""
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    text = str(error).lower()
    status = _STATUS.search(text)
    if status:
        code = int(status.group(1))
        return code == 429 or code >= 500
    return any(marker in text for marker in _TRANSIENT_TEXT)


def is_throttling(error: BaseException) -> bool:
    """The server asks for fewer requests: 429 Too Many Requests or 503 Slow Down."""
    status = _STATUS.search(str(error).lower())
    return status is not None and status.group(1) in ("429", "503")


@dataclass
class RetryPolicy:
    #: Attempts in all (``buckets.retries``).
    attempts: int
    base_seconds: float = 0.2
    cap_seconds: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
        return self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))

    def run(
        self, action: Callable[[], T], *, retryable: Callable[[BaseException], bool], on_retry: Callable[[int, BaseException], None]
    ) -> T:
        """``action``'s result; ``GaveUp`` (from its last error) when no attempt succeeded."""
        for attempt in range(1, self.attempts + 1):
            try:
                return action()
            except Exception as error:
                if attempt >= self.attempts or not retryable(error):
                    raise GaveUp(error, attempt) from error
                on_retry(attempt, error)
                self.sleep(self.delay(attempt - 1))
        raise AssertionError("attempts must be at least 1")


class GaveUp(Exception):
    """An action that failed ``attempts`` times (or once, not worth another try), with its last error."""

    def __init__(self, error: Exception, attempts: int) -> None:
        super().__init__(f"{error} (after {attempts} attempt(s))")
        self.error = error
        self.attempts = attempts
