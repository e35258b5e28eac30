"""``hiero-replay demo``: a synthetic history replayed across the cutover with the simulators."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import click

from ..options import LogFormat, load
from ..session import observers

DEMO_MARKER = ".hiero-replay-demo"


@click.command()
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False), help="Folder for the demo (default: demo/ in the default work directory)."
)
@click.option("--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True)
def demo(directory: str | None, log_format: str) -> None:
    """Write a synthetic history and replay it across the event->block cutover with the simulators."""
    from ...config import DEFAULT_WORK_DIR
    from ...errors import ConfigError
    from ...logs import configure_logging
    from ...run import run_replay
    from ...run.interrupts import handling_interruptions, resume_hint
    from ...simulate.history import write_history
    from ..render import render_result

    root = Path(directory) if directory is not None else DEFAULT_WORK_DIR / "demo"
    if root.exists():
        if not (root / DEMO_MARKER).exists():
            raise ConfigError(f"{root} exists and is not a demo folder; refusing to replace it.", hint="Pass another --dir.")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / DEMO_MARKER).touch()
    history = write_history(root / "history")
    click.echo(f"synthetic history in {history.root}:")
    click.echo(f"  events  {history.events_dir} (rounds 1..{history.cutover_round + 20})")
    click.echo(f"  blocks  {history.blocks_dir} (rounds {history.cutover_round}..{history.target_round + 10})")
    click.echo(f"  bootstrap state round {history.bootstrap_round}, reference state round {history.target_round}")
    configure_logging(cast(LogFormat, log_format))
    settings = load(
        None,
        {
            "source": {"events": str(history.events_dir), "blocks": str(history.blocks_dir)},
            "replay": {
                "mode": "auto",
                "bootstrap_state": str(history.bootstrap_state),
                "expected_state": str(history.expected_state),
                "node_id": 3,
                "out": str(root / "out" / str(history.target_round)),
                "segment_rounds": 50,
            },
            "work_dir": str(root / "work"),
            "simulate": True,
        },
    )
    observer, _ = observers(settings)
    result = handling_interruptions(lambda: run_replay(settings, observer=observer), hint=resume_hint(settings.work_dir))
    click.echo(render_result(result))
    click.echo(f"the final state matches the reference snapshot {history.expected_state}")
    blocks = [segment for segment in result.segments if segment.backend == "block-stream"]
    by_stream = [segment for segment in blocks if segment.verified_by == "stream"]
    if blocks and len(by_stream) == len(blocks):
        click.echo(f"every block-stream segment ({len(blocks)} of {len(blocks)}) was verified by the block stream itself")
    else:
        click.echo(f"{len(by_stream)} of {len(blocks)} block-stream segment(s) verified by the block stream itself")
