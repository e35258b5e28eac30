"""Golden tests: the argument vectors equal the documented contracts, option by option."""

from __future__ import annotations

from pathlib import Path

from hiero_replay.backends.apply_blocks import BlockStreamBackend, BlockStreamBackendConfig
from hiero_replay.backends.pcli import EventStreamBackend, EventStreamBackendConfig
from hiero_replay.model.plan import Invocation

INVOCATION = Invocation(
    state_dir=Path("/states/100"),
    input_dir=Path("/work/in"),
    node_id=3,
    target_round=250,
    out_dir=Path("/work/out"),
)


def test_apply_blocks_minimal() -> None:
    backend = BlockStreamBackend(BlockStreamBackendConfig(command=["java", "-jar", "hedera-state-validator-0.77.jar"]))
    assert backend.argv(INVOCATION) == [
        "java", "-jar", "hedera-state-validator-0.77.jar",
        "/states/100",
        "apply-blocks",
        "--block-stream-dir", "/work/in",
        "--node-id", "3",
        "--target-round", "250",
        "--out", "/work/out",
    ]  # fmt: skip


def test_apply_blocks_with_expected_hash_rate_and_extra_args() -> None:
    config = BlockStreamBackendConfig(
        command=["java", "--enable-native-access=ALL-UNNAMED", "-jar", "v.jar"], args=["--download-threads", "8"]
    )
    invocation = Invocation(**{**INVOCATION.__dict__, "expected_hash": "ab" * 48, "rounds_per_second": 20})
    assert BlockStreamBackend(config).argv(invocation) == [
        "java", "--enable-native-access=ALL-UNNAMED", "-jar", "v.jar",
        "/states/100",
        "apply-blocks",
        "--block-stream-dir", "/work/in",
        "--node-id", "3",
        "--target-round", "250",
        "--expected-hash", "ab" * 48,
        "--rate", "20",
        "--out", "/work/out",
        "--download-threads", "8",
    ]  # fmt: skip


def test_pcli_minimal() -> None:
    backend = EventStreamBackend(EventStreamBackendConfig(command=["/opt/pcli/pcli.sh"]))
    assert backend.argv(INVOCATION) == [
        "/opt/pcli/pcli.sh",
        "event-stream", "recover",
        "/states/100", "/work/in",
        "--id", "3",
        "--ignore-partial",
        "--final-round", "250",
        "--out", "/work/out",
    ]  # fmt: skip


def test_pcli_with_extras() -> None:
    config = EventStreamBackendConfig(
        command=["pcli.sh"],
        config_file=Path("/opt/hgcapp/settings.txt"),
        load_signing_keys=True,
        transaction_offset_nanos=104,
        args=["-L", "data/lib", "-J", "-Xmx36g"],
    )
    invocation = Invocation(**{**INVOCATION.__dict__, "expected_hash": "ab" * 48, "rounds_per_second": 20})
    # PCLI has no expected hash and no rate: neither reaches its command line.
    assert EventStreamBackend(config).argv(invocation) == [
        "pcli.sh",
        "event-stream", "recover",
        "/states/100", "/work/in",
        "--id", "3",
        "--ignore-partial",
        "--final-round", "250",
        "--out", "/work/out",
        "--config", "/opt/hgcapp/settings.txt",
        "--load-signing-keys",
        "--transaction-offset-nanos", "104",
        "-L", "data/lib", "-J", "-Xmx36g",
    ]  # fmt: skip
