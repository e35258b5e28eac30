"""The deployment recipes in deploy/ are checked, not just written: what they share.

The configuration files (those of deploy/config/ and the Kubernetes ConfigMap's) pass ``hiero-replay
config check``, also shown failing on a copy broken on purpose; the README's deployment section
links every recipe and shows the units and the cron entry as they are. The recipes themselves are
checked in ``test_deploy_host.py`` (systemd, cron) and ``test_deploy_containers.py`` (Kubernetes,
Containerfile).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .deploy_checks import (
    CONFIGS,
    CRON_FILE,
    DEPLOY,
    HIERO_REPLAY,
    REPO,
    SYSTEMD,
    configmap_files,
    unit_files,
)

# --- configuration files -------------------------------------------------------------------------


def _config_check(path: Path) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HIERO_REPLAY_")}
    return subprocess.run([str(HIERO_REPLAY), "config", "check", str(path)], capture_output=True, text=True, env=environment, check=False)


def test_configurations_pass_config_check(tmp_path: Path) -> None:
    paths = sorted(CONFIGS.glob("*.toml")) + configmap_files(tmp_path)
    assert len(paths) == 4
    for path in paths:
        result = _config_check(path)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_config_check_fails_on_a_wrong_key(tmp_path: Path) -> None:
    broken = tmp_path / "scheduler.toml"
    broken.write_text((CONFIGS / "scheduler.toml").read_text().replace("catch_up =", "catchup ="))
    assert _config_check(broken).returncode == 2


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
