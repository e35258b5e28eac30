"""``--emit kubernetes``: the history as a ``batch/v1`` Indexed Job (or, with ``--schedule``, a
CronJob of one), one pod per job, whose ``podFailurePolicy`` reads our exit codes.

Each pod runs ``hiero-replay verify-history <the same selection> --job-index=$(JOB_COMPLETION_INDEX)
--results=LOCATION``; ``hiero-replay verify-history --collect LOCATION`` gathers the results. The pods
use the ``hiero-replay`` ServiceAccount (workload identity) and the optional Secret
``hiero-replay-credentials`` of ``deploy/kubernetes``, and hold no credential themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

CONTAINER = "verify"
#: Exit codes a retry cannot fix (configuration, missing input, gap, mismatch, run store, internal error): the index fails.
FAIL_INDEX = [2, 3, 4, 5, 10, 70]
#: Transient (backend, source): the pod is retried, up to backoffLimitPerIndex times.
RETRIED = [6, 7]
#: Interrupted (SIGTERM on a node drain): retried without counting.
IGNORED = [8]
LABELS = {"app.kubernetes.io/name": "hiero-replay", "app.kubernetes.io/component": "verify-history"}


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim mounted in every pod."""

    name: str
    path: str
    read_only: bool = True

    @classmethod
    def parse(cls, text: str) -> Claim:
        """``NAME=PATH`` (read-only) or ``NAME=PATH:rw``."""
        name, _, rest = text.partition("=")
        path, _, mode = rest.partition(":")
        if not name or not path.startswith("/") or mode not in ("", "ro", "rw"):
            raise ValueError(f"{text!r} is not NAME=/PATH[:ro|:rw]")
        return cls(name, path, mode != "rw")


@dataclass(frozen=True)
class IndexedJob:
    name: str
    image: str
    #: ``verify-history`` arguments shared by every pod (the sources, the states, the selection).
    args: list[str]
    completions: int
    parallelism: int
    backoff_limit_per_index: int
    results: str
    claims: list[Claim] = field(default_factory=list)
    #: A ConfigMap holding the ``--config`` file, mounted at ``/config``.
    config_map: str | None = None
    schedule: str | None = None


def _pod_spec(job: IndexedJob) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [{"name": "work", "mountPath": "/work"}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "work", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    for number, claim in enumerate(job.claims):
        mounts.append({"name": f"claim-{number}", "mountPath": claim.path, "readOnly": claim.read_only})
        volumes.append({"name": f"claim-{number}", "persistentVolumeClaim": {"claimName": claim.name, "readOnly": claim.read_only}})
    if job.config_map is not None:
        mounts.append({"name": "config", "mountPath": "/config", "readOnly": True})
        volumes.append({"name": "config", "configMap": {"name": job.config_map}})
    args = [
        "verify-history",
        *job.args,
        "--job-index=$(JOB_COMPLETION_INDEX)",
        f"--results={job.results}",
        "--work-dir=/work",
        "--log-format=json",
    ]
    container = {
        "name": CONTAINER,
        "image": job.image,
        "args": args,
        "env": [
            {
                "name": "JOB_COMPLETION_INDEX",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}},
            }
        ],
        "envFrom": [{"secretRef": {"name": "hiero-replay-credentials", "optional": True}}],
        "resources": {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"memory": "16Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": mounts,
    }
    return {
        "restartPolicy": "Never",
        "serviceAccountName": "hiero-replay",
        "terminationGracePeriodSeconds": 60,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }


def _job_spec(job: IndexedJob) -> dict[str, Any]:
    def on_exit(action: str, codes: list[int]) -> dict[str, Any]:
        return {"action": action, "onExitCodes": {"containerName": CONTAINER, "operator": "In", "values": sorted(codes)}}

    return {
        "completionMode": "Indexed",
        "completions": job.completions,
        "parallelism": max(1, min(job.parallelism, job.completions)),
        "backoffLimitPerIndex": job.backoff_limit_per_index,
        "podFailurePolicy": {
            "rules": [
                on_exit("FailIndex", FAIL_INDEX),
                on_exit("Count", RETRIED),
                on_exit("Ignore", IGNORED),
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            ]
        },
        "template": {"metadata": {"labels": dict(LABELS)}, "spec": _pod_spec(job)},
    }


def manifest(job: IndexedJob) -> dict[str, Any]:
    metadata = {"name": job.name, "labels": dict(LABELS)}
    if job.schedule is None:
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": _job_spec(job)}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": {
            "schedule": job.schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 1800,
            "jobTemplate": {"metadata": {"labels": dict(LABELS)}, "spec": _job_spec(job)},
        },
    }


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    return json.dumps(str(value))  # a JSON string is a YAML double-quoted scalar


def _simple(value: Any) -> bool:
    return not isinstance(value, dict | list) or not value


def _lines(value: Any, indent: int) -> Iterator[str]:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if _PLAIN_KEY.match(key) else json.dumps(key)
            if _simple(item):
                yield f"{pad}{name}: {_scalar(item)}"
            else:
                yield f"{pad}{name}:"
                yield from _lines(item, indent + 2)
    else:
        for item in value:
            if _simple(item):
                yield f"{pad}- {_scalar(item)}"
            else:
                nested = list(_lines(item, indent + 2))
                yield f"{pad}- {nested[0][indent + 2 :]}"
                yield from nested[1:]


def to_yaml(document: dict[str, Any], comment: str = "") -> str:
    """Block-style YAML (every string double-quoted): what ``kubectl apply -f`` reads."""
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    return header + "\n".join(_lines(document, 0)) + "\n"
