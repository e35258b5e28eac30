"""Verify what a backend wrote after it exited 0: the tools write non-atomically and PCLI stops
early without failing, so the exit code alone proves nothing."""

from __future__ import annotations

from pathlib import Path

from ..backends.base import ReplayBackend
from ..errors import BackendError, ContinuityError, HashMismatchError, MissingInputError
from ..states import StateMetadata, read_state_metadata


def verify_output(out_dir: Path, backend: ReplayBackend, *, target_round: int, expected_hash: str | None) -> StateMetadata:
    tool = backend.tool
    try:
        metadata = read_state_metadata(out_dir, role="output")
    except MissingInputError as error:
        raise BackendError(f"{tool} exited 0 but its output is not a valid state: {error.message}") from error
    if metadata.round < target_round and backend.stops_early_silently:
        raise ContinuityError(
            f"{tool} stopped early without failing: the events end at round {metadata.round}, before the target round {target_round}.",
            hint=f"Add the event files holding rounds {metadata.round + 1}..{target_round}, or lower the target round.",
        )
    if metadata.round != target_round:
        raise BackendError(f"{tool} wrote a state of round {metadata.round}, not of the target round {target_round}.")
    if expected_hash is not None and metadata.hash != expected_hash:
        raise HashMismatchError(
            f"The state {tool} produced for round {metadata.round} does not have the expected hash.",
            expected=expected_hash,
            actual=metadata.hash,
        )
    return metadata
