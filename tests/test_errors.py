"""The exit codes are a contract: the README's table, the taxonomy and the schedule's policy agree."""

from __future__ import annotations

import pickle
import re

from hiero_replay.errors import EXIT_CODES, ContinuityError, HashMismatchError, ReplayError
from hiero_replay.schedule.scheduler import PAUSING_EXIT_CODES, TRANSIENT_EXIT_CODES

from .conftest import REPO


def test_readme_documents_every_exit_code() -> None:
    rows = re.findall(r"^\|\s*(\d+)\s*\|(.*)\|(.*)\|$", (REPO / "README.md").read_text(), flags=re.MULTILINE)
    assert {int(code): (meaning.strip(), reaction.strip()) for code, meaning, reaction in rows} == {
        code: (meaning, reaction) for code, (_, meaning, reaction) in EXIT_CODES.items()
    }
    assert sorted(EXIT_CODES) == [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 70]


def test_the_taxonomy_has_one_code_per_kind_and_subclasses_keep_theirs() -> None:
    assert {code: kind for code, (kind, _, _) in EXIT_CODES.items()} == {
        0: "success", 2: "config", 3: "missing-input", 4: "continuity", 5: "hash-mismatch", 6: "backend", 7: "source",
        8: "interrupted", 9: "already-running", 10: "run-store", 11: "metrics", 70: "internal",
    }  # fmt: skip
    assert not TRANSIENT_EXIT_CODES & PAUSING_EXIT_CODES
    assert set(EXIT_CODES) - {0, 8} == TRANSIENT_EXIT_CODES | PAUSING_EXIT_CODES


def test_help_lists_every_exit_code() -> None:
    from click.testing import CliRunner

    from hiero_replay.cli import cli

    shown = CliRunner().invoke(cli, ["--help"]).output
    for code, (_, meaning, _) in EXIT_CODES.items():
        assert f"{code:<3} {meaning}" in shown


def test_errors_cross_process_boundaries_whole() -> None:
    error = HashMismatchError("Root mismatch.", expected=b"\x01" * 48, actual="ab", hint="Fetch again.", file="3.blk.gz")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.file, copy.expected, copy.exit_code) == (HashMismatchError, str(error), "3.blk.gz", "01" * 48, 5)
    gap = pickle.loads(pickle.dumps(ContinuityError("Blocks 3..4 missing.", file="5.blk.gz")))
    assert isinstance(gap, ReplayError) and gap.file == "5.blk.gz" and gap.exit_code == 4
