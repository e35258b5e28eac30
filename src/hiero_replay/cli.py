"""The ``hiero-replay`` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .errors import ReplayError
from .inventory import Inventory, scan_source
from .sources import open_source


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hiero-replay")
def cli() -> None:
    """Replay historical Hiero/Hedera stream data into a consensus-node state."""


@cli.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary table.")
@click.option("--from-round", type=click.IntRange(min=0), help="First round of interest.")
@click.option("--to-round", type=click.IntRange(min=0), help="Last round of interest.")
def inspect(path: str, as_json: bool, from_round: int | None, to_round: int | None) -> None:
    """Order and verify the stream files under PATH; exit 0 only when complete and verified."""
    inventory = scan_source(open_source(path), from_round=from_round, to_round=to_round)
    if as_json:
        click.echo(json.dumps(inventory.to_json(), indent=2))
    else:
        click.echo(render_inventory(inventory))
    error = inventory.first_error()
    if error is not None:
        sys.exit(error.exit_code)


def render_inventory(inventory: Inventory) -> str:
    summary = inventory.to_json()
    rows: list[tuple[str, Any]] = [
        ("source", summary["source"]),
        ("kind", summary["kind"]),
        ("files", f"{summary['files']} ({summary['event_files']} event, {summary['block_files']} block)"),
    ]
    if summary["block_files"]:
        rows.append(("blocks", f"{summary['first_block']} .. {summary['last_block']}"))
        rows.append(("HAPI versions", ", ".join(summary["hapi_versions"])))
    rows += [
        ("rounds", f"{summary['first_round']} .. {summary['last_round']}"),
        ("consensus time", f"{summary['first_consensus_time']} .. {summary['last_consensus_time']}"),
        ("hash chain", f"{summary['hash_chain']} ({summary['verified_links']} checks passed)"),
        ("gaps", len(summary["gaps"])),
        ("problems", len(summary["problems"])),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    for problem in inventory.problems:
        lines.append(f"  [{problem.kind}] {problem.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="hiero-replay", standalone_mode=False)
    except ReplayError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(8)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
