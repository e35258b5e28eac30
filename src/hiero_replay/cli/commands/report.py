"""``hiero-replay report``: one self-contained HTML page of a run."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import work_dir_options


@click.command()
@click.argument("run_id", required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False), required=True, help="Where to write the report.")
@work_dir_options
def report(run_id: str | None, html_file: str, work_dir: Path) -> None:
    """Write a self-contained HTML report of a run (default: the latest)."""
    from ...errors import ConfigError, MissingInputError
    from ...observe.report import render_report
    from ...safe_files import write_atomically
    from ...store import RunStore

    target = Path(html_file)
    if not target.parent.is_dir():
        raise ConfigError(
            f"Cannot write the report to {target}: the folder {target.parent} does not exist.", hint="Create it, or pass another --html."
        )
    store = RunStore(work_dir, create=False)
    try:
        record = store.run(run_id) if run_id else next(iter(store.runs(1)), None)
        if record is None:
            raise MissingInputError(
                f"No run {run_id or ''} in {work_dir}.".replace("  ", " "), hint="`hiero-replay status` lists the runs."
            )
        page = render_report(record, store.segments(record.id))
    finally:
        store.close()
    try:
        write_atomically(target, page)
    except OSError as error:
        raise ConfigError(f"Cannot write the report to {target}: {error.strerror}.", hint="Pass another --html.") from error
    click.echo(f"report of run {record.id} written to {html_file}")
