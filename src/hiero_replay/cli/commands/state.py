"""``hiero-replay state init``: a rehearsal bootstrap state (metadata only) for tests and demos."""

from __future__ import annotations

import re

import click

_HASH = re.compile(r"[0-9a-fA-F]{96}")
_NOT_HEX = re.compile(r"[^0-9a-fA-F]")
_MAX_LONG = 2**63 - 1


class _RoundCommand(click.Command):
    """A negative ROUND reads like an option to click (``No such option '-1'``): say what it is instead."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser consumes the list it is given
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            negative = next((arg for arg in given if re.fullmatch(r"-\d+", arg) and arg.startswith(error.option_name)), None)
            if negative is None:
                raise
            raise click.BadParameter(f"{negative} is negative: a round is 0 or more.", ctx=ctx, param_hint="'ROUND'") from None


@click.group()
def state() -> None:
    """Saved round directories for rehearsals with the simulators (--simulate)."""


@state.command(cls=_RoundCommand)
@click.argument("round_number", metavar="ROUND", type=click.IntRange(min=0, max=_MAX_LONG))
@click.argument("directory", metavar="DIR", type=click.Path())
@click.option("--hash", "state_hash", required=True, metavar="HEX", help="The state's HASH: 96 hex digits (SHA-384).")
@click.option("--consensus-time", metavar="ISO", help="CONSENSUS_TIMESTAMP, e.g. 2021-04-18T04:23:37.2Z (default: none).")
@click.option("--node-id", type=click.IntRange(min=0, max=_MAX_LONG), default=0, show_default=True, help="NODE_ID and SIGNING_NODES.")
def init(round_number: int, directory: str, state_hash: str, consensus_time: str | None, node_id: int) -> None:
    """A bootstrap state at ROUND with HASH in DIR (metadata only), for --simulate.

    DIR becomes a saved round directory that holds metadata only: stateMetadata.txt in the
    platform's format (ROUND, HASH, CONSENSUS_TIMESTAMP, NODE_ID, ...) and the file names of the
    layout, not a real state. The simulators start from it (for tests, demos and rehearsals of a
    replay); the Java tools cannot. DIR must not exist yet: nothing is ever overwritten.
    """
    from pathlib import Path

    from ...errors import ConfigError
    from ...simulate.state import write_state_directory
    from ...states import REHEARSAL_FILE
    from ...streams.timestamps import parse_consensus_time

    if not _HASH.fullmatch(state_hash):
        wrong = _NOT_HEX.search(state_hash)
        why = f"{wrong.group()!r} is not a hexadecimal digit" if wrong else f"{len(state_hash)} character(s)"
        raise ConfigError(
            f"--hash {state_hash[:100]!r} is not a state hash ({why}): 96 hexadecimal digits expected.",
            hint="A state's HASH is a SHA-384: 96 hex digits (48 bytes).",
        )
    consensus_ns = None
    if consensus_time is not None:
        try:
            consensus_ns = parse_consensus_time(consensus_time)
        except ValueError:
            raise ConfigError(
                f"--consensus-time {consensus_time!r} is not an ISO 8601 UTC instant.",
                hint="Write it as YYYY-MM-DDTHH:MM:SS[.fraction]Z, e.g. 2021-04-18T04:23:37.200170000Z.",
            ) from None
    out = Path(directory)
    if out.exists() or out.is_symlink():
        raise ConfigError(f"{out} already exists; state init never overwrites.", hint="Choose a new directory, or remove it first.")
    try:
        out.mkdir(parents=True)
        (out / REHEARSAL_FILE).write_text(
            "Written by `hiero-replay state init`: metadata only, its HASH given by hand; a rehearsal state for --simulate.\n",
            encoding="utf-8",
        )
        write_state_directory(
            out, round_number=round_number, state_hash=state_hash.lower(), node_id=node_id, consensus_time_ns=consensus_ns
        )
    except OSError as error:
        raise ConfigError(f"Cannot write the state directory {out}: {error.strerror or error}.", file=str(out)) from error
    click.echo(f"wrote {out} (metadata only, for rehearsals with --simulate): ROUND {round_number}, HASH {state_hash.lower()}")
