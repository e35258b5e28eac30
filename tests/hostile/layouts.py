"""Hostile and careless inputs for ``hiero-replay`` (issue 13): where the inputs are.

Builders for folder layouts (one kind of stream where the other is expected, two nodes, a file for
a folder), outputs placed inside the inputs, and broken saved states. Each builds its hostile set-up
under the test's own folder (a ``Setup``, see ``setup``) and returns the argv after
``hiero-replay``; ``tests/test_hostile_inputs.py`` runs it and checks the invariants every case
shares.

Builders only use the CLI contract (flags, files, folders), the project's stream writers and the
synthetic history, never the orchestrator's internals: the source is being restructured.
"""

from __future__ import annotations

import os
import shutil

from .setup import Setup, bootstrap_at, fifo, unix_socket, with_round

# Builders, by category.  Each returns the argv after ``hiero-replay``.

# layouts ---------------------------------------------------------------------------------------


def layout_events_at_blocks(s: Setup) -> list[str]:
    return ["run", *s.quick(events=s.blocks)]


def layout_blocks_at_events(s: Setup) -> list[str]:
    state = bootstrap_at(s, 60)
    return ["run", *s.args("--mode", "block-stream", blocks=s.events, bootstrap=state)]


def layout_swapped_auto(s: Setup) -> list[str]:
    return ["run", *s.args(events=s.blocks, blocks=s.events)]


def layout_two_nodes(s: Setup) -> list[str]:
    parent = s.events.parent
    shutil.copytree(s.events, parent / "events_0.0.4")
    return ["run", *s.quick(events=parent)]


def layout_empty_events(s: Setup) -> list[str]:
    (s.tmp / "empty-events").mkdir()
    return ["run", *s.quick(events=s.tmp / "empty-events")]


def layout_events_is_file(s: Setup) -> list[str]:
    return ["run", *s.quick(events=s.event_files()[0])]


def layout_bootstrap_is_metadata_file(s: Setup) -> list[str]:
    return ["plan", *s.quick(bootstrap=s.bootstrap / "stateMetadata.txt")]


def layout_out_is_events(s: Setup) -> list[str]:
    s.out = s.events
    return ["run", *s.quick()]


# outputs inside inputs -------------------------------------------------------------------------


def inside_out_in_events(s: Setup) -> list[str]:
    s.out = s.events / "replayed"
    return ["run", *s.quick()]


def inside_work_in_events(s: Setup) -> list[str]:
    s.work = s.events / "work"
    return ["run", *s.quick()]


def inside_work_is_events(s: Setup) -> list[str]:
    s.work = s.events
    return ["run", *s.quick()]


def inside_work_in_blocks(s: Setup) -> list[str]:
    s.work = s.blocks / "work"
    return ["run", *s.args("--expected-state", s.expected)]


def inside_out_in_bootstrap(s: Setup) -> list[str]:
    s.out = s.bootstrap / "replayed"
    return ["run", *s.quick()]


def inside_work_is_expected_state(s: Setup) -> list[str]:
    s.work = s.expected
    return ["run", *s.args("--expected-state", s.expected)]


def inside_out_in_expected_state(s: Setup) -> list[str]:
    s.out = s.expected / "replayed"
    return ["run", *s.args("--expected-state", s.expected)]


# states ----------------------------------------------------------------------------------------


def state_no_metadata(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    return ["run", *s.quick()]


def state_metadata_binary(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_bytes(b"\xff\xfe\x00ROUND\x00" + os.urandom(64))
    return ["run", *s.quick()]


def state_metadata_no_hash(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_text("ROUND: 10\n")
    return ["run", *s.quick()]


def state_metadata_is_directory(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").mkdir()
    return ["run", *s.quick()]


def state_metadata_fifo(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    fifo(s.bootstrap / "stateMetadata.txt")
    return ["run", *s.quick()]


def state_expected_metadata_socket(s: Setup) -> list[str]:
    (s.expected / "stateMetadata.txt").unlink()
    unix_socket(s, s.expected / "stateMetadata.txt")
    return ["run", *s.args("--expected-state", s.expected)]


def state_metadata_dev_null(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").symlink_to("/dev/null")
    return ["run", *s.quick()]


def state_metadata_symlink_outside(s: Setup) -> list[str]:
    elsewhere = s.tmp / "elsewhere-metadata.txt"
    shutil.copyfile(s.bootstrap / "stateMetadata.txt", elsewhere)
    s.inputs.append(elsewhere)
    (s.bootstrap / "stateMetadata.txt").unlink()
    (s.bootstrap / "stateMetadata.txt").symlink_to(elsewhere)
    return ["plan", *s.quick()]


def state_bootstrap_is_file(s: Setup) -> list[str]:
    return ["run", *s.quick(bootstrap=s.bootstrap / "hashInfo.txt")]


def state_expected_hash_odd(s: Setup) -> list[str]:
    (s.expected / "stateMetadata.txt").write_text(with_round(s.expected / "stateMetadata.txt", "120", "abc"))
    return ["run", *s.args("--expected-state", s.expected)]
