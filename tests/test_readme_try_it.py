"""The README's "Try it on real stream files" section, run line by line in a copy of the repository,
as a newcomer would: every command exits 0, or the code the README says it exits with
(``# exits N``), and the last one prints the final state's HASH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO, SAMPLES

SECTION = "## Try it on real stream files"
#: What a fresh clone does not have (or must not share with the repository under test).
NOT_COPIED = (".git", ".venv", ".hiero-replay", "__pycache__", "*_cache", ".hypothesis", "*.egg-info", "build", "dist", "*.so")


@dataclass(frozen=True)
class Command:
    line: str
    expected: int


@dataclass(frozen=True)
class Outcome:
    command: Command
    code: int | None  # None: the shell never got past it
    stdout: str
    stderr: str


def section_commands(readme: str) -> list[Command]:
    """The commands of the section's ``sh`` blocks, continuation lines joined, comments kept (a
    trailing ``# exits N`` is the code the README says the command ends with)."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    text = readme[start : end if end >= 0 else None]
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert blocks, f"no ```sh block in the README's {SECTION!r} section"
    commands = []
    for line in re.sub(r"\\\n\s*", " ", "".join(blocks)).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            expected = re.search(r"#\s*exits (\d+)\b", line)
            commands.append(Command(line, int(expected.group(1)) if expected else 0))
    return commands


def run_line_by_line(commands: list[Command], checkout: Path, logs: Path) -> list[Outcome]:
    """Run the commands in one shell (variables and ``.`` carry over), each one's output kept apart."""
    logs.mkdir()
    script = [f'exec 3>"{logs}/codes"']
    for number, command in enumerate(commands):
        script += ["{ " + command.line, f'}} >"{logs}/{number}.out" 2>"{logs}/{number}.err"', f'echo "{number} $?" >&3']
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("HIERO_REPLAY_", "VIRTUAL_ENV"))}
    path = f"{Path(sys.executable).parent}{os.pathsep}{keep.get('PATH', '')}"
    (logs / "tmp").mkdir()  # mktemp -d of the section
    env = {**keep, "PATH": path, "HIERO_REPLAY_SAMPLES": str(SAMPLES), "TMPDIR": str(logs / "tmp")}
    subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=checkout,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    codes = dict(line.split() for line in (logs / "codes").read_text().splitlines())
    outcomes = []
    for number, command in enumerate(commands):
        out, err = logs / f"{number}.out", logs / f"{number}.err"
        code = codes.get(str(number))
        outcomes.append(
            Outcome(
                command,
                int(code) if code is not None else None,
                out.read_text(errors="replace") if out.exists() else "",
                err.read_text(errors="replace") if err.exists() else "",
            )
        )
    return outcomes


def failures(outcomes: list[Outcome]) -> list[str]:
    return [
        f"{o.command.line!r} exited {o.code}, the README says {o.command.expected}:\n{o.stdout[-1500:]}{o.stderr[-1500:]}"
        for o in outcomes
        if o.code != o.command.expected
    ]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository as a clone has it, with the test environment's ``.venv``."""
    if not SAMPLES.is_dir():
        pytest.skip(f"stream samples not found at {SAMPLES} (set HIERO_REPLAY_SAMPLES to their folder)")
    if sys.prefix == sys.base_prefix:
        pytest.skip("the README's commands use the virtual environment make creates; run the tests from it (make test)")
    copy = tmp_path_factory.mktemp("clone") / "hiero-replay"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)  # copy2: times kept
    (copy / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    if subprocess.run(["make", "-q", ".venv/bin/hiero-replay"], cwd=copy, capture_output=True).returncode != 0:
        pytest.skip("the virtual environment is older than pyproject.toml; make would reinstall it: run make test")
    return copy


def test_the_try_it_section_works_line_by_line(checkout: Path, tmp_path: Path) -> None:
    commands = section_commands((checkout / "README.md").read_text(encoding="utf-8"))
    outcomes = run_line_by_line(commands, checkout, tmp_path / "logs")
    assert not failures(outcomes), "\n\n".join(failures(outcomes))
    assert any(o.command.expected != 0 for o in outcomes), "the section shows no refusal"
    final = re.search(r"^final HASH\s+([0-9a-f]{96})$", outcomes[-1].stdout, re.MULTILINE)
    assert final, f"the last command printed no final HASH:\n{outcomes[-1].stdout}"


def test_a_broken_section_fails(checkout: Path, tmp_path: Path) -> None:
    """The check itself can fail: a sample folder misspelt, and a command that does not exit the
    way the README says (each run only as far as it needs, after the set-up line)."""

    def upto(commands: list[Command], last: Callable[[Command], bool]) -> list[Command]:
        commands = [c for c in commands if not c.line.startswith("make ")]
        return commands[: next(i for i, c in enumerate(commands) if last(c)) + 1]

    readme = (checkout / "README.md").read_text(encoding="utf-8")
    misspelt = readme.replace("hapi-0.78-CN_11_12_TSS_SCHNORR", "hapi-0.78-CN_11_12_TSS_SCHNOR")
    assert misspelt != readme
    commands = upto(section_commands(misspelt), lambda c: "inspect" in c.line)
    broken = failures(run_line_by_line(commands, checkout, tmp_path / "misspelt"))
    assert len(broken) == 1 and "inspect" in broken[0] and "exited 3" in broken[0]
    wrong_code = re.sub(r"#\s*exits (\d+)", "# exits 99", readme, count=1)
    assert wrong_code != readme
    commands = upto(section_commands(wrong_code), lambda c: c.expected == 99)
    assert failures(run_line_by_line(commands, checkout, tmp_path / "wrong-code"))
