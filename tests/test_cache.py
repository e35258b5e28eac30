"""The object cache: atomic writes, counts spread over the writes, least-recently-used eviction,
and a work directory that may be hostile (links, files in place of folders, keys naming elsewhere)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hiero_replay.errors import SourceError
from hiero_replay.sources import cache as cache_module
from hiero_replay.sources.cache import FileCache
from hiero_replay.sources.cache_count import CacheCount

from .log_capture import captured_logs

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


def held(root: Path) -> list[str]:
    return sorted(path.name for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def test_a_count_is_spread_over_the_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting a cache of a million files takes seconds: the write that finds the cache past its
    bound walks a slice of it, and each write after it the next slice, until the count is over."""
    monkeypatch.setattr(cache_module, "WALK_SLICE", 50)
    monkeypatch.setattr(cache_module, "EVICT_SLICE", 5)
    cache = filled(tmp_path / "cache", 1000, 100)
    cache.put(URL, "past-the-bound", bytes(100))
    count = cache._count
    assert count is not None and count.spared_from == os.lstat(cache.path_for(URL, "past-the-bound")).st_mtime_ns
    assert 0 < count.total <= 50 * 100 and len(held(tmp_path / "cache")) == 1001  # one slice walked, nothing evicted
    found, on_disk = [count.total], [1001]
    writes = 0
    while cache._count is not None:
        cache.put(URL, f"next-{writes}", bytes(100))
        writes += 1
        if cache._count is not None and not cache._count.walked:
            found.append(cache._count.total)
        on_disk.append(len(held(tmp_path / "cache")))
    assert all(0 < later - earlier <= 50 * 100 for earlier, later in itertools.pairwise(found))  # a walk slice a write
    assert all(later - earlier >= 1 - 5 for earlier, later in itertools.pairwise(on_disk))  # an eviction slice a write
    assert 1000 // 50 <= writes <= 1100 // 50 + 1 + 200 // 5 + 1
    kept = held(tmp_path / "cache")
    old_kept = sorted(int(name.removeprefix("old-")) for name in kept if name.startswith("old-"))
    assert old_kept == list(range(1000 - len(old_kept), 1000)) and 900 - writes <= len(old_kept) <= 899  # the oldest went
    assert "past-the-bound" in kept and all(f"next-{n}" in kept for n in range(writes))  # written since: spared


def test_a_count_spares_what_was_written_or_read_since_the_write_that_started_it(tmp_path: Path) -> None:
    """Files written or read after the write that started a count are about to be handed to a reader:
    the count evicts older ones instead, even those it found before they were read."""
    root = tmp_path / "cache"
    root.mkdir()
    long_ago = time.time_ns() - 10**12
    for number in range(10):
        (root / f"old-{number}").write_bytes(bytes(1000))
        os.utime(root / f"old-{number}", ns=(long_ago + number * 10**9,) * 2)
    (root / "trigger").write_bytes(bytes(1000))
    (root / "written-since").write_bytes(bytes(4000))
    os.utime(root / "old-0", ns=(time.time_ns(),) * 2)  # read before the walk found it...
    count = CacheCount(root, 1000, spared_from=os.lstat(root / "trigger").st_mtime_ns)
    assert count.walk(1000) > 0 and count.walked and count.total == 15_000
    os.utime(root / "old-1", ns=(time.time_ns(),) * 2)  # ...and after
    assert count.evict(1000, down_to=1000)
    # the 8 files not read since the trigger go; 7,000 bytes stay, more than asked
    assert held(root) == ["old-0", "old-1", "trigger", "written-since"] and count.total == 7000


