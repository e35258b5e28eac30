"""``hiero-replay inspect``: order and verify the stream files under a folder or bucket prefix."""

from __future__ import annotations

import json
import sys

import click

from ..options import load


@click.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary table.")
@click.option("--from-round", type=click.IntRange(min=0), help="First round of interest.")
@click.option("--to-round", type=click.IntRange(min=0), help="Last round of interest.")
@click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration ([buckets] options for bucket URLs).")
def inspect(path: str, as_json: bool, from_round: int | None, to_round: int | None, config: str | None) -> None:
    """Order and verify the stream files under PATH (a folder, gs:// or s3:// URL); exit 0 only when
    complete and verified."""
    from ...inventory import open_stream_source, read_workers, scan_source
    from ...logs import configure_logging
    from ..render import render_inventory

    configure_logging()  # warnings and retries on stderr: stdout is the report (or its JSON)
    settings = load(config)
    source = open_stream_source(path, settings)
    inventory = scan_source(source, from_round=from_round, to_round=to_round, workers=read_workers(source, settings))
    click.echo(json.dumps(inventory.to_json(), indent=2) if as_json else render_inventory(inventory))
    error = inventory.first_error()
    if error is not None:
        sys.exit(error.exit_code)
