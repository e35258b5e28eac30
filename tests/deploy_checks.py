"""Checks of the deployment recipes in deploy/: each returns the problems it finds (empty when the
recipe is right), so a test can run it on the recipe as shipped and on a copy broken on purpose."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from cronsim import CronSim, CronSimError

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
CRON_FILE = DEPLOY / "cron" / "hiero-replay"
KUBERNETES = DEPLOY / "kubernetes"
CONTAINERFILE = DEPLOY / "Containerfile"
CONFIGS = DEPLOY / "config"

INSTALLED_BINARY = "/opt/hiero-replay/bin/hiero-replay"  # where the recipes expect the command
HIERO_REPLAY = Path(sys.executable).parent / "hiero-replay"  # the command of this environment, which the tests run
KUBERNETES_VERSION = "1.33.0"

# README, "Exit codes": what a person must look at, and the interruption (SIGTERM, node drain).
PERSON_MUST_LOOK = frozenset({2, 3, 4, 5, 10, 70})
INTERRUPTED = 8


def tool(name: str) -> str | None:
    """An executable from this environment's bin folder (the test extra installs some), else PATH."""
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def _run(argv: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **options)


def _output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


# --- systemd -------------------------------------------------------------------------------------


def unit_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.suffix in {".service", ".timer"})