def test_a_count_evicts_the_least_recently_used_first(tmp_path: Path) -> None:
    cache = filled(tmp_path / "cache", 10, 1000)
    for number in (0, 2, 4):
        assert cache.get(URL, f"old-{number}") is not None
    os.utime(cache.path_for(URL, "old-9"), ns=(time.time_ns() - 10**12,) * 2)  # the oldest now
    cache.put(URL, "new", bytes(3000))  # 13,000 bytes: 4,000 to go
    cache.settle()
    assert held(tmp_path / "cache") == sorted(["new", "old-0", "old-2", "old-4", "old-6", "old-7", "old-8"])


def test_a_full_cache_is_not_recounted_on_every_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts: list[int] = []

    class Counted(CacheCount):
        def __init__(self, root: Path, bound: int, spared_from: int | None) -> None:
            counts.append(1)
            super().__init__(root, bound, spared_from)

    monkeypatch.setattr(cache_module, "CacheCount", Counted)
    cache = FileCache(tmp_path / "cache", max_bytes=100 * 1000)
    for number in range(1000):
        cache.put(URL, f"{number:05d}", bytes(1000))
    kept = held(tmp_path / "cache")
    assert 90 <= len(kept) <= 101 and kept[-1] == "00999"  # the most recent are kept
    assert len(counts) <= 1 + 1000 // 10  # one count per tenth of the bound written, not one per write


def test_a_failed_count_is_said_once_and_the_writes_go_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(self: CacheCount, budget: int) -> int:
        raise PermissionError(13, "Permission denied", "cache")

    monkeypatch.setattr(CacheCount, "walk", unreadable)
    cache = FileCache(tmp_path / "cache", max_bytes=10)
    with captured_logs() as logs:
        for number in range(5):
            cache.put(URL, f"{number}", bytes(10))
            cache.settle()
    warnings = [entry for entry in logs if entry["event"] == "cache no longer bounded"]
    assert len(warnings) == 1 and "Permission denied" in str(warnings[0]["error"])
    assert len(list((tmp_path / "cache").rglob("?"))) == 5  # written all the same


def test_links_planted_in_the_cache_are_neither_counted_nor_followed(tmp_path: Path) -> None:
    """A link to a big file outside, planted in the cache, made it evict its own files (and a write
    at the link's key subtracted the outside file's size from the count), and was handed out as a
    cached copy."""
    cache = FileCache(tmp_path / "cache", max_bytes=10 * 1000)
    outside = tmp_path / "outside"
    outside.write_bytes(bytes(50_000))
    for name in ("planted", "overwritten"):
        cache.path_for(URL, name).parent.mkdir(parents=True, exist_ok=True)
        cache.path_for(URL, name).symlink_to(outside)
    outside_folder = tmp_path / "outside-folder"
    outside_folder.mkdir()
    for number in range(5):
        (outside_folder / f"old-{number}").write_bytes(bytes(5000))
    cache.path_for(URL, "linked-folder").symlink_to(outside_folder)  # followed, 25,000 bytes to evict
    for number in range(5):
        cache.put(URL, f"{number}", bytes(1000))
        cache.settle()
    cache.put(URL, "overwritten", bytes(1000))  # the link at this key is replaced by the file
    cache.settle()
    held = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file() and not p.is_symlink())
    assert held == ["0", "1", "2", "3", "4", "overwritten"]  # 6,000 bytes of 10,000: nothing evicted
    assert cache._total is not None and cache._total + cache._added == 6000
    assert cache.path_for(URL, "planted").is_symlink() and outside.stat().st_size == 50_000
    assert sorted(p.name for p in outside_folder.iterdir()) == [f"old-{number}" for number in range(5)]
    touched = outside.stat().st_mtime_ns
    assert cache.get(URL, "planted") is None  # no copy: what it points to was never verified
    assert outside.stat().st_mtime_ns == touched
    assert cache.get(URL, "overwritten") == cache.path_for(URL, "overwritten")


