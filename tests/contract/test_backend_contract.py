"""The ``ReplayBackend`` contract, run against every registered backend and its simulator (a real
subprocess under the supervisor): argument vector, staging, pacing, progress, failure
classification and output verification.

A new backend (one module and one registry line) is done when it passes this suite.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from hiero_replay.backends import registry
from hiero_replay.backends.base import ReplayBackend
from hiero_replay.backends.probe import probe
from hiero_replay.backends.process import SupervisorFiles, follow_backend, start_backend
from hiero_replay.config import Settings
from hiero_replay.errors import BackendError, ContinuityError, HashMismatchError, ReplayError
from hiero_replay.inventory import load_stream_files
from hiero_replay.model.plan import Invocation, Proof, Segment
from hiero_replay.model.rate import Workload
from hiero_replay.plan.make import files_for
from hiero_replay.run.staging import prepare_output, stage_inputs
from hiero_replay.run.verify import verify_output
from hiero_replay.simulate.history import History, write_history
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.states import StateMetadata, read_state_metadata
from hiero_replay.streams.naming import FileKind


@dataclass
class Case:
    backend: ReplayBackend
    history: History
    stream_dir: Path
    first: int
    last: int


class HistoryRounds(TypedDict):
    """The rounds ``write_history`` is given."""

    bootstrap_round: int
    cutover_round: int
    target_round: int


#: For each stream kind, a history whose stream alone covers bootstrap + 1 .. target.
HISTORIES: dict[FileKind, HistoryRounds] = {
    FileKind.EVENTS: {"bootstrap_round": 10, "cutover_round": 61, "target_round": 50},
    FileKind.BLOCK: {"bootstrap_round": 60, "cutover_round": 41, "target_round": 90},
}


@pytest.fixture(scope="module", params=registry.names())
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    backend = registry.create_backends(Settings().backends.of, simulate=True)[request.param]
    root = tmp_path_factory.mktemp(request.param)
    assert backend.adapt(probe(backend, root / "work")) == []  # the simulators behave like the tools on main
    history = write_history(root / "history", **HISTORIES[backend.stream_kind])
    stream_dir = history.events_dir if backend.stream_kind is FileKind.EVENTS else history.blocks_dir
    return Case(backend, history, stream_dir, history.bootstrap_round + 1, history.target_round)


class InvocationChanges(TypedDict, total=False):
    """Fields of an ``Invocation`` a test changes."""

    state_dir: Path
    target_round: int
    expected_hash: str | None


def _segment(case: Case, folder: Path, **changes: Unpack[InvocationChanges]) -> Segment:
    source = LocalDirSource(case.stream_dir)
    files = load_stream_files(source).of_kind(case.backend.stream_kind)
    invocation = Invocation(
        state_dir=case.history.bootstrap_state, input_dir=folder / "input", node_id=3, target_round=case.last, out_dir=folder / "out"
    )
    segment = Segment(
        index=1, backend=case.backend.name, first_round=case.first, last_round=case.last, source=source.url,
        files=files_for(files, case.first, case.last), invocation=invocation, final_dir=folder / "state", proof=Proof("none", None, "a contract test"),
        argv=(), workload=Workload(case.last - case.first + 1, 0, None),
    )  # fmt: skip
    stage_inputs(segment, source, case.backend)
    return replace(segment, invocation=replace(invocation, **changes)) if changes else segment


def _run(case: Case, segment: Segment, rounds: list[int] | None = None) -> StateMetadata:
    """Run the backend on the segment under the supervisor, as a run does: its output folder
    prepared, then its output verified."""
    files = SupervisorFiles.in_folder(segment.folder)
    prepare_output(segment.out_dir, case.backend)
    process = start_backend(case.backend, segment.invocation, files)
    seen = rounds if rounds is not None else []
    follow_backend(
        case.backend, files, process.pid, started_at=0.0, rounds=(segment.first_round, segment.last_round),
        on_line=lambda *_: None, on_round=seen.append, process=process,
    )  # fmt: skip
    expected = segment.invocation.expected_hash
    return verify_output(segment.out_dir, case.backend, target_round=segment.invocation.target_round, expected_hash=expected)


def _failure(case: Case, segment: Segment) -> ReplayError:
    with pytest.raises(ReplayError) as raised:
        _run(case, segment)
    return raised.value


def test_the_argument_vector_names_every_input(case: Case, tmp_path: Path) -> None:
    invocation = Invocation(Path("/s/100"), Path("/w/in"), 7, 250, Path("/w/out"))
    argv = case.backend.argv(invocation)
    assert all(isinstance(token, str) for token in argv)
    assert argv[:3] == [sys.executable, "-m", registry.backend_class(case.backend.name).simulator]
    for token in ("/s/100", "/w/in", "7", "250", "/w/out"):
        assert token in argv


def test_a_rate_reaches_the_tool_only_when_it_paces_rounds(case: Case) -> None:
    invocation = Invocation(Path("/s/100"), Path("/w/in"), 7, 250, Path("/w/out"), rounds_per_second=7919)
    assert ("7919" in case.backend.argv(invocation)) == case.backend.paces_rounds


def test_an_expected_hash_reaches_the_tool_only_when_it_checks_it(case: Case) -> None:
    invocation = Invocation(Path("/s/100"), Path("/w/in"), 7, 250, Path("/w/out"), expected_hash="ab" * 48)
    assert ("ab" * 48 in case.backend.argv(invocation)) == case.backend.checks_expected_hash


def test_staged_files_replay_to_the_reference_state(case: Case, tmp_path: Path) -> None:
    reference = read_state_metadata(case.history.expected_state)
    segment = _segment(case, tmp_path, expected_hash=reference.hash)
    listed = load_stream_files(LocalDirSource(case.stream_dir)).of_kind(case.backend.stream_kind)
    staged = {case.backend.staged_name(f.name)[0] for f in listed if f.key in segment.files}
    assert {p.name for p in segment.input_dir.iterdir()} == staged and len(staged) == len(segment.files)
    rounds: list[int] = []
    metadata = _run(case, segment, rounds)
    assert (metadata.round, metadata.hash) == (case.last, reference.hash)
    assert rounds == sorted(rounds) and all(case.first <= r <= case.last for r in rounds)


def test_a_wrong_expected_hash_is_a_mismatch(case: Case, tmp_path: Path) -> None:
    segment = _segment(case, tmp_path, expected_hash="00" * 48)
    error = _failure(case, segment)
    assert isinstance(error, HashMismatchError) and error.exit_code == 5
    assert "00" * 48 in str(error)


def test_input_ending_before_the_target_is_a_continuity_gap(case: Case, tmp_path: Path) -> None:
    error = _failure(case, _segment(case, tmp_path, target_round=case.last + 500))
    assert isinstance(error, ContinuityError) and error.exit_code == 4


def test_a_file_missing_from_the_middle_is_a_continuity_gap(case: Case, tmp_path: Path) -> None:
    segment = _segment(case, tmp_path)
    staged = sorted(segment.input_dir.iterdir())
    assert len(staged) >= 3
    staged[len(staged) // 2].unlink()
    error = _failure(case, segment)
    assert isinstance(error, ContinuityError) and error.exit_code == 4


def test_an_unusable_state_is_a_typed_failure(case: Case, tmp_path: Path) -> None:
    empty = tmp_path / "not-a-state"
    empty.mkdir()
    error = _failure(case, _segment(case, tmp_path, state_dir=empty))
    assert error.exit_code in (3, 6)


def test_a_rejected_command_line_is_a_backend_failure_with_the_tools_words(case: Case, tmp_path: Path) -> None:
    segment = _segment(case, tmp_path)
    section = Settings().backends.of(case.backend.name).model_copy(update={"args": ["--no-such-option"]})
    rejecting = registry.create_backends(lambda _: section, simulate=True)[case.backend.name]
    error = _failure(Case(rejecting, case.history, case.stream_dir, case.first, case.last), segment)
    assert isinstance(error, BackendError) and error.exit_code == 6
    assert "usage error" in str(error) and "--no-such-option" in str(error)


def test_every_backend_has_a_configuration_section_a_simulator_and_a_mode() -> None:
    for name in registry.names():
        cls = registry.backend_class(name)
        assert cls.name == name and name in registry.mode_choices()
        assert Settings().backends.of(name).command
        assert importlib.util.find_spec(cls.simulator) is not None
