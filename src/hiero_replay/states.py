"""Saved-state round directories: what the orchestrator reads of them (``stateMetadata.txt``).

The file is a borderless text table, one ``KEY: value`` per line; the platform's own parser splits
each line at the first ``:`` and strips whitespace. Unknown keys are ignored and order is not relied on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import MissingInputError

METADATA_FILE = "stateMetadata.txt"
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
    if not round_text.isdigit():
        raise InvalidStateError(f"{where}: ROUND {round_text!r} is not a round number.", file=where)
    if not _HEX.match(hash_text) or len(hash_text) % 2:
        raise InvalidStateError(f"{where}: HASH {hash_text[:40]!r} is not hexadecimal.", file=where)
    return StateMetadata(int(round_text), hash_text.lower(), fields)


def read_state_metadata(state_dir: Path, *, role: str = "state") -> StateMetadata:
    """Read a round directory's metadata; ``role`` names it in messages (bootstrap, expected, output)."""
    if not state_dir.is_dir():
        raise MissingInputError(
            f"The {role} state directory {state_dir} does not exist.",
            hint="Point at a saved round directory (the folder that holds stateMetadata.txt).",
            file=str(state_dir),
        )
    path = state_dir / METADATA_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidStateError(
            f"The {role} state directory {state_dir} has no {METADATA_FILE}.",
            hint="Point at the round directory itself, e.g. .../saved/<main class>/<node>/<swirld>/<round>/.",
            file=str(path),
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidStateError(f"Cannot read {path}: {error}.", file=str(path)) from error
    return parse_state_metadata(text, where=str(path))


def format_state_metadata(fields: dict[str, str]) -> str:
    """The platform's borderless table: keys padded to one column, then the values."""
    width = max(len(key) for key in fields) + 1
    return "".join(f"{(key + ':').ljust(width)} {value}\n" for key, value in fields.items())
