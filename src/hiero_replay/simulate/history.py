"""A synthetic history for the demo and tests: an event stream up to past the cutover, a block
stream from the cutover on (the two overlap, as in the network's BOTH mode), a bootstrap state,
and a reference "snapshot of now" whose HASH is what a correct replay must reach."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..streams.compression import compress
from ..streams.naming import Compression, block_file_name
from ..streams.writers import NANOS_PER_SECOND, generate_rounds, write_block_stream, write_event_stream
from .state import next_state_hash, write_state_directory

GENESIS_HASH = hashlib.sha384(b"hiero-replay synthetic genesis").hexdigest()
NODE_ID = 3


@dataclass(frozen=True)
class History:
    root: Path
    events_dir: Path
    blocks_dir: Path
    bootstrap_state: Path
    expected_state: Path
    bootstrap_round: int
    cutover_round: int
    target_round: int
    #: With ``saved_every``: the folder of saved states along the history, and each one, oldest first.
    saved_dir: Path | None = None
    saved_states: tuple[Path, ...] = ()


def write_history(
    root: Path,
    *,
    bootstrap_round: int = 10,
    cutover_round: int = 101,
    target_round: int = 220,
    last_event_round: int | None = None,
    last_block_round: int | None = None,
    rounds_per_block: int = 10,
    start_time_ns: int = 1_767_225_600 * NANOS_PER_SECOND,
    round_interval_ns: int = NANOS_PER_SECOND // 4,
    seed: int = 7,
    saved_every: int = 0,
    saved_layout: str = "node",
) -> History:
    """Write the history under ``root`` (which must not hold one already) and return its layout.

    ``saved_every`` K > 0 also writes the states a node saves along the way: every K rounds from the
    bootstrap round, and the target round, under ``root/saved/history`` in the node's layout
    (``<MainClass>/<node>/<swirld>/<round>``) or flat (``<round>``) by ``saved_layout``."""
    last_event_round = last_event_round if last_event_round is not None else cutover_round + 20
    last_block_round = last_block_round if last_block_round is not None else target_round + 10
    count = max(last_event_round, last_block_round)
    rounds = {r.number: r for r in generate_rounds(1, count, start_time_ns=start_time_ns, seed=seed, round_interval_ns=round_interval_ns)}

    events_dir = root / "eventsStreams" / f"events_0.0.{NODE_ID}"
    events_dir.mkdir(parents=True)
    for written in write_event_stream(rounds[n] for n in range(1, last_event_round + 1)):
        (events_dir / written.name).write_bytes(written.data)

    blocks_dir = root / "blockStreams" / f"block-0.0.{NODE_ID}"
    blocks_dir.mkdir(parents=True)
    # The simulated state after each round (index = round): what the state directories record, and
    # what each block's footer carries for the state after the block before (§7.3). A round's
    # transactions are the same in both streams: the same state whichever replays it.
    state_hashes = [GENESIS_HASH]

    def state_after(number: int) -> str:
        while len(state_hashes) <= number:
            applied = len(state_hashes)
            transactions = [transaction for event in rounds[applied].events for transaction in event.transactions]
            state_hashes.append(next_state_hash(state_hashes[-1], applied, transactions))
        return state_hashes[number]

    block_source = (rounds[n] for n in range(cutover_round, last_block_round + 1))
    footers = write_block_stream(
        block_source, rounds_per_block=rounds_per_block, seed=seed, start_state=lambda number: bytes.fromhex(state_after(number))
    )
    for block in footers:
        (blocks_dir / block_file_name(block.number)).write_bytes(compress(block.data, Compression.GZIP))

    def save_state(path: Path, number: int) -> Path:
        """The history's state after round ``number``, saved as a node saves it."""
        write_state_directory(
            path, round_number=number, state_hash=state_after(number), node_id=NODE_ID, consensus_time_ns=rounds[number].consensus_time_ns
        )
        return path

    bootstrap = save_state(root / "saved" / "bootstrap" / str(bootstrap_round), bootstrap_round)
    saved_dir = root / "saved" / "history"
    saved_parent = saved_dir / "ServicesMain" / str(NODE_ID) / "123" if saved_layout == "node" else saved_dir
    saved: list[Path] = []
    if saved_every > 0:
        for number in range(bootstrap_round, target_round + 1):
            if (number - bootstrap_round) % saved_every == 0 or number == target_round:
                saved.append(save_state(saved_parent / str(number), number))
    expected = save_state(root / "saved" / "reference" / str(target_round), target_round)
    return History(
        root, events_dir, blocks_dir, bootstrap, expected, bootstrap_round, cutover_round, target_round,
        saved_dir if saved else None, tuple(saved),
    )  # fmt: skip
