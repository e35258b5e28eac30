"""``hiero-replay plan``: what a run would do, nothing run."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from ..options import replay_options

if TYPE_CHECKING:
    from ...config import Settings


@click.command()
@replay_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(settings: Settings, as_json: bool) -> None:
    """Show what a run would do (backends, cutover, segments, files, command lines); run nothing."""
    from ...plan import load_plan_inputs, make_plan
    from ..render import render_plan

    replay_plan = make_plan(load_plan_inputs(settings))
    click.echo(json.dumps(replay_plan.to_json(), indent=2) if as_json else render_plan(replay_plan))
