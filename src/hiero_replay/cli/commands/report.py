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
    """Write a self-contained HTML report of a run or a verify-history (default: the latest)."""
    from ...errors import MissingInputError
    from ...observe.report import render_report
    from ...store import DATABASE, RunStore

    if not (work_dir / DATABASE).exists():
        raise MissingInputError(f"No runs recorded in {work_dir}.", hint="Pass the --work-dir the runs used.")
    if _history_report(work_dir, run_id, Path(html_file)):
        return
    store = RunStore(work_dir)
    try:
        record = store.run(run_id) if run_id else next(iter(store.runs(1)), None)
        if record is None:
            raise MissingInputError(
                f"No run {run_id or ''} in {work_dir}.".replace("  ", " "), hint="`hiero-replay status` lists the runs."
            )
        page = render_report(record, store.segments(record.id))
    finally:
        store.close()
    Path(html_file).write_text(page, encoding="utf-8")
    click.echo(f"report of run {record.id} written to {html_file}")


def _history_report(work_dir: Path, run_id: str | None, html_file: Path) -> bool:
    """The report of a verify-history run (its id, or the latest thing recorded when it is one)."""
    from ...history.store import HistoryStore
    from ...observe.report.history import render_history_report
    from ...store import RunStore

    store = HistoryStore(work_dir)
    try:
        if run_id is not None:
            record = store.history(run_id)
        else:
            runs = RunStore(work_dir)
            try:
                latest_run = next(iter(runs.runs(1)), None)
            finally:
                runs.close()
            record = next(iter(store.histories(1)), None)
            if record is not None and latest_run is not None and latest_run.started_at > record.started_at:
                record = None
        if record is None:
            return False
        page = render_history_report(record, store.jobs(record.id))
    finally:
        store.close()
    html_file.write_text(page, encoding="utf-8")
    click.echo(f"report of verify-history {record.id} written to {html_file}")
    return True
