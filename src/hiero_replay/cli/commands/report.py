"""``hiero-replay report``: one self-contained HTML page of a run or of a verify-history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..options import work_dir_options

if TYPE_CHECKING:
    from ...workdir import Protected


@click.command()
@click.argument("run_id", required=False)
@click.option("--html", "html_file", type=click.Path(dir_okay=False), required=True, help="Where to write the report.")
@work_dir_options
def report(run_id: str | None, html_file: str, work_dir: Path) -> None:
    """Write a self-contained HTML report of a run or a verify-history (default: the latest)."""
    from ...errors import ConfigError, MissingInputError
    from ...observe.report import render_report
    from ...paths import given_path
    from ...safe_files import write_atomically
    from ...store import RunStore
    from ...workdir import WORK_DIR_IS_OURS, refuse_overlaps, replay_inputs

    target = given_path("--html", html_file)
    if not target.parent.is_dir():
        raise ConfigError(
            f"Cannot write the report to {target}: the folder {target.parent} does not exist.", hint="Create it, or pass another --html."
        )
    store = RunStore(work_dir, create=False)  # a work directory with runs, checked
    try:
        latest = next(iter(store.runs(1)), None)
        history = _history_page(work_dir, run_id, latest.started_at if latest is not None else None)
        if history is not None:
            what, page, inputs = history
        else:
            record = store.run(run_id) if run_id else latest
            if record is None:
                raise MissingInputError(
                    f"No run {run_id or ''} in {work_dir}.".replace("  ", " "), hint="`hiero-replay status` lists the runs."
                )
            what, page, inputs = f"run {record.id}", render_report(record, store.segments(record.id)), replay_inputs(record.settings)
    finally:
        store.close()
    refuse_overlaps([("--html", target)], [("--work-dir", work_dir, WORK_DIR_IS_OURS), *inputs])  # report only reads
    try:
        write_atomically(target, page)
    except OSError as error:
        raise ConfigError(f"Cannot write the report to {target}: {error.strerror}.", hint="Pass another --html.") from error
    click.echo(f"report of {what} written to {html_file}")


def _history_page(work_dir: Path, run_id: str | None, latest_run_started: float | None) -> tuple[str, str, list[Protected]] | None:
    """The report of a verify-history (its id, or the latest thing recorded when it is one), and the
    folders it read."""
    from ...history.store import HistoryStore
    from ...observe.report.history import render_history_report
    from ...workdir import inputs_of

    store = HistoryStore(work_dir)
    try:
        record = store.history(run_id) if run_id is not None else next(iter(store.histories(1)), None)
        if record is None or (run_id is None and latest_run_started is not None and latest_run_started > record.started_at):
            return None
        return f"verify-history {record.id}", render_history_report(record, store.jobs(record.id)), inputs_of([("--states", record.states)])
    finally:
        store.close()