def unit_settings(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> its values in order, as systemd reads a unit file (no continuation lines)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return settings


def exit_statuses(values: list[str]) -> set[int]:
    return {int(word) for value in values for word in value.split()}


def verify_units(folder: Path, systemd_analyze: str) -> list[str]:
    """``systemd-analyze verify`` of every unit in ``folder``: any line it prints is a problem, so
    unknown keys and bad values fail too (they are only warnings to systemd)."""
    result = _run([systemd_analyze, "verify", "--man=no", *map(str, unit_files(folder))], cwd=folder)
    problems = _output_lines(result)
    if result.returncode != 0 and not problems:
        problems.append(f"systemd-analyze verify exited {result.returncode}")
    return problems


_DUMP_UNIT = re.compile(r"^\t-> Unit (?P<name>\S+):$")
_DUMP_FIELD = re.compile(r"^\t\t(?P<key>[^:]+): (?P<value>.*)$")


def unit_dumps(folder: Path, systemd_analyze: str) -> dict[str, dict[str, list[str]]]:
    """How systemd itself loaded each unit of ``folder``: the unit dumps ``verify`` logs at debug level
    (``Triggers:``, ``Unit Load State:``, ``Fragment Path:``, ``Type:`` ...)."""
    environment = {**os.environ, "SYSTEMD_LOG_LEVEL": "debug"}
    result = _run([systemd_analyze, "verify", "--man=no", *map(str, unit_files(folder))], cwd=folder, env=environment)
    dumps: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in (result.stdout + result.stderr).splitlines():
        unit, field = _DUMP_UNIT.match(line), _DUMP_FIELD.match(line)
        if unit:
            current = dumps.setdefault(unit["name"], {})
        elif field and current is not None:
            current.setdefault(field["key"], []).append(field["value"])
        else:
            current = None
    return dumps


def timer_problems(folder: Path, systemd_analyze: str) -> list[str]:
    """Every timer of ``folder`` starts exactly one unit, and that unit is a one-shot service of the
    same folder, as systemd resolves it (``Unit=``, else the service of the timer's own name)."""
    dumps = unit_dumps(folder, systemd_analyze)
    timers = [path.name for path in unit_files(folder) if path.suffix == ".timer"]
    if not timers:
        return [f"no timer in {folder}"]
    problems = []
    for timer in timers:
        if timer not in dumps:
            problems.append(f"systemd-analyze showed no dump of {timer}")
            continue
        triggered = [value.split(" (")[0] for value in dumps[timer].get("Triggers", [])]
        if len(triggered) != 1:
            problems.append(f"{timer} starts {triggered or 'nothing'}, not one service")
        for name in triggered:
            target = dumps.get(name, {})
            if target.get("Unit Load State") != ["loaded"] or target.get("Fragment Path") != [str(folder / name)]:
                problems.append(f"{timer} starts {name}, which is not a unit of {folder}")
            elif target.get("Type") != ["oneshot"]:
                problems.append(f"{timer} starts {name}, which is {target.get('Type')}, not Type=oneshot")
    return problems


def security_problems(path: Path, systemd_analyze: str, threshold: int = 20) -> list[str]:
    """``systemd-analyze security --offline``: the service's exposure level is at most ``threshold``/10."""
    result = _run(
        [systemd_analyze, "security", "--offline=yes", "--no-pager", f"--threshold={threshold}", str(path)],
        cwd=path.parent,
    )
    if result.returncode == 0:
        return []
    summary = [line for line in _output_lines(result) if "exposure level" in line or "Failed" in line]
    return [f"{path.name}: {line.strip()}" for line in summary] or [f"{path.name}: systemd-analyze security exited {result.returncode}"]


def sysusers_users(path: Path, systemd_sysusers: str, root: Path) -> tuple[set[str], list[str]]:
    """The users a sysusers.d file creates (``--dry-run`` into an empty root), and its problems."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    result = _run([systemd_sysusers, "--dry-run", f"--root={root}", str(path)])
    lines = _output_lines(result)
    users = {match[1] for line in lines if (match := re.match(r"Creating user '([^']+)'", line))}
    problems = [line for line in lines if re.search(r"(?i)error|unknown|invalid|failed", line)]
    if result.returncode != 0 and not problems:
        problems.append(f"systemd-sysusers exited {result.returncode}")
    return users, problems


# --- cron ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CronEntry:
    schedule: str
    user: str
    command: str  # as the shell receives it: \% unescaped, cut at the first bare %
    stdin: str  # what cron feeds the command: the text after the first bare %


def split_percent(text: str) -> tuple[str, str]:
    """cron's rule for a command: ``\\%`` is a literal %; the first bare % ends the command and the rest
    is its standard input (further bare % become newlines)."""
    command: list[str] = []
    escaped = False
    for index, char in enumerate(text):
        if escaped and char == "%":
            command[-1] = "%"
        else:
            command.append(char)
            if not escaped and char == "%":
                command.pop()
                return "".join(command), text[index + 1 :].replace("%", "\n")
        escaped = char == "\\" and not escaped
    return "".join(command), ""


def parse_cron_d(text: str) -> tuple[dict[str, str], list[CronEntry]]:
    """An /etc/cron.d file: its environment lines and its entries (five fields, user, command)."""
    environment: dict[str, str] = {}
    entries = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            name, _, value = line.partition("=")
            environment[name.strip()] = value.strip()
            continue
        fields = line.split(maxsplit=6)
        command, stdin = split_percent(fields[6] if len(fields) == 7 else "")
        entries.append(CronEntry(" ".join(fields[:5]), fields[5] if len(fields) > 5 else "", command, stdin))
    return environment, entries


def cron_problems(text: str) -> list[str]:
    """Each entry has a schedule cronsim reads, a user, a command, and no bare % cutting it short."""
    _, entries = parse_cron_d(text)
    if not entries:
        return ["no cron entry"]
    problems = []
    for entry in entries:
        try:
            CronSim(entry.schedule, datetime(2026, 1, 1))
        except CronSimError as error:
            problems.append(f"schedule {entry.schedule!r}: {error}")
        if not entry.command:
            problems.append(f"entry {entry.schedule!r} has no user and command")
        if entry.stdin:
            problems.append(f"a bare % cuts the command short at {entry.command[-20:]!r}: write \\%")
    return problems


# --- Kubernetes ----------------------------------------------------------------------------------


def manifests(folder: Path = KUBERNETES) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def resources(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def configmap_files(folder: Path) -> list[Path]:
    """The files of the ConfigMap, written into ``folder`` (as the pods see them mounted)."""
    (configmap,) = resources(KUBERNETES / "configmap.yaml")
    paths = []
    for key, text in configmap["data"].items():
        paths.append(folder / key)
        paths[-1].write_text(text)
    return paths


def validate_manifest(path: Path, kubernetes_validate: str) -> list[str]:
    """``kubernetes-validate --strict`` against ``KUBERNETES_VERSION``: every resource must pass; a
    resource whose schema it cannot find (a wrong apiVersion or kind) is a problem, not a warning."""
    result = _run([kubernetes_validate, "--strict", "-k", KUBERNETES_VERSION, str(path)])
    lines = _output_lines(result)
    problems = [line for line in lines if not (line.startswith("INFO") and " passed " in line)]
    if len(lines) - len(problems) != len(resources(path)):
        problems.append(f"{len(lines) - len(problems)} of {len(resources(path))} resources passed")
    if result.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {result.returncode}")
    return problems


_CREDENTIAL = re.compile(r"(?i)\b(aws_secret_access_key|aws_session_token|private_key|password)\b\s*[:=]")


def secret_problems(texts: list[str]) -> list[str]:
    """No Secret resource and no credential written in the manifests: they come from elsewhere."""
    documents = [document for text in texts for document in yaml.safe_load_all(text) if document]
    problems = [f"a {document['kind']} in the manifests" for document in documents if document["kind"] == "Secret"]
    return problems + [f"a credential: {match[0]}" for text in texts for match in _CREDENTIAL.finditer(text)]


# --- Containerfile -------------------------------------------------------------------------------


def lint_containerfile(path: Path, hadolint: str) -> list[str]:
    """hadolint with its default rules; any finding, whatever its level, is a problem."""
    result = _run([hadolint, "--no-color", str(path)])
    problems = _output_lines(result)
    if result.returncode != 0 and not problems:
        problems.append(f"hadolint exited {result.returncode}")
    return problems


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    result = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form instruction (``["hiero-replay", "status"]``)."""
    return list(yaml.safe_load(arguments))
