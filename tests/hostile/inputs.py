"""Hostile and careless inputs for ``hiero-replay`` (issue 13): what the inputs say.

Builders for the configuration (files, environment, metrics) and for damaged, absurd or misnamed
stream files. Each builds its hostile set-up under the test's own folder (a ``Setup``, see
``setup``) and returns the argv after ``hiero-replay``; ``tests/test_hostile_inputs.py`` runs it and
checks the invariants every case shares.

Builders only use the CLI contract (flags, files, folders), the project's stream writers and the
synthetic history, never the orchestrator's internals: the source is being restructured.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import replace

from hiero_replay.streams.compression import compress
from hiero_replay.streams.naming import Compression, block_file_name
from hiero_replay.streams.writers import generate_rounds, write_block_stream, write_event_file

from .setup import (
    NODE,
    START_NS,
    WRONG_HASH,
    YEAR_1E11_NS,
    Setup,
    bootstrap_at,
    fifo,
    flip_middle,
    gzip_bomb,
    truncate_half,
    with_round,
    write_toml,
    zstd_bomb,
)

# Builders, by category.  Each returns the argv after ``hiero-replay``.

# config ----------------------------------------------------------------------------------------


def config_toml_syntax(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replay\nmode = 'auto'\n", "broken.toml")), *s.quick()]


def config_wrong_type(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, '[replay]\nsegment_rounds = "many"\n')), *s.quick()]


def config_unknown_key(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replay]\nbootstrap_round = 10\n")), *s.quick()]


def config_unknown_section(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[replya]\nmode = 'auto'\n")), *s.quick()]


def config_rate_bare_number(s: Setup) -> list[str]:
    return ["run", "--config", str(write_toml(s, "[pace]\nrate = 20\n")), *s.quick()]


def config_rate_zero(s: Setup) -> list[str]:
    return ["run", *s.quick("--rate", "0 rounds/s")]


def config_file_missing(s: Setup) -> list[str]:
    return ["run", "--config", str(s.tmp / "absent.toml"), *s.quick()]


def config_file_is_fifo(s: Setup) -> list[str]:
    return ["run", "--config", str(fifo(s.tmp / "piped.toml")), *s.quick()]


def config_expected_state_and_target(s: Setup) -> list[str]:
    return ["run", *s.args("--expected-state", s.expected, "--target-round", "50")]


def config_target_round_past_2_63(s: Setup) -> list[str]:
    return ["run", *s.quick()[:-2], "--target-round", str(2**64), "--out", str(s.out)]


def config_unsupported_url(s: Setup) -> list[str]:
    return ["run", *s.quick(events="ftp://mirror.example/events_0.0.3")]


def config_http_endpoint_remote(s: Setup) -> list[str]:
    toml = write_toml(s, '[buckets]\nendpoint = "http://198.51.100.7:9000"\n')  # plain HTTP, not opted in
    return ["run", "--config", str(toml), *s.quick(events="s3://bucket/events_0.0.3")]


def env_rate_with_space(s: Setup) -> list[str]:
    return ["plan", *s.quick()]


def env_bad_integer(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def env_bad_list(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def env_unknown_key(s: Setup) -> list[str]:
    return ["run", *s.quick()]


def metrics_port_in_use(s: Setup) -> list[str]:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    s.cleanups.append(taken.close)
    s.notes["port"] = taken.getsockname()[1]
    return ["run", *s.quick("--metrics-port", s.notes["port"])]


def pushgateway_down_keeps_exit_code(s: Setup) -> list[str]:
    return ["run", *s.quick("--pushgateway", "http://127.0.0.1:9", bootstrap=s.tmp / "no-such-state")]


def textfile_unwritable_keeps_exit_code(s: Setup) -> list[str]:
    (s.tmp / "not-a-folder").write_text("a file where the textfile's folder should be\n")
    s.inputs.append(s.tmp / "not-a-folder")
    return ["run", *s.quick("--expected-hash", WRONG_HASH, "--metrics-textfile", s.tmp / "not-a-folder" / "replay.prom")]


# files -----------------------------------------------------------------------------------------


def file_truncated_event(s: Setup) -> list[str]:
    truncate_half(s.event_files()[1])
    return ["inspect", str(s.events)]


def file_truncated_block(s: Setup) -> list[str]:
    truncate_half(s.block_files()[3])
    return ["inspect", str(s.blocks)]


def file_corrupt_block(s: Setup) -> list[str]:
    flip_middle(s.block_files()[2])
    return ["inspect", str(s.blocks)]


def file_corrupt_block_run(s: Setup) -> list[str]:
    state = bootstrap_at(s, 60)
    flip_middle(s.block_files()[2])
    return ["run", *s.args("--mode", "block-stream", "--target-round", "100", bootstrap=state)]


def file_empty_event(s: Setup) -> list[str]:
    (s.events / "2026-01-01T00_00_02.500000000Z.evts").write_bytes(b"")
    return ["inspect", str(s.events)]


def file_garbage_block(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name(Compression.NONE)).write_bytes(os.urandom(4096))
    return ["inspect", str(s.blocks)]


def file_gzip_bomb(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name()).write_bytes(gzip_bomb())
    return ["inspect", str(s.blocks)]


def file_zstd_bomb(s: Setup) -> list[str]:
    (s.blocks / s.next_block_name(Compression.ZSTD)).write_bytes(zstd_bomb())
    return ["inspect", str(s.blocks)]


def file_event_time_year_1e11(s: Setup) -> list[str]:
    folder = s.tmp / "events-absurd" / "events_0.0.3"
    folder.mkdir(parents=True)
    events = [event for r in generate_rounds(1, 3, start_time_ns=START_NS) for event in r.events]
    events[-1] = replace(events[-1], consensus_time_ns=YEAR_1E11_NS)
    written = write_event_file(events, bytes(48))
    (folder / written.name).write_bytes(written.data)
    s.notes["file"] = written.name
    s.inputs.append(folder)
    return ["inspect", str(folder)]


def file_block_time_year_1e11(s: Setup) -> list[str]:
    folder = s.tmp / "blocks-absurd"
    folder.mkdir()
    for block in write_block_stream(generate_rounds(1, 6, start_time_ns=YEAR_1E11_NS), rounds_per_block=3):
        (folder / block_file_name(block.number)).write_bytes(compress(block.data, Compression.GZIP))
    s.inputs.append(folder)
    return ["inspect", str(folder)]


def file_block_round_past_2_63(s: Setup) -> list[str]:
    folder = s.tmp / "blocks-huge-rounds"
    folder.mkdir()
    # Round numbers are uint64 in a block's round header; the events inside keep small birth rounds.
    rounds = [replace(r, number=2**63 + index) for index, r in enumerate(generate_rounds(1, 6, start_time_ns=START_NS))]
    for block in write_block_stream(rounds, rounds_per_block=3):
        (folder / block_file_name(block.number)).write_bytes(compress(block.data, Compression.GZIP))
    s.inputs.append(folder)
    state = bootstrap_at(s, 2**63 - 1)
    return ["run", "--simulate", "--mode", "block-stream", "--blocks", str(folder), "--bootstrap-state", str(state),
            "--node-id", NODE, "--work-dir", str(s.work), "--out", str(s.out)]  # fmt: skip


def file_bootstrap_round_past_2_64(s: Setup) -> list[str]:
    (s.bootstrap / "stateMetadata.txt").write_text(with_round(s.bootstrap / "stateMetadata.txt", str(2**64)))
    return ["run", *s.args()]


def _copy_event_as(s: Setup, name: str) -> list[str]:
    shutil.copyfile(s.event_files()[-1], s.events / name)
    return ["inspect", str(s.events)]


def file_event_name_month_13(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-13-01T00_00_00.000000000Z.evts")


def file_event_name_feb_30(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-02-30T00_00_00.000000000Z.evts")


def file_event_name_hour_25(s: Setup) -> list[str]:
    return _copy_event_as(s, "2026-01-01T25_00_00.000000000Z.evts")


def file_renamed_block(s: Setup) -> list[str]:
    blocks = s.block_files()
    blocks[3].rename(s.blocks / block_file_name(9))
    return ["inspect", str(s.blocks)]


def file_corrupt_signature(s: Setup) -> list[str]:
    first = s.event_files()[0]
    first.with_name(first.name + "_sig").write_bytes(b"\x05" + os.urandom(200))
    return ["inspect", str(s.events)]
