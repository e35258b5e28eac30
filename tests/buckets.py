"""A fresh bucket (or folder) for a test, on a real server on 127.0.0.1, with ways to fill and open it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hiero_replay.config import BucketsConfig, Settings, load_settings
from hiero_replay.inventory import open_stream_source
from hiero_replay.sources.base import ReplaySource

from .object_servers import FakeGcs, SeaweedS3

_names = itertools.count()


@dataclass
class Bucket:
    """A fresh bucket (or folder) with a way to put objects into it and to open it as a source."""

    kind: str
    url: str
    put: Callable[[str, bytes], None]
    delete: Callable[[str], None]
    options: BucketsConfig
    work_dir: Path

    def settings(self) -> Settings:
        return load_settings(None, {"buckets": self.options.model_dump(mode="json"), "work_dir": str(self.work_dir)})

    def source(self) -> ReplaySource:
        return open_stream_source(self.url, self.settings())

    def upload_folder(self, folder: Path, prefix: str = "") -> list[str]:
        keys = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(folder).as_posix()
            self.put(key, path.read_bytes())
            keys.append(key)
        return keys


def make_bucket(
    kind: str, tmp_path: Path, seaweed: SeaweedS3 | None, fake_gcs: FakeGcs | None, endpoint: str | None = None, **options: object
) -> Bucket:
    name = f"replay-{next(_names)}"
    if kind == "local":
        root = tmp_path / name
        root.mkdir()

        def put(key: str, data: bytes) -> None:
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            (root / key).write_bytes(data)

        return Bucket(kind, str(root), put, lambda key: (root / key).unlink(), BucketsConfig(), tmp_path / "work")
    server = seaweed if kind == "s3" else fake_gcs
    assert server is not None
    server.create_bucket(name)
    settings = BucketsConfig(**{"endpoint": endpoint or server.endpoint, "allow_http": True, "retries": 4, **options})
    scheme = "s3" if kind == "s3" else "gs"
    return Bucket(
        kind, f"{scheme}://{name}/streams", lambda key, data: server.put(name, f"streams/{key}", data),
        lambda key: server.delete(name, f"streams/{key}"), settings, tmp_path / "work",
    )  # fmt: skip
