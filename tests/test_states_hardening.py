"""Saved states, stream file sizes and the work directory's own data, read back from hostile or
damaged copies: each ends in its typed error (or is reported and ignored), never in exit 70."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hiero_replay.config import load_settings
from hiero_replay.history.states import discover_states
from hiero_replay.simulate.history import History, write_history
from hiero_replay.states import read_state_metadata

from .history_helpers import run_cli


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history") / "base", saved_every=50)


def _saved(history: History, round_number: int) -> Path:
    return next(path for path in history.saved_states if path.name == str(round_number))


def _run(history: History, tmp_path: Path, *flags: str) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    args = ["run", "--simulate", "--work-dir", str(tmp_path / "work"), "--events", str(history.events_dir)]
    args += ["--blocks", str(history.blocks_dir), "--bootstrap-state", str(history.bootstrap_state), "--out", str(out), *flags]
    done = run_cli(args)
    return done.returncode, done.stderr, out


# --- --expected-state FOLDER: the newest snapshot must be the round it is named after ---------------


def test_expected_state_folder_refuses_a_newest_snapshot_of_another_round(history: History, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(history.expected_state, reference / "220")
    shutil.copytree(_saved(history, 60), reference / "999")  # round 60's state, named as a newer one
    code, stderr, out = _run(history, tmp_path, "--expected-state", str(reference))
    assert code == 3, stderr
    assert "999/stateMetadata.txt says ROUND 60, but its round directory is named 999" in stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["٣٠٠", "²", "３００"])
def test_expected_state_folder_takes_only_ascii_round_names(history: History, tmp_path: Path, name: str) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(history.expected_state, reference / "220")
    shutil.copytree(_saved(history, 60), reference / name)  # not a round number: not a round directory
    code, stderr, out = _run(history, tmp_path, "--expected-state", str(reference))
    assert code == 0, stderr
    assert read_state_metadata(out).round == 220


def test_saved_states_in_folders_not_named_by_ascii_rounds_are_not_rounds(history: History, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    shutil.copytree(_saved(history, 60), saved / "ServicesMain" / "3" / "123" / "60")
    shutil.copytree(_saved(history, 110), saved / "ServicesMain" / "3" / "123" / "110")
    shutil.copytree(_saved(history, 160), saved / "ServicesMain" / "³" / "123" / "160")
    shutil.copytree(_saved(history, 210), saved / "ServicesMain" / "3" / "123" / "²")
    settings = load_settings(None, {"work_dir": str(tmp_path / "work"), "replay": {"node_id": 3}})
    assert [state.round for state in discover_states(str(saved), settings)] == [60, 110, 160]
