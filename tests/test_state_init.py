"""``hiero-replay state init``: a rehearsal bootstrap state, written only where nothing is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hiero_replay.states import read_state_metadata

CLI = [sys.executable, "-m", "hiero_replay"]
HASH = "0123456789ABCDEF" * 6


def state_init(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "state", "init", *args], capture_output=True, text=True, timeout=120)


def test_writes_a_round_directory_the_replay_reads(tmp_path: Path) -> None:
    out = tmp_path / "saved" / "123"
    result = state_init("123", "--hash", HASH, "--consensus-time", "2021-04-18T04:23:37.2Z", "--node-id", "3", str(out))
    assert result.returncode == 0, result.stderr
    metadata = read_state_metadata(out)
    assert (metadata.round, metadata.hash) == (123, HASH.lower())
    assert metadata.consensus_timestamp == "2021-04-18T04:23:37.200000000Z"
    assert metadata.fields["NODE_ID"] == "3" and HASH.lower() in result.stdout and "metadata only" in result.stdout
    defaults = tmp_path / "0"
    assert state_init("0", "--hash", HASH, str(defaults)).returncode == 0
    assert read_state_metadata(defaults).fields["NODE_ID"] == "0" and read_state_metadata(defaults).consensus_timestamp == "null"


@pytest.mark.parametrize("existing", ["state", "empty folder", "file"])
def test_never_overwrites(tmp_path: Path, existing: str) -> None:
    out = tmp_path / "10"
    if existing == "state":
        assert state_init("10", "--hash", HASH, str(out)).returncode == 0
    elif existing == "empty folder":
        out.mkdir()
    else:
        out.write_text("keep me")
    before = {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()}
    result = state_init("11", "--hash", "f" * 96, str(out))
    assert result.returncode == 2 and "already exists" in result.stderr and "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hash", "a" * 95], "96 hexadecimal digits"),
        (["--hash", "a" * 97], "96 hexadecimal digits"),
        (["--hash", "g" * 96], "96 hexadecimal digits"),
        (["--hash", "0x" + "a" * 94], "96 hexadecimal digits"),
        (["--hash", ""], "96 hexadecimal digits"),
        (["--hash", HASH, "--consensus-time", "2021-02-30T00:00:00Z"], "not an ISO 8601 UTC instant"),
        (["--hash", HASH, "--consensus-time", "yesterday"], "not an ISO 8601 UTC instant"),
        ([], "Missing option '--hash'"),
    ],
)
def test_refuses_what_is_not_a_state(tmp_path: Path, args: list[str], message: str) -> None:
    result = state_init("5", *args, str(tmp_path / "5"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "5").exists()


def test_refuses_a_negative_round(tmp_path: Path) -> None:
    result = state_init("--hash", HASH, "--", "-1", str(tmp_path / "x"))
    assert result.returncode == 2 and not (tmp_path / "x").exists()


def test_help_says_it_writes_metadata_only() -> None:
    shown = " ".join(
        subprocess.run([*CLI, "state", "init", "--help"], capture_output=True, text=True, timeout=60, check=True).stdout.split()
    )
    assert "metadata only" in shown and "not a real state" in shown and "--simulate" in shown
    assert "state" in subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
