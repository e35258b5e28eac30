"""Where the pods of an Indexed Job leave their jobs' results, and what ``--collect`` reads back: a
folder (a mounted volume) or a bucket prefix, one JSON file per job,
``<location>/<history id>/<from round>-<to round>.json``. A job's file is replaced by its latest
attempt, so a job is never counted twice."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..config import Settings
from ..errors import ConfigError, ReplayError, SourceError
from ..model.checked import DamagedRecord, checked
from ..model.history import JobResult
from ..sources.object_store import ObjectStoreSource
from ..sources.registry import is_bucket_url, open_source


@dataclass(frozen=True)
class ResultFile:
    """One job's result as a pod wrote it, with what it knew of the history and its job list."""

    history: str
    states: str
    #: How many jobs the pod's selection held, and a digest of their rounds: results of one Indexed Job share both.
    jobs: int
    listing: str
    result: JobResult
    written_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "states": self.states,
            "jobs": self.jobs,
            "listing": self.listing,
            "written_at": self.written_at or time.time(),
            "job": self.result.to_json(),
        }

    @classmethod
    def parse(cls, raw: bytes | str) -> ResultFile:
        """A result file's bytes read back: ``DamagedRecord`` (a ``ValueError``) unless it is JSON
        whose every value is of its type, and whose job's outcome is the one its exit code gives."""
        try:
            data = json.loads(raw)
        except RecursionError:
            raise DamagedRecord("nested too deeply") from None
        if not isinstance(data, dict):
            raise DamagedRecord("not a JSON object")
        try:
            result = JobResult.from_json(data.get("job"))
        except DamagedRecord as error:
            raise DamagedRecord(f"job: {error}") from None
        return checked(cls, {**data, "result": result, "written_at": data.get("written_at") or 0.0})


class ResultsLocation:
    def __init__(self, location: str, settings: Settings) -> None:
        self.location = location
        self.settings = settings

    def _key(self, history: str, result: JobResult) -> str:
        return f"{history}/{result.from_round}-{result.to_round}.json"

    def write(self, entry: ResultFile) -> None:
        key = self._key(entry.history, entry.result)
        data = json.dumps(entry.to_json(), indent=2).encode()
        if not is_bucket_url(self.location):
            path = Path(self.location) / key
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
            partial.write_bytes(data)
            os.replace(partial, path)
            return
        import obstore

        source = open_source(self.location, self.settings.buckets, work_dir=self.settings.work_dir)
        assert isinstance(source, ObjectStoreSource)
        try:
            obstore.put(source.store, source.location.prefix + key, data)
        except Exception as error:  # obstore raises its own kinds; all mean the write failed
            raise SourceError(
                f"Cannot write the result {self.location}/{key}: {error}.", hint="Check the bucket and its credentials."
            ) from error

    def read(self) -> list[ResultFile]:
        """Every result under the location (or under one history's folder of it)."""
        entries = []
        if not is_bucket_url(self.location) and not Path(self.location).is_dir():
            raise ConfigError(
                f"The results location {self.location} does not exist.", hint="Pass the folder or bucket prefix the pods wrote to."
            )
        source = open_source(self.location, self.settings.buckets, work_dir=self.settings.work_dir)
        for obj in source.list():
            name = PurePosixPath(obj.key).name
            if obj.skipped is not None or not name.endswith(".json") or name.startswith("."):
                continue
            download = getattr(source, "download", source.read)  # a bucket's results change: never a cached copy
            try:
                entries.append(ResultFile.parse(download(obj.key)))
            except ValueError as error:
                raise SourceError(f"{self.location}/{obj.key} is not a job result: {error}.", file=obj.key) from error
        return entries

    def find(self, history: str, result_key: tuple[int, int]) -> ResultFile | None:
        """The result a pod already left for this job, if any."""
        key = f"{history}/{result_key[0]}-{result_key[1]}.json"
        try:
            if not is_bucket_url(self.location):
                path = Path(self.location) / key
                return ResultFile.parse(path.read_bytes()) if path.is_file() else None
            source = open_source(self.location, self.settings.buckets, work_dir=self.settings.work_dir)
            return ResultFile.parse(getattr(source, "download", source.read)(key))
        except (ReplayError, OSError, ValueError):
            return None  # no readable earlier result: the job runs
