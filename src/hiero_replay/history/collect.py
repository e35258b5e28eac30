"""``--collect LOCATION``: the results the pods of an Indexed Job left, recorded in the run store as
one history and summed up like any other invocation. Jobs of the latest Job's selection that left
no result are reported missing (exit 3, missing input, unless a worse code applies)."""

from __future__ import annotations

from ..config import Settings
from ..errors import ConfigError, MissingInputError
from .results import ResultsLocation
from .store import HistoryStore
from .verify import Summary


def collect(location: str, settings: Settings, store: HistoryStore) -> Summary:
    entries = ResultsLocation(location, settings).read()
    if not entries:
        raise MissingInputError(f"No job results under {location}.", hint="Pass the --results location the pods wrote to.", file=location)
    histories = sorted({entry.history for entry in entries})
    if len(histories) > 1:
        raise ConfigError(
            f"{location} holds the results of {len(histories)} histories: {', '.join(histories)}.",
            hint=f"Collect one of them: {location.rstrip('/')}/<history id>.",
        )
    latest = max(entries, key=lambda entry: entry.written_at)
    current = [entry for entry in entries if entry.listing == latest.listing]
    history = latest.history
    rounds = sorted(entry.result.key for entry in current)
    store.begin(history, states=latest.states, executor="kubernetes", spec={"results": location, "jobs": latest.jobs, "rounds": rounds})
    for entry in sorted(entries, key=lambda entry: entry.written_at):
        store.record(history, entry.result)
    by_index = {entry.result.index: entry.result for entry in current}
    missing = [index for index in range(latest.jobs) if index not in by_index]
    summary = Summary(history, latest.states, "kubernetes", [by_index[index] for index in sorted(by_index)], missing=missing)
    store.finish(history, summary.exit_code)
    return summary
