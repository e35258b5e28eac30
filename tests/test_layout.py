"""The house rules, checked: imports flow one way, modules stay small, ``--help`` starts light."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "src" / "hiero_replay"
#: Loaded only when a command runs: never by ``--help``.
HEAVY = ("pydantic", "obstore", "google.protobuf", "rich", "prometheus_client", "zstandard")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The project modules ``path`` imports (relative or absolute, at any depth in the file)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("hiero_replay"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("hiero_replay"))
    return found


def test_no_import_cycle() -> None:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: {target for target in _imports(path) if target in files and target != name} for name, path in files.items()}
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    for name in graph:
        graph[name] = {target for target in graph[name] if not name.startswith(target + ".")}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_no_module_over_400_lines() -> None:
    long = {str(path.relative_to(REPO)): n for path in PACKAGE.rglob("*.py") if (n := len(path.read_text().splitlines())) > 400}
    assert not long


def test_help_imports_only_click_and_the_command_table() -> None:
    probe = (
        "import sys\n"
        "from hiero_replay.cli import main\n"
        "for argv in (['--help'], ['run', '--help'], ['inspect', '--help'], ['status', '--help'], ['state', 'init', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted({h.split('.')[0] for h in HEAVY})!r}))\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "Usage:" in shown
    loaded = shown.strip().splitlines()[-1]
    assert loaded == "[]", f"--help imported {loaded}"
