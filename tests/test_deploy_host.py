"""The deployment recipes for one machine in deploy/ are checked, not just written.

systemd units: ``systemd-analyze verify`` (and how systemd resolves the timer's unit), ``security
--offline``, the sysusers file, the user, sandbox and folders the services get. cron: the schedule
through cronsim, cron's % rule, and the command run through /bin/sh. The checks also run on copies
broken on purpose, to show that they can fail.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from cronsim import CronSim

from .deploy_checks import (
    CONFIGS,
    CRON_FILE,
    HIERO_REPLAY,
    INSTALLED_BINARY,
    INTERRUPTED,
    PERSON_MUST_LOOK,
    SYSTEMD,
    cron_problems,
    exit_statuses,
    parse_cron_d,
    security_problems,
    sysusers_users,
    timer_problems,
    tool,
    unit_files,
    unit_settings,
    verify_units,
)


def _systemd_tool(name: str) -> str:
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} not found (Debian package systemd): the systemd recipes are not checked by it")
    return path


@pytest.fixture
def systemd_analyze() -> str:
    return _systemd_tool("systemd-analyze")


def _replace_line(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
    assert count == 1, f"{pattern!r} should match one line of {path.name}"
    path.write_text(text)


# --- systemd -------------------------------------------------------------------------------------


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """A copy of deploy/systemd whose ExecStart command exists here (verify checks that it does):
    this environment's hiero-replay in place of the installed one."""
    assert HIERO_REPLAY.is_file(), f"{HIERO_REPLAY} not found"
    folder = tmp_path / "systemd"
    folder.mkdir()
    for path in unit_files(SYSTEMD):
        if path.suffix == ".service":
            assert INSTALLED_BINARY in path.read_text(), f"{path.name} should run {INSTALLED_BINARY}"
        (folder / path.name).write_text(path.read_text().replace(INSTALLED_BINARY, str(HIERO_REPLAY)))
    return folder


def test_units_pass_systemd_verify(systemd_analyze: str, units: Path) -> None:
    assert verify_units(units, systemd_analyze) == []


def test_timer_starts_the_oneshot_service(systemd_analyze: str, units: Path) -> None:
    assert timer_problems(units, systemd_analyze) == []


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        pytest.param(("^Unit=.*\n", ""), "which is not a unit of", id="timer-Unit-removed"),
        pytest.param(
            ("^Unit=.*$", "Unit=hiero-replay-missing.service"),
            "which is not a unit of",
            id="timer-Unit-missing-service",
        ),
        pytest.param(
            ("^Unit=.*$", "Unit=hiero-replay-scheduler.service"),
            "not Type=oneshot",
            id="timer-Unit-long-running-service",
        ),
    ],
)
def test_timer_check_fails_when_the_pairing_breaks(systemd_analyze: str, units: Path, mutation: tuple[str, str], expected: str) -> None:
    _replace_line(units / "hiero-replay-hourly.timer", *mutation)
    problems = timer_problems(units, systemd_analyze)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("unit", "mutation", "expected"),
    [
        pytest.param(
            "hiero-replay-scheduler.service",
            ("^ProtectSystem=strict$", "ProtectSytem=strict"),
            "Unknown key",
            id="misspelt-key",
        ),
        pytest.param(
            "hiero-replay-scheduler.service",
            ("^Restart=on-failure$", "Restart=on-failures"),
            "on-failures",
            id="bad-value",
        ),
        pytest.param("hiero-replay-hourly.timer", (r"^OnCalendar=.*$", "OnCalendar=every hour"), "calendar", id="bad-calendar"),
        pytest.param(
            "hiero-replay-scheduler.service",
            (r"^ExecStart=\S+", "ExecStart=/nonexistent/hiero-replay"),
            "not executable",
            id="missing-binary",
        ),
    ],
)
def test_verify_fails_on_a_broken_unit(systemd_analyze: str, units: Path, unit: str, mutation: tuple[str, str], expected: str) -> None:
    _replace_line(units / unit, *mutation)
    problems = verify_units(units, systemd_analyze)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("service", ["hiero-replay-run.service", "hiero-replay-scheduler.service"])
def test_services_are_sandboxed(systemd_analyze: str, units: Path, service: str) -> None:
    assert security_problems(units / service, systemd_analyze) == []


def test_security_check_fails_without_the_sandbox(systemd_analyze: str, units: Path) -> None:
    service = units / "hiero-replay-scheduler.service"
    kept = [line for line in service.read_text().splitlines() if not re.match(r"(Protect|Private|Restrict|NoNew|Capability)", line)]
    service.write_text("\n".join(kept) + "\n")
    assert security_problems(service, systemd_analyze) != []


def test_services_run_as_a_dedicated_user_with_a_private_work_dir() -> None:
    for path in unit_files(SYSTEMD):
        if path.suffix != ".service":
            continue
        settings = unit_settings(path)
        assert settings.get("Service.User") == ["hiero-replay"], path.name
        assert settings.get("Service.StateDirectory") == ["hiero-replay"], path.name
        assert settings.get("Service.StateDirectoryMode") == ["0700"], path.name
        assert settings.get("Service.ProtectSystem") == ["strict"], path.name
        assert "--work-dir %S/hiero-replay" in settings["Service.ExecStart"][0], path.name
        assert settings.get("Service.SuccessExitStatus") == [str(INTERRUPTED)], f"{path.name}: a stop (exit 8) is no failure"


