"""``hiero-replay config``: the JSON Schema of the configuration, and validation of a file."""

from __future__ import annotations

import json

import click

from ..options import load


@click.group()
def config() -> None:
    """Configuration: the JSON Schema, and validation of a file."""


@config.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the configuration."""
    from ...config import settings_schema

    click.echo(json.dumps(settings_schema(), indent=2))


@config.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def config_check(file: str) -> None:
    """Validate FILE (with the environment's overrides) and print the effective configuration."""
    click.echo(json.dumps(load(file).model_dump(mode="json"), indent=2))
