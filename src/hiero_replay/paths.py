"""Paths hiero-replay writes to, as given: never empty (``Path("")`` would be the current folder) and
valid UTF-8 (the run store, the status file and reports keep paths as text)."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError


def escaped(text: str) -> str:
    """``text`` as valid UTF-8: bytes of a name that is not (kept by Python as lone surrogates) escaped, ``\\xff``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def path_text(value: str) -> str:
    """A path hiero-replay writes to, as given: ``ValueError`` when it is empty (``Path("")`` would
    be the current folder) or not valid UTF-8 (the run store, status file and reports keep paths as text)."""
    if not value:
        raise ValueError("the path is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{escaped(value)} is not valid UTF-8 (the run store and reports keep paths as text); choose a UTF-8 name"
        ) from None
    return value


def given_path(flag: str, value: str) -> Path:
    """``value`` of ``flag`` (a path written to) as a ``Path``, or ``ConfigError`` saying what is wrong with it."""
    try:
        return Path(path_text(value))
    except ValueError as error:
        raise ConfigError(f"{flag}: {error}.", hint=f"Choose another {flag}.") from None
