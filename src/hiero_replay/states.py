"""Saved-state round directories: what the orchestrator reads of them (``stateMetadata.txt``).

The file is a borderless text table, one ``KEY: value`` per line; the platform's own parser splits
each line at the first ``:`` and strips whitespace. Unknown keys are ignored and order is not relied on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import MissingInputError
from .safe_files import NotARegularFile, read_regular_file
from .streams.decoding import MAX_LONG

METADATA_FILE = "stateMetadata.txt"
#: Marks a round directory ``hiero-replay state init`` wrote: metadata only, its HASH given by hand.
REHEARSAL_FILE = "hiero-replay-rehearsal.txt"
#: A stateMetadata.txt is a few hundred bytes; more than this is not one.
METADATA_LIMIT = 1 << 20
#: The largest round the platform writes (a Java long).
MAX_ROUND = MAX_LONG
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class InvalidStateError(MissingInputError):
    """A round directory exists but is not a usable saved state."""

    kind = "invalid-state"


@dataclass(frozen=True)
class StateMetadata:
    round: int
    hash: str  # lowercase hex, as apply-blocks compares it
    fields: dict[str, str]

    @property
    def consensus_timestamp(self) -> str | None:
        return self.fields.get("CONSENSUS_TIMESTAMP")


def parse_state_metadata(text: str, *, where: str) -> StateMetadata:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, separator, value = line.partition(":")
        if separator and key.strip():
            fields[key.strip()] = value.strip()
    round_text, hash_text = fields.get("ROUND"), fields.get("HASH")
    if round_text is None or hash_text is None:
        missing = " and ".join(k for k in ("ROUND", "HASH") if fields.get(k) is None)
        raise InvalidStateError(
            f"{where} has no {missing} line.",
            hint="A saved round directory's stateMetadata.txt holds 'ROUND: <n>' and 'HASH: <hex>'.",
            file=where,
        )
    if not (round_text.isascii() and round_text.isdigit()) or int(round_text) > MAX_ROUND:
        raise InvalidStateError(f"{where}: ROUND {round_text[:40]!r} is not a round number (0 .. 2^63-1).", file=where)
    if not _HEX.match(hash_text) or len(hash_text) % 2:
        raise InvalidStateError(f"{where}: HASH {hash_text[:40]!r} is not hexadecimal.", file=where)
    return StateMetadata(int(round_text), hash_text.lower(), fields)


def state_folder(path: Path) -> Path:
    """The round directory a user means: the folder itself, or the folder of the ``stateMetadata.txt`` named."""
    return path.parent if path.name == METADATA_FILE and _is_file(path) else path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def is_rehearsal_state(state_dir: Path) -> bool:
    """Whether ``hiero-replay state init`` wrote this round directory (a rehearsal state, not a real one)."""
    return _is_file(state_dir / REHEARSAL_FILE)


def read_state_metadata(state_dir: Path, *, role: str = "state") -> StateMetadata:
    """Read a round directory's metadata; ``role`` names it in messages (bootstrap, expected, output).
    ``stateMetadata.txt`` must be a regular file in the folder: a link (it could point anywhere), a
    FIFO (it would block) or a device is refused."""
    try:
        is_dir = state_dir.is_dir()
    except OSError as error:
        raise MissingInputError(f"The {role} state directory {state_dir} cannot be used: {error.strerror}.", file=str(state_dir)) from error
    if not is_dir:
        raise MissingInputError(
            f"The {role} state directory {state_dir} does not exist.",
            hint="Point at a saved round directory (the folder that holds stateMetadata.txt).",
            file=str(state_dir),
        )
    path = state_dir / METADATA_FILE
    try:
        data = read_regular_file(path, METADATA_LIMIT + 1)
        if len(data) > METADATA_LIMIT:
            raise InvalidStateError(
                f"{path} is larger than {METADATA_LIMIT:,} bytes: not a stateMetadata.txt (a few hundred bytes).",
                hint="Point at an intact saved round directory.",
                file=str(path),
            )
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise InvalidStateError(
            f"The {role} state directory {state_dir} has no {METADATA_FILE}.",
            hint="Point at the round directory itself, e.g. .../saved/<main class>/<node>/<swirld>/<round>/.",
            file=str(path),
        ) from None
    except NotARegularFile as error:
        raise InvalidStateError(
            f"{path} is not a regular file ({error.strerror or error}); it is not read.",
            hint="A saved state's stateMetadata.txt is a plain file inside its round directory.",
            file=str(path),
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidStateError(f"Cannot read {path}: {error}.", file=str(path)) from error
    return parse_state_metadata(text, where=str(path))


def round_of_name(name: str) -> int | None:
    """The round a round directory's name says: ASCII digits only (``²`` or ``٣٠٠`` name no round)."""
    return int(name) if name.isascii() and name.isdigit() else None


def check_round_name(metadata: StateMetadata, name: str, *, where: str) -> None:
    """A round directory found by its name must hold the state of that round."""
    if metadata.round != round_of_name(name):
        raise InvalidStateError(
            f"{where} says ROUND {metadata.round}, but its round directory is named {name}.",
            hint="A saved round directory is named after its ROUND; remove or rename the odd one.",
            file=where,
        )


def read_newest_state(path: Path, *, role: str) -> StateMetadata:
    """The metadata of a round directory as given, or of a folder of round directories the newest
    one by name ("the snapshot of now" of a scheduled differential test), which must be the state
    of the round it is named after."""
    try:
        rounds = {} if os.path.lexists(path / METADATA_FILE) or not path.is_dir() else _round_directories(path)
    except OSError as error:
        raise MissingInputError(f"The {role} state directory {path} cannot be used: {error.strerror}.", file=str(path)) from error
    if not rounds:
        return read_state_metadata(path, role=role)
    newest = rounds[max(rounds)]
    metadata = read_state_metadata(newest, role=role)
    check_round_name(metadata, newest.name, where=str(newest / METADATA_FILE))
    return metadata


def _round_directories(folder: Path) -> dict[int, Path]:
    """The entries of ``folder`` named by a round that hold a ``stateMetadata.txt`` of any kind (one
    that is not a regular file is refused when read, never passed over)."""
    return {
        number: child
        for child in folder.iterdir()
        if (number := round_of_name(child.name)) is not None and os.path.lexists(child / METADATA_FILE)
    }


def format_state_metadata(fields: dict[str, str]) -> str:
    """The platform's borderless table: keys padded to one column, then the values."""
    width = max(len(key) for key in fields) + 1
    return "".join(f"{(key + ':').ljust(width)} {value}\n" for key, value in fields.items())