def test_a_folder_at_a_cached_copys_place_is_a_typed_error_and_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache", max_bytes=10**6)
    cache.path_for(URL, "000.blk.gz").mkdir(parents=True)
    (cache.path_for(URL, "000.blk.gz") / "planted").write_bytes(b"x")
    assert cache.get(URL, "000.blk.gz") is None
    with pytest.raises(SourceError, match=r"Remove .*000\.blk\.gz") as raised:
        cache.put(URL, "000.blk.gz", b"verified copy")
    assert raised.value.exit_code == 7 and raised.value.file == "000.blk.gz"
    assert sorted(p.name for p in cache.path_for(URL, "x").parent.iterdir()) == ["000.blk.gz"]  # no .part left


def test_a_cached_copy_it_may_not_touch_is_used_all_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy owned by another user (a shared cache): reading it is allowed, setting its time is not."""
    cache = FileCache(tmp_path / "cache", max_bytes=10**6)
    path = cache.put(URL, "000.blk.gz", b"verified copy")

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(os, "utime", refused)
    assert cache.get(URL, "000.blk.gz") == path


def test_a_link_or_a_file_in_place_of_a_cache_folder_is_a_typed_error_and_nothing_outside_changes(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "cache", max_bytes=10**6)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "000.blk.gz").write_bytes(b"never verified")
    folder = cache.path_for(URL, "000.blk.gz").parent
    folder.parent.mkdir(parents=True)
    folder.symlink_to(outside)  # the source's folder, swapped for a link
    uses: tuple[Callable[[], object], ...] = (
        lambda: cache.get(URL, "000.blk.gz"),
        lambda: cache.put(URL, "000.blk.gz", b"verified"),
    )
    for use in uses:
        with pytest.raises(SourceError, match="not a folder of its own") as raised:
            use()
        assert raised.value.exit_code == 7 and str(folder) in (raised.value.hint or "")
    assert [p.name for p in outside.iterdir()] == ["000.blk.gz"] and (outside / "000.blk.gz").read_bytes() == b"never verified"
    nested = cache.path_for("s3://other", "blocks/000.blk.gz")
    nested.parent.parent.mkdir(parents=True)
    nested.parent.write_bytes(b"a file where a folder goes")
    with pytest.raises(SourceError, match="not a folder of its own"):
        cache.put("s3://other", "blocks/000.blk.gz", b"verified")


@pytest.mark.parametrize("key", ["/etc/000.blk.gz", "../000.blk.gz", "blocks/../../000.blk.gz", "blocks//000.blk.gz", "./000.blk.gz"])
def test_a_key_that_would_name_a_file_outside_the_cache_is_refused(tmp_path: Path, key: str) -> None:
    cache = FileCache(tmp_path / "work" / "cache", max_bytes=10**6)
    uses: tuple[Callable[[], object], ...] = (lambda: cache.get(URL, key), lambda: cache.put(URL, key, b"data"))
    for use in uses:
        with pytest.raises(SourceError, match="outside the cache") as raised:
            use()
        assert raised.value.exit_code == 7
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_process_that_writes_too_few_files_to_carry_a_count_through_leaves_the_cache_bounded(tmp_path: Path) -> None:
    """A scheduled run writes a few files into a big cache: what is left of its count is finished as
    the process ends, so that runs after runs do not grow the cache without bound."""
    root = tmp_path / "cache"
    cache = filled(root, 2000, 100)  # 200,000 bytes, at the bound
    folder = cache.path_for(URL, "old-0").parent
    script = (
        "import sys; from pathlib import Path; from hiero_replay.sources.cache import FileCache\n"
        "cache = FileCache(Path(sys.argv[1]), 200_000)\n"
        "for number in range(5): cache.put(sys.argv[2], f'new-{sys.argv[3]}-{number}', bytes(100))\n"
        "assert cache._count is not None  # five slices: the count is still under way\n"
    )
    for run in range(3):
        finished = subprocess.run([sys.executable, "-c", script, str(root), URL, str(run)], capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr
        assert len(list(folder.iterdir())) <= 2000  # within the bound (the first run evicts down to 90%)
