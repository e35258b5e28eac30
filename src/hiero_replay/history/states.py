"""The saved states of a history: every round directory under a folder or a bucket prefix.

Two layouts are read: the node's (``data/saved/<MainClass>/<node>/<swirld>/<round>/stateMetadata.txt``,
where the folder may hold several nodes: only ``--node-id``'s states are used then) and a flat one
(``<round>/stateMetadata.txt``). Only the metadata files are read here; a job's states are fetched
by the job itself (a bucket state is downloaded once into its work folder's cache).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..config import Settings
from ..errors import ConfigError, MissingInputError
from ..model.history import SavedState
from ..sources.registry import open_source
from ..states import METADATA_FILE, check_round_name, parse_state_metadata, round_of_name

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
    keys = [obj.key for obj in source.list() if obj.skipped is None and PurePosixPath(obj.key).name == METADATA_FILE]
    found: list[tuple[str, PurePosixPath]] = []
    for key in keys:
        path = PurePosixPath(key)
        if round_of_name(path.parent.name) is not None:
            found.append((key, path))
    nodes = {_node_of(path.parts) for _, path in found} - {None}
    if len(nodes) > 1:
        node_id = settings.replay.node_id
        if node_id not in nodes:
            raise ConfigError(
                f"{location} holds saved states of nodes {', '.join(map(str, sorted(n for n in nodes if n is not None)))}, not of node {node_id}.",
                hint="Pass the --node-id whose states to use.",
            )
        found = [(key, path) for key, path in found if _node_of(path.parts) == node_id]
    by_round: dict[int, SavedState] = {}
    for key, path in sorted(found):
        where = f"{source.url.rstrip('/')}/{key}"
        metadata = parse_state_metadata(source.read(key).decode("utf-8", errors="replace"), where=where)
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
