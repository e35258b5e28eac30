"""The saved states of a history: every round directory under a folder or a bucket prefix.

Two layouts are read: the node's (``data/saved/<MainClass>/<node>/<swirld>/<round>/stateMetadata.txt``,
where the folder may hold several nodes: only ``--node-id``'s states are used then) and a flat one
(``<round>/stateMetadata.txt``). Only the metadata files are read here; a job's states are fetched
by the job itself (a bucket state is downloaded once into its work folder's cache).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..config import Settings
from ..errors import ConfigError, MissingInputError
from ..model.history import SavedState
from ..sources.base import ReplaySource
from ..sources.registry import open_source
from ..states import (
    METADATA_FILE,
    METADATA_LIMIT,
    InvalidStateError,
    StateMetadata,
    check_round_name,
    parse_state_metadata,
    read_state_metadata,
    round_of_name,
)

#: Parts of a node-layout key below the saved folder: <MainClass>/<node>/<swirld>/<round>/stateMetadata.txt.
_NODE_DEPTH = 5


def _node_of(parts: tuple[str, ...]) -> int | None:
    """The node id of a key in the node's layout (``.../<node>/<swirld>/<round>/stateMetadata.txt``)."""
    return round_of_name(parts[-4]) if len(parts) >= _NODE_DEPTH else None


def discover_states(location: str, settings: Settings) -> list[SavedState]:
    """The saved states under ``location``, oldest first, one per round."""
    source = open_source(location, settings.buckets, work_dir=settings.work_dir)
    if source.features.local and not Path(location).is_dir():
        raise MissingInputError(
            f"The saved states folder {location} does not exist.",
            hint="Point --states at a folder of saved round directories.",
            file=location,
        )
    found = sorted(_metadata_files(source, Path(location)))
    nodes = {_node_of(path.parts) for path, _ in found} - {None}
    if len(nodes) > 1:
        node_id = settings.replay.node_id
        if node_id not in nodes:
            raise ConfigError(
                f"{location} holds saved states of nodes {', '.join(map(str, sorted(n for n in nodes if n is not None)))}, not of node {node_id}.",
                hint="Pass the --node-id whose states to use.",
            )
        found = [(path, size) for path, size in found if _node_of(path.parts) == node_id]
    by_round: dict[int, SavedState] = {}
    for path, size in found:
        where = f"{source.url.rstrip('/')}/{path}"
        metadata = _read_metadata(source, Path(location), path, size)
        directory = str(path.parent)
        check_round_name(metadata, path.parent.name, where=where)
        state_location = str(Path(location).absolute() / directory) if source.features.local else f"{source.url.rstrip('/')}/{directory}"
        state = SavedState(metadata.round, metadata.hash, state_location, metadata.consensus_timestamp)
        known = by_round.get(state.round)
        if known is not None and known.hash != state.hash:
            raise ConfigError(
                f"Two saved states of round {state.round} disagree: {known.location} (HASH {known.hash[:16]}…) "
                f"and {state.location} (HASH {state.hash[:16]}…).",
                hint="Keep one node's states in the folder, or pass --node-id.",
            )
        by_round.setdefault(state.round, state)
    if not by_round:
        raise MissingInputError(
            f"No saved states under {location}.",
            hint="Point --states at a folder (or bucket prefix) of round directories that hold stateMetadata.txt, "
            "e.g. data/saved or data/saved/<MainClass>/<node>/<swirld>.",
            file=location,
        )
    return [by_round[number] for number in sorted(by_round)]


def _metadata_files(source: ReplaySource, root: Path) -> Iterator[tuple[PurePosixPath, int]]:
    """The ``stateMetadata.txt`` of every folder named by a round, with its size. In a local folder
    that is every such folder holding an entry of that name, whatever it is: one that is not a
    regular file (a FIFO, a folder, a dangling link) is refused when read, never passed over."""
    objects = source.list()
    if not source.features.local:
        for obj in objects:
            path = PurePosixPath(obj.key)
            if path.name == METADATA_FILE and round_of_name(path.parent.name) is not None:
                yield path, obj.size
        return
    folders: set[PurePosixPath] = set()
    for obj in objects:
        folder = PurePosixPath(obj.key).parent
        while folder.name and folder not in folders:
            folders.add(folder)
            folder = folder.parent
    for folder in folders:
        if round_of_name(folder.name) is not None and os.path.lexists(root / folder / METADATA_FILE):
            yield folder / METADATA_FILE, 0


def _read_metadata(source: ReplaySource, root: Path, path: PurePosixPath, size: int) -> StateMetadata:
    """A saved state's metadata, read as the bootstrap state's is: from a local folder, only a regular
    file and at most ``METADATA_LIMIT`` bytes; from a bucket, only an object no larger."""
    if source.features.local:
        return read_state_metadata(root / path.parent, role="saved")
    where = f"{source.url.rstrip('/')}/{path}"
    if size > METADATA_LIMIT:
        raise InvalidStateError(
            f"{where} is {size:,} bytes: not a stateMetadata.txt (a few hundred bytes).",
            hint="Remove or replace the damaged saved state.",
            file=where,
        )
    return parse_state_metadata(source.read(str(path)).decode("utf-8", errors="replace"), where=where)
