"""The object cache's counts and evictions, with real threads and files."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from hiero_replay.sources.cache import FileCache

URL = "s3://b/p"


def filled(root: Path, files: int, size: int) -> FileCache:
    """A cache at its bound with ``files`` old files ``old-N``, the lower N the older, counted."""
    cache = FileCache(root, max_bytes=files * size)
    long_ago = time.time_ns() - 10**12
    for number in range(files):
        path = cache.put(URL, f"old-{number}", bytes(size))
        os.utime(path, ns=(long_ago + number * 10**9,) * 2)
    cache.settle()
    assert cache._total is not None and cache._total + cache._added == files * size
    return cache


def test_a_count_past_the_bound_runs_beside_the_writers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting a full cache of a million files takes seconds: the write that finds the cache past its
    bound starts the count and goes on, and so do the writes after it."""
    cache = filled(tmp_path / "cache", 10, 1000)
    counted_in: list[str] = []
    finish = threading.Event()
    original = FileCache._files

    def slow_files(self: FileCache) -> list[tuple[int, int, str]]:
        counted_in.append(threading.current_thread().name)
        finish.wait(timeout=10)
        return original(self)

    monkeypatch.setattr(FileCache, "_files", slow_files)
    cache.put(URL, "past-the-bound", bytes(1000))
    for number in range(5):
        cache.put(URL, f"next-{number}", bytes(1000))  # a count is under way: none starts
    assert counted_in == ["cache-count"]  # one count, and not in the writer
    finish.set()
    cache.settle()
    held = sorted(path.name for path in (tmp_path / "cache").rglob("*") if path.is_file())
    # 16,000 bytes counted: the 7 oldest go, down to 9,000
    assert held == sorted(["past-the-bound", *(f"next-{n}" for n in range(5)), *(f"old-{n}" for n in range(7, 10))])


def test_a_count_spares_what_was_written_or_read_since_the_write_that_started_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written or read after the write that started a count are about to be handed to a reader:
    the count evicts older ones instead, even those it found before they were read."""
    cache = filled(tmp_path / "cache", 10, 1000)
    original = FileCache._files

    def files_meanwhile(self: FileCache) -> list[tuple[int, int, str]]:
        cache.put(URL, "written-meanwhile-1", bytes(4000))  # counted by the walk below...
        cache.put(URL, "written-meanwhile-2", bytes(4000))
        assert cache.get(URL, "old-0") is not None  # ...read before the walk finds it...
        found = original(self)
        assert cache.get(URL, "old-1") is not None  # ...and after: the walk found it old
        return found

    monkeypatch.setattr(FileCache, "_files", files_meanwhile)
    cache.put(URL, "trigger", bytes(1000))  # 11,000 bytes of 10,000
    assert cache._counting is not None
    cache._counting.join(timeout=30)  # that count alone (a settle would count again, sparing nothing)
    held = sorted(path.name for path in (tmp_path / "cache").rglob("*") if path.is_file())
    # 19,000 bytes counted: the 8 files not read since the write go; 11,000 stay, past the bound
    assert held == sorted(["old-0", "old-1", "trigger", "written-meanwhile-1", "written-meanwhile-2"])


def test_a_count_evicts_the_least_recently_used_first(tmp_path: Path) -> None:
    cache = filled(tmp_path / "cache", 10, 1000)
    for number in (0, 2, 4):
        assert cache.get(URL, f"old-{number}") is not None
    os.utime(cache.path_for(URL, "old-9"), ns=(time.time_ns() - 10**12,) * 2)  # the oldest now
    cache.put(URL, "new", bytes(3000))  # 13,000 bytes: 4,000 to go
    cache.settle()
    held = sorted(path.name for path in (tmp_path / "cache").rglob("*") if path.is_file())
    assert held == sorted(["new", "old-0", "old-2", "old-4", "old-6", "old-7", "old-8"])
