"""The failure taxonomy: one exception class per kind of failure, each with a stable exit code.

Scripts and Kubernetes ``podFailurePolicy`` rules key on these exit codes, so they never change:

== ======================================================================
0  success
2  configuration error (bad flag, bad config value, output already exists)
3  missing input (state directory, stream folder, file that should exist)
4  continuity gap (missing blocks, missing event files, rounds not covered)
5  hash mismatch (broken hash chain, running hash, expected state hash)
6  backend failure (the Java tool failed, timed out or stopped early)
7  source/IO failure (unreadable, truncated or undecodable input)
8  interrupted (SIGINT/SIGTERM)
9  already running (another run holds the work-directory lock)
== ======================================================================
"""

from __future__ import annotations

from typing import ClassVar

EXIT_SUCCESS = 0


class ReplayError(Exception):
    """Base of every failure a user can cause or meet.

    ``message`` says what went wrong and where (file, block, round); ``hint`` says what to do.
    """

    exit_code: ClassVar[int] = 1
    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def __reduce__(self) -> tuple:
        # Keep every attribute across process boundaries (parallel preflight workers).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[ReplayError], args: tuple, state: dict) -> ReplayError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(ReplayError):
    exit_code = 2
    kind = "config"


class NothingToReplay(ConfigError):
    """The sources hold no round after the bootstrap state (a follower that is up to date)."""

    kind = "nothing-to-replay"


class MissingInputError(ReplayError):
    exit_code = 3
    kind = "missing-input"


class ContinuityError(ReplayError):
    """A gap: missing blocks or event files, rounds that are not covered, files out of place."""

    exit_code = 4
    kind = "continuity"


class HashMismatchError(ReplayError):
    exit_code = 5
    kind = "hash-mismatch"

    def __init__(
        self,
        message: str,
        *,
        expected: bytes | str | None = None,
        actual: bytes | str | None = None,
        hint: str | None = None,
        file: str | None = None,
    ) -> None:
        self.expected = expected.hex() if isinstance(expected, bytes) else expected
        self.actual = actual.hex() if isinstance(actual, bytes) else actual
        if self.expected is not None or self.actual is not None:
            message = f"{message} Expected = {self.expected}, actual = {self.actual}."
        super().__init__(message, hint=hint, file=file)


class BackendError(ReplayError):
    exit_code = 6
    kind = "backend"


class SourceError(ReplayError):
    exit_code = 7
    kind = "source"


class CorruptFileError(SourceError):
    """A file that cannot be decompressed or decoded as its format."""

    kind = "corrupt-file"


class ReplayInterrupted(ReplayError):
    exit_code = 8
    kind = "interrupted"


class AlreadyRunningError(ReplayError):
    exit_code = 9
    kind = "already-running"


EXIT_CODES: dict[int, str] = {
    EXIT_SUCCESS: "success",
    **{
        cls.exit_code: cls.kind
        for cls in (
            ConfigError,
            MissingInputError,
            ContinuityError,
            HashMismatchError,
            BackendError,
            SourceError,
            ReplayInterrupted,
            AlreadyRunningError,
        )
    },
}
