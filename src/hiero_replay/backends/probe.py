"""The capability probe: does a backend's command exist and start, and which options does it accept?

The tool is asked for its usage (a command line it must reject, so picocli prints every option,
``reference/hiero-tools.md`` §1.1) and the long option names are read from what it prints. Results
are cached in the work directory, keyed by the command and the modification times of the files it
names (the launcher, the jar), so a run probes a tool once, and again only when it changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BackendError, ReplayError
from ..safe_files import read_regular_file, write_atomically
from .base import ReplayBackend
from .capabilities import Capabilities

PROBE_TIMEOUT_SECONDS = 60.0
#: The work directory's cache of probes, by command and the modification times of its files.
PROBES_FILE = "probes.json"
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
_USAGE = re.compile(r"\busage\b", re.IGNORECASE)
_TAIL = 8


def run_probe(argv: list[str], cwd: Path, timeout: float = PROBE_TIMEOUT_SECONDS) -> Capabilities:
    """Run ``argv`` (a command line the tool rejects with its usage) in ``cwd`` and read its options."""
    try:
        result = subprocess.run(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=timeout, check=False
        )
    except FileNotFoundError:
        return Capabilities(tuple(argv), frozenset(), f"{argv[0]} was not found")
    except PermissionError:
        return Capabilities(tuple(argv), frozenset(), f"{argv[0]} is not executable")
    except subprocess.TimeoutExpired:
        return Capabilities(tuple(argv), frozenset(), f"it did not answer within {timeout:g} s")
    output = result.stdout + result.stderr
    if not _USAGE.search(output):
        tail = tuple(line.rstrip() for line in output.strip().splitlines()[-_TAIL:])
        shown = " | ".join(line.strip() for line in tail) or "no output"
        return Capabilities(tuple(argv), frozenset(), f"it printed no usage (exit {result.returncode}): {shown}", result.returncode, tail)
    return Capabilities(tuple(argv), frozenset(_OPTION.findall(output)))


def _cache_key(argv: list[str]) -> str:
    """The command and the modification time of every file it names (``java`` on the PATH, the jar)."""
    stamps = []
    for token in argv:
        found = shutil.which(token) if os.sep not in token else token
        path = Path(found) if found else Path(token)
        try:
            stamps.append(path.stat().st_mtime_ns if path.is_file() else None)
        except OSError:
            stamps.append(None)
    return json.dumps([argv, stamps])


def read_probes(work_dir: Path) -> dict[str, Any]:
    """The work directory's cached probes, by command; a file that is not what this tool writes
    (damaged, nested too deep, a link, a FIFO) holds none, and is written anew after the next probe."""
    try:
        known = json.loads(read_regular_file(work_dir / PROBES_FILE))
    except (OSError, ValueError, RecursionError):
        return {}
    return known if isinstance(known, dict) else {}


def probe(backend: ReplayBackend, work_dir: Path) -> Capabilities:
    """The backend's capabilities, from the work directory's cache or a fresh probe. Without a work
    directory yet (``plan`` before any run), the probe runs in a private temporary folder and is not kept."""
    argv = backend.probe_argv()
    timeout = min(PROBE_TIMEOUT_SECONDS, backend.timeout or PROBE_TIMEOUT_SECONDS)
    if not work_dir.is_dir():
        with tempfile.TemporaryDirectory(prefix="hiero-replay-probe-") as folder:
            return run_probe(argv, Path(folder), timeout)
    known = read_probes(work_dir)
    key = _cache_key(argv)
    if key in known:
        try:
            return Capabilities.from_json(known[key])
        except (KeyError, TypeError):
            pass  # a damaged entry: probe again
    (work_dir / "probe").mkdir(exist_ok=True)
    found = run_probe(argv, work_dir / "probe", timeout)
    if found.starts:  # a tool that did not start is probed again next time
        known[key] = found.to_json()
        write_atomically(work_dir / PROBES_FILE, json.dumps(known, indent=1))
    return found


def startup_error(backend: ReplayBackend) -> ReplayError | None:
    """Why a probed backend cannot be used, as the error a run would meet: in the words of its
    failure table where it knows them (no jars, say), else "cannot start". ``None`` when it can."""
    capabilities = backend.capabilities
    if capabilities is None or capabilities.starts:
        return None
    if capabilities.exit_code is not None:
        known = backend.failure(capabilities.exit_code, capabilities.tail)
        if not isinstance(known, BackendError):
            return known
    key = f"backends.{backend.name.replace('-', '_')}"
    return BackendError(
        f"Cannot start {backend.tool} ({' '.join(capabilities.argv)}): {capabilities.problem}.",
        hint=f"Set {key}.command (and {key}.args) to the installed tool, check it with `hiero-replay doctor`, or pass --simulate for a rehearsal.",
    )
