"""``hiero-replay doctor``: is each configured backend installed, does it start, what does it support?"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..options import load

if TYPE_CHECKING:
    from ...backends.base import ReplayBackend
    from ...backends.capabilities import Capabilities
    from ...errors import ReplayError


@click.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration file ([backends.*] sections).")
@click.option("--simulate", is_flag=True, help="Check the built-in simulators instead of the configured tools.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(config: str | None, simulate: bool, as_json: bool) -> None:
    """Probe every backend's command: does it exist and start, which options does it accept, and what
    a replay will do with that. Exits with the code a run would meet when a backend cannot be used."""
    from ...backends import registry
    from ...backends.probe import run_probe

    settings = load(config, {"simulate": True} if simulate else None)
    backends = registry.create_backends(settings.backends.of, simulate=settings.simulate)
    found: list[dict[str, Any]] = []
    worst: ReplayError | None = None
    with tempfile.TemporaryDirectory(prefix="hiero-replay-doctor-") as folder:
        for name, backend in backends.items():
            capabilities = run_probe(backend.probe_argv(), Path(folder))
            error = _adapt(backend, capabilities)
            worst = worst or error
            found.append(
                {
                    "backend": name,
                    "tool": backend.tool,
                    "command": capabilities.argv,
                    "starts": capabilities.starts,
                    "problem": str(error) if error else capabilities.problem,
                    "options": sorted(capabilities.options),
                    "capabilities": dict(backend.capability_lines()) if capabilities.starts else {},
                }
            )
    click.echo(json.dumps({"backends": found}, indent=2) if as_json else _render(found))
    if worst is not None:
        sys.exit(worst.exit_code)


def _adapt(backend: ReplayBackend, capabilities: Capabilities) -> ReplayError | None:
    """What a run would meet with this backend: ``None`` when it can be used."""
    from ...backends.probe import startup_error
    from ...errors import ReplayError

    try:
        backend.adapt(capabilities)
    except ReplayError as error:
        return error
    return startup_error(backend)


def _render(found: list[dict[str, Any]]) -> str:
    lines = []
    for entry in found:
        lines.append(f"{entry['backend']} ({entry['tool']})")
        lines.append(f"  command  {' '.join(entry['command'])}")
        if entry["starts"] and entry["problem"] is None:
            lines.append(f"  starts   yes ({len(entry['options'])} options: {', '.join(entry['options'])})")
        else:
            lines.append(f"  starts   {'yes' if entry['starts'] else 'NO'}: {entry['problem']}")
        lines += [f"  {capability}  {meaning}" for capability, meaning in entry["capabilities"].items()]
    return "\n".join(lines)