def test_scheduler_restarts_only_what_retrying_can_fix() -> None:
    settings = unit_settings(SYSTEMD / "hiero-replay-scheduler.service")
    assert settings["Service.Restart"] == ["on-failure"]
    assert exit_statuses(settings["Service.RestartPreventExitStatus"]) == PERSON_MUST_LOOK


def test_sysusers_file_creates_the_units_user(tmp_path: Path) -> None:
    sysusers = _systemd_tool("systemd-sysusers")
    users, problems = sysusers_users(SYSTEMD / "hiero-replay.sysusers", sysusers, tmp_path / "root")
    assert problems == []
    service_users = {unit_settings(path)["Service.User"][0] for path in unit_files(SYSTEMD) if path.suffix == ".service"}
    assert service_users <= users


def _config(name: str) -> dict[str, Any]:
    return tomllib.loads((CONFIGS / name).read_text())


def _writable(path: str, settings: dict[str, list[str]]) -> bool:
    allowed = [PurePosixPath(word) for value in settings.get("Service.ReadWritePaths", []) for word in value.split()]
    return any(PurePosixPath(path).is_relative_to(folder) for folder in allowed)


def test_outputs_and_configs_are_where_the_units_look() -> None:
    run = unit_settings(SYSTEMD / "hiero-replay-run.service")
    out = re.search(r"--out (\S+?)/\$\$", run["Service.ExecStart"][0])
    assert out and _writable(out[1], run), "the one-shot's --out folder must be in ReadWritePaths="
    scheduler = unit_settings(SYSTEMD / "hiero-replay-scheduler.service")
    assert _writable(_config("scheduler.toml")["replay"]["out"], scheduler), "scheduler.toml's replay.out must be in ReadWritePaths="
    for path in unit_files(SYSTEMD):
        for config in re.findall(r"--config /etc/hiero-replay/(\S+)", path.read_text()):
            assert (CONFIGS / config).is_file(), f"{path.name} reads {config}, which deploy/config/ does not have"


# --- cron ----------------------------------------------------------------------------------------


def test_cron_entry_is_well_formed() -> None:
    assert cron_problems(CRON_FILE.read_text()) == []


def test_cron_schedule_fires_at_five_past_every_hour() -> None:
    _, (entry,) = parse_cron_d(CRON_FILE.read_text())
    fires = CronSim(entry.schedule, datetime(2026, 1, 1, tzinfo=UTC))
    assert [next(fires), next(fires)] == [datetime(2026, 1, 1, hour, 5, tzinfo=UTC) for hour in (0, 1)]
    assert entry.user == "hiero-replay"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(r"+\%Y", "+%Y", "bare %", id="unescaped-percent"),
        pytest.param("5 * * * * ", "5 * * * 8 ", "schedule", id="bad-weekday"),
    ],
)
def test_cron_check_fails_on_a_broken_entry(old: str, new: str, expected: str) -> None:
    text = CRON_FILE.read_text()
    assert old in text
    problems = cron_problems(text.replace(old, new))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("exit_code", [0, 5, 9])
def test_cron_command_runs_and_mails_only_failures(tmp_path: Path, exit_code: int) -> None:
    """The entry's command, as cron hands it to /bin/sh, with a stand-in hiero-replay on the cron PATH."""
    environment, (entry,) = parse_cron_d(CRON_FILE.read_text())
    bin_dir, logs = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    logs.mkdir()
    stand_in = bin_dir / "hiero-replay"
    stand_in.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\necho "a log line"\nexit "$EXIT_CODE"\n')
    stand_in.chmod(0o755)
    command = entry.command.replace("/var/log/hiero-replay", str(logs))
    path = environment["PATH"].replace(str(PurePosixPath(INSTALLED_BINARY).parent), str(bin_dir))
    run_env = {"PATH": path, "ARGS_FILE": str(tmp_path / "args"), "EXIT_CODE": str(exit_code), "HOME": str(tmp_path)}
    result = subprocess.run([environment["SHELL"], "-c", command], capture_output=True, text=True, env=run_env, check=False)
    arguments = (tmp_path / "args").read_text().splitlines()
    assert arguments[:-1] == [
        "run", "--config", "/etc/hiero-replay/hourly.toml", "--work-dir", "/var/lib/hiero-replay",
        "--log-format", "json", "--out",
    ]  # fmt: skip
    assert re.fullmatch(r"/data/replayed/\d{8}T\d{4}", arguments[-1]), arguments[-1]
    assert (logs / "hourly.log").read_text() == "a log line\n"
    mail = result.stdout + result.stderr
    if exit_code == 0:
        assert mail == ""
    else:
        assert f"hiero-replay run failed with exit {exit_code};" in mail
