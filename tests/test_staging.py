"""Staging a segment's inputs when the local copy of a file disappears between its fetch and its link."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from hiero_replay.errors import SourceError
from hiero_replay.run.staging import FETCH_ATTEMPTS, stage_inputs
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.streams.naming import Compression, StreamFileName, block_file_name


class EvictingSource(LocalDirSource):
    """A folder whose first ``losses`` fetches hand out a copy deleted before the caller uses it,
    as a cache evicting the file meanwhile would."""

    def __init__(self, root: Path, losses: int) -> None:
        super().__init__(str(root))
        self.losses = losses
        self.fetches = 0

    def fetch(self, key: str) -> Path:
        self.fetches += 1
        original = super().fetch(key)
        if self.fetches > self.losses:
            return original
        lost = original.with_name(f"lost-{self.fetches}")
        lost.write_bytes(original.read_bytes())
        lost.unlink()
        return lost


class FlatNames:
    def staged_name(self, name: StreamFileName) -> tuple[str, Compression]:
        return block_file_name(name.block_number or 0), name.compression


@pytest.mark.parametrize("losses", [1, FETCH_ATTEMPTS - 1])
def test_a_copy_lost_before_it_is_staged_is_fetched_again(tmp_path: Path, losses: int) -> None:
    key = block_file_name(7)
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / key).write_bytes(b"block seven")
    source = EvictingSource(tmp_path / "source", losses)
    segment = SimpleNamespace(input_dir=tmp_path / "input", files=(key,), checksums=None)
    assert stage_inputs(segment, source, FlatNames()) == len(b"block seven")  # type: ignore[arg-type]
    assert (tmp_path / "input" / key).read_bytes() == b"block seven"
    assert source.fetches == losses + 1


def test_a_copy_lost_on_every_fetch_is_a_source_error_that_says_why(tmp_path: Path) -> None:
    key = block_file_name(7)
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / key).write_bytes(b"block seven")
    source = EvictingSource(tmp_path / "source", FETCH_ATTEMPTS)
    segment = SimpleNamespace(input_dir=tmp_path / "input", files=(key,), checksums=None)
    with pytest.raises(SourceError, match="disappeared before it could be staged") as raised:
        stage_inputs(segment, source, FlatNames())  # type: ignore[arg-type]
    assert raised.value.exit_code == 7 and "cache_max_bytes" in (raised.value.hint or "")
    assert source.fetches == FETCH_ATTEMPTS
