"""The failure taxonomy: one exception class per kind of failure, each with a stable exit code.

Scripts and Kubernetes ``podFailurePolicy`` rules key on these exit codes, so they never change.
``EXIT_CODES`` (below) is the table the README and ``hiero-replay --help`` show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

EXIT_SUCCESS = 0


class ReplayError(Exception):
    """Base of every failure a user can cause or meet.

    ``message`` says what went wrong and where (file, block, round); ``hint`` says what to do.
    """

    exit_code: ClassVar[int] = 70
    kind: ClassVar[str] = "error"
    #: What the exit code means, and what to do about it (the README's table).
    meaning: ClassVar[str] = ""
    reaction: ClassVar[str] = ""

    def __init__(self, message: str, *, hint: str | None = None, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keep every attribute across process boundaries (parallel preflight workers).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[ReplayError], args: tuple[object, ...], state: dict[str, object]) -> ReplayError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(ReplayError):
    exit_code = 2
    kind = "config"
    meaning = "configuration error (bad flag or value, output already exists)"
    reaction = "fix the invocation; do not retry"


class NothingToReplay(ConfigError):
    """The sources hold no round after the bootstrap state (a follower that is up to date)."""

    kind = "nothing-to-replay"


class MissingInputError(ReplayError):
    exit_code = 3
    kind = "missing-input"
    meaning = "missing input (state directory, stream folder)"
    reaction = "provide the input"


class CheckpointError(MissingInputError):
    """The verified state a resume would start from is gone, or is no longer the state that was verified."""

    kind = "checkpoint"


class ContinuityError(ReplayError):
    """A gap: missing blocks or event files, rounds that are not covered, files out of place."""

    exit_code = 4
    kind = "continuity"
    meaning = "continuity gap (missing blocks or event files, rounds not covered)"
    reaction = "fetch the missing data"


@dataclass(frozen=True)
class Divergence:
    """Where a replay left the history the block stream records: the blocks ``blocks`` (first..last;
    one block once the bisect pinned it) turn the state the stream proves after round
    ``rounds[0] - 1`` (kept at ``state_before``) into ``actual`` where the stream says ``expected``."""

    blocks: tuple[int, int]
    rounds: tuple[int, int]
    expected: str
    actual: str | None
    state_before: str
    #: Backend runs the bisect took.
    runs: int
    #: Whether the state the blocks were applied to is proven (else the divergence may lie before them).
    start_proven: bool = True

    @property
    def first_block(self) -> int | None:
        """The first divergent block, when narrowed down to one."""
        return self.blocks[0] if self.blocks[0] == self.blocks[1] and self.start_proven else None

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "blocks": list(self.blocks), "rounds": list(self.rounds), "first_block": self.first_block}


class HashMismatchError(ReplayError):
    exit_code = 5
    kind = "hash-mismatch"
    meaning = "hash mismatch (broken chain, running hash, expected state hash) or unverifiable chain"
    reaction = "stop and investigate"
    #: Set on a segment the block stream disproves, once the bisect has narrowed it down.
    divergence: Divergence | None = None

    @property
    def first_divergent_block(self) -> int | None:
        return self.divergence.first_block if self.divergence is not None else None

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


class UnverifiableError(HashMismatchError):
    """The hash chain could not be checked at all: not a mismatch, but nothing is proven either."""

    kind = "unverifiable"


class BackendError(ReplayError):
    exit_code = 6
    kind = "backend"
    meaning = "backend failure (Java tool failed, timed out, stopped early)"
    reaction = "inspect the backend log; retry may help"


class SourceError(ReplayError):
    exit_code = 7
    kind = "source"
    meaning = "source/IO failure (unreadable, truncated or undecodable file)"
    reaction = "retry; fetch the file again"


class CorruptFileError(SourceError):
    """A file that cannot be decompressed or decoded as its format."""

    kind = "corrupt-file"


class ReplayInterrupted(ReplayError):
    exit_code = 8
    kind = "interrupted"
    meaning = "interrupted (SIGINT/SIGTERM)"
    reaction = "retry / resume"


class AlreadyRunningError(ReplayError):
    exit_code = 9
    kind = "already-running"
    meaning = "already running (work directory locked)"
    reaction = "wait"


class RunStoreError(ReplayError):
    """The run store cannot be opened or written (a damaged runs.db, a newer schema, a full disk)."""

    exit_code = 10
    kind = "run-store"
    meaning = "run store failure (runs.db cannot be opened or written)"
    reaction = "check the work directory and its disk"


class MetricsError(ReplayError):
    """The metrics endpoint cannot be served (the port is taken, the address is not ours)."""

    exit_code = 11
    kind = "metrics"
    meaning = "metrics endpoint failure (the metrics port cannot be served)"
    reaction = "choose a free port or address"


class InternalError(ReplayError):
    """A bug: something no input should be able to cause."""

    exit_code = 70
    kind = "internal"
    meaning = "internal error (a bug; the traceback is in the log file named)"
    reaction = "report it with the log file"


#: The documented exit codes: code -> (kind, meaning, typical reaction).
EXIT_CODES: dict[int, tuple[str, str, str]] = {
    EXIT_SUCCESS: ("success", "success", ""),
    **{
        cls.exit_code: (cls.kind, cls.meaning, cls.reaction)
        for cls in (
            ConfigError,
            MissingInputError,
            ContinuityError,
            HashMismatchError,
            BackendError,
            SourceError,
            ReplayInterrupted,
            AlreadyRunningError,
            RunStoreError,
            MetricsError,
            InternalError,
        )
    },
}


#: Exit codes of failures that no retry and no resume can fix: configuration, missing input,
#: continuity gap, hash mismatch. A person must look.
FINAL_EXIT_CODES = frozenset(cls.exit_code for cls in (ConfigError, MissingInputError, ContinuityError, HashMismatchError))


def as_replay_error(raised: BaseException) -> ReplayError:
    """What a run ended with, as a typed error: Ctrl-C is an interruption, anything unforeseen a bug."""
    if isinstance(raised, ReplayError):
        return raised
    if isinstance(raised, KeyboardInterrupt):
        return ReplayInterrupted("Interrupted by SIGINT; the backend was stopped.")
    return InternalError(f"{type(raised).__name__}: {raised}")
