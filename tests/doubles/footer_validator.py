"""Test double of apply-blocks for real block streams: the validator simulator, whose state after a
block's last round is the hash the next block's footer carries (what the real tool computes on a
correct replay, ``reference/hiero-tools.md`` §7.3). The footers come from a JSON file of
``{round: hash}`` named by FOOTERS_ENV; other rounds fold like the simulator's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from hiero_replay.simulate.state import next_state_hash
from hiero_replay.simulate.validator import main

FOOTERS_ENV = "FOOTER_VALIDATOR_TABLE"


def _footers() -> dict[int, str]:
    with open(os.environ[FOOTERS_ENV], encoding="utf-8") as table:
        return {int(number): value for number, value in json.load(table).items()}


FOOTERS = _footers() if FOOTERS_ENV in os.environ else {}


def footer_transition(state_hash: str, round_number: int, round_items: Iterable[bytes]) -> str:
    return FOOTERS.get(round_number) or next_state_hash(state_hash, round_number, round_items)


if __name__ == "__main__":
    main(transition=footer_transition)
