"""What a run pays for besides its backends, counted rather than timed: the interpreter's teardown,
the metrics library, prefetch threads for files already on this machine, path resolution."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from hiero_replay.errors import SourceError
from hiero_replay.run.prefetch import Prefetcher
from hiero_replay.sources.local import LocalDirSource

#: Stands in for ``main``: registers an exit handler, writes buffered output and leaves with argv[1].
ENDING = textwrap.dedent(
    """
    import atexit, sys
    import hiero_replay.cli as cli

    class Noticed:
        def __del__(self):
            sys.stderr.write("torn down\\n")

    kept = Noticed()

    def main(argv=None):
        atexit.register(lambda: sys.stderr.write("exit handler ran\\n"))
        sys.stdout.write("written before the end")
        if sys.argv[1] != "returns":
            sys.exit(int(sys.argv[1]))

    cli.main = main
    cli.command() if sys.argv[2] == "command" else main()
    """
)


def _end(how: str, entry: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}  # stdout stays buffered
    return subprocess.run([sys.executable, "-c", ENDING, how, entry], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(("how", "code"), [("returns", 0), ("0", 0), ("5", 5)])
def test_the_command_ends_without_tearing_the_interpreter_down(how: str, code: int) -> None:
    ended = _end(how, "command")
    assert ended.returncode == code
    assert ended.stdout == "written before the end"  # flushed
    assert "exit handler ran" in ended.stderr  # handlers registered while it ran still run
    assert "torn down" not in ended.stderr, ended.stderr


def test_exit_handlers_left_before_the_command_started_still_run() -> None:
    """A sitecustomize or coverage may register exit handlers before the command starts: then the
    interpreter ends as usual, so that they run."""
    early = "import atexit, sys\natexit.register(lambda: sys.stderr.write('early handler ran\\n'))\n"
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    ended = subprocess.run([sys.executable, "-c", early + ENDING, "5", "command"], capture_output=True, text=True, env=env, timeout=60)
    assert ended.returncode == 5 and ended.stdout == "written before the end"
    assert "early handler ran" in ended.stderr and "torn down" in ended.stderr


@pytest.mark.parametrize(("closed", "argv", "code"), [(">&-", "--version", 0), ("2>&-", "status --work-dir /nonexistent", 3)])
def test_a_command_started_with_stdout_or_stderr_closed_keeps_its_exit_code(closed: str, argv: str, code: int) -> None:
    # The exit code comes back on descriptor 3; the command's stderr (when open) is captured.
    shell = f"exec 3>&1; {sys.executable} -m hiero_replay {argv} {closed}; echo $? >&3"
    ended = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60)
    assert ended.stdout.strip().splitlines()[-1] == str(code)
    assert "Exception ignored" not in ended.stderr and "Traceback" not in ended.stderr, ended.stderr


def test_without_the_command_the_interpreter_is_torn_down_as_usual() -> None:
    """The check above can fail: the same script ending through ``main`` alone is torn down."""
    ended = _end("5", "main")
    assert ended.returncode == 5 and ended.stdout == "written before the end"
    assert "torn down" in ended.stderr


LOADED_METRICS = textwrap.dedent(
    """
    import sys
    from hiero_replay.cli.session import observers
    from hiero_replay.config import load_settings

    overrides = {"work_dir": sys.argv[1]}
    if len(sys.argv) > 2:
        overrides["metrics"] = {"textfile": sys.argv[2]}
    observer, metrics = observers(load_settings(None, overrides))
    print(sorted(type(each).__name__ for each in observer.observers), "prometheus_client" in sys.modules, "rich" in sys.modules)
    """
)


def test_metrics_are_kept_only_when_they_go_somewhere_and_rich_only_for_a_terminal(tmp_path: Path) -> None:
    def observed(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", LOADED_METRICS, str(tmp_path / "work"), *args], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    # Not a terminal either: no progress bar, so rich is not loaded.
    assert observed() == "['ProgressDisplay', 'StatusFile'] False False"
    assert observed(str(tmp_path / "metrics.prom")) == "['ProgressDisplay', 'ReplayMetrics', 'StatusFile'] True False"


class CountingFolder(LocalDirSource):
    def __init__(self, root: Path, *, local: bool) -> None:
        super().__init__(root)
        self.features = replace(LocalDirSource.features, local=local)
        self.fetched: list[str] = []

    def fetch(self, key: str) -> Path:
        self.fetched.append(key)
        return super().fetch(key)


@pytest.mark.parametrize(("local", "fetches"), [(True, 0), (False, 3)])
def test_only_sources_off_this_machine_are_fetched_ahead(tmp_path: Path, local: bool, fetches: int) -> None:
    keys = ["a.blk.gz", "b.blk.gz", "c.blk.gz"]
    for key in keys:
        (tmp_path / key).write_bytes(b"x")
    source = CountingFolder(tmp_path, local=local)
    prefetcher = Prefetcher({"folder": source}, workers=2)
    segment = SimpleNamespace(source="folder", files=keys)
    try:
        prefetcher.ahead(segment)  # type: ignore[arg-type]
        prefetcher.ready(segment)  # type: ignore[arg-type]
    finally:
        prefetcher.close()
    assert len(source.fetched) == fetches


def test_fetching_a_file_of_the_folder_takes_one_lstat_and_follows_no_link_out_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, outside = tmp_path / "folder", tmp_path / "outside"
    folder.mkdir()
    outside.write_bytes(b"secret")
    (folder / "plain.blk.gz").write_bytes(b"x")
    (folder / "inside.blk.gz").symlink_to(folder / "plain.blk.gz")
    (folder / "out.blk.gz").symlink_to(outside)
    source, real = LocalDirSource(folder), folder.resolve()
    resolved: list[Path] = []
    resolve = Path.resolve

    def recording_resolve(path: Path, strict: bool = False) -> Path:
        resolved.append(path)
        return resolve(path, strict=strict)

    monkeypatch.setattr(Path, "resolve", recording_resolve)
    assert source.fetch("plain.blk.gz") == real / "plain.blk.gz"
    assert resolved == [folder]  # the folder, once; the file itself by one lstat
    assert source.fetch("inside.blk.gz") == folder.resolve() / "plain.blk.gz"
    with pytest.raises(SourceError, match="no longer a regular file inside"):
        source.fetch("out.blk.gz")
