"""ReadAhead: downloads run ahead of the reader in a bounded window, each object once, in order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from hiero_replay.errors import MissingInputError
from hiero_replay.sources.local import LocalDirSource
from hiero_replay.sources.read_ahead import WINDOW_PER_WORKER, ReadAhead


class RecordingSource(LocalDirSource):
    """A real folder source that records every read and every remembered object."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[tuple[str, bool]] = []
        self.remembered: list[str] = []
        self._lock = threading.Lock()
        #: Set by a test to hold every read until it opens the gate; ``started`` counts reads begun.
        self.gate: threading.Event | None = None
        self.started = threading.Semaphore(0)

    def read(self, key: str, *, fresh: bool = False) -> bytes:
        with self._lock:
            self.reads.append((key, fresh))
        self.started.release()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        return super().read(key, fresh=fresh)

    def remember(self, key: str, data: bytes) -> None:
        if data == b"unwritable":
            raise OSError(28, "No space left on device")
        self.remembered.append(key)


@pytest.fixture
def source(tmp_path: Path) -> RecordingSource:
    for index in range(100):
        (tmp_path / f"{index:03d}").write_bytes(f"object {index}".encode())
    return RecordingSource(tmp_path)


KEYS = [f"{index:03d}" for index in range(100)]


def test_each_object_is_downloaded_once_when_read_in_about_its_order(source: RecordingSource) -> None:
    order = [KEYS[index ^ 1] for index in range(len(KEYS))]  # 001, 000, 003, 002, ...: two readers
    with ReadAhead(source, KEYS, workers=4) as ahead:
        assert [ahead.read(key) for key in order] == [f"object {int(key)}".encode() for key in order]
    assert sorted(source.reads) == [(key, False) for key in KEYS]


def settled(ahead: ReadAhead, source: RecordingSource) -> int:
    """Downloads done once every download in flight has finished (each finished one starts the
    next while the window allows): the count stops changing."""
    for _ in range(1000):
        with ahead._lock:
            if all(download.done() for _, download in ahead._pending.values()):
                return len(source.reads)
        time.sleep(0.005)
    raise AssertionError("downloads kept running")


def test_downloads_run_ahead_in_a_bounded_window(source: RecordingSource) -> None:
    with ReadAhead(source, KEYS, workers=2) as ahead:
        assert settled(ahead, source) == 2 * WINDOW_PER_WORKER < len(KEYS)  # no read yet: the window is full
        ahead.read(KEYS[0])
        assert settled(ahead, source) == 2 * WINDOW_PER_WORKER + 1  # one read, one more download


def test_only_downloads_that_may_run_hold_a_thread(source: RecordingSource) -> None:
    """Keys reserved in the window wait in a queue, not in parked threads that every completion
    would wake; the reader still gets a reserved key from its one download."""
    gate = source.gate = threading.Event()
    with ReadAhead(source, KEYS, workers=2, cap=64) as ahead:
        assert source.started.acquire(timeout=30) and source.started.acquire(timeout=30)
        assert len(ahead._pool._threads) == 2 and len(ahead._pending) == 2 * WINDOW_PER_WORKER
        gate.set()
        assert [ahead.read(key) for key in KEYS[:10]] == [f"object {index}".encode() for index in range(10)]
    assert sorted(source.reads)[:10] == [(key, False) for key in KEYS[:10]] and len(source.reads) == len(set(source.reads))


def test_a_key_left_a_window_behind_is_dropped_and_does_not_shrink_the_window(source: RecordingSource) -> None:
    with ReadAhead(source, KEYS, workers=1) as ahead:
        for key in [KEYS[0], *KEYS[2:20]]:  # 001 is never read
            ahead.read(key)
        settled(ahead, source)
        assert len({key for key, _ in source.reads if key >= "020"}) == WINDOW_PER_WORKER
        assert ahead.read("001") == b"object 1"  # no longer held: read from the source


def test_a_fresh_read_never_takes_the_early_copy(source: RecordingSource) -> None:
    with ReadAhead(source, KEYS, workers=2) as ahead:
        assert ahead.read("000", fresh=True) == b"object 0"
        assert ahead.read("000") == b"object 0"
    assert ("000", True) in source.reads and ("000", False) in source.reads


def test_a_failed_download_is_raised_to_the_reader(source: RecordingSource, tmp_path: Path) -> None:
    (tmp_path / "003").unlink()
    with ReadAhead(source, KEYS, workers=2) as ahead:
        with pytest.raises(MissingInputError):
            ahead.read("003")
        assert ahead.read("004") == b"object 4"


def test_cache_writes_are_done_when_remembered_and_their_failures_raised(source: RecordingSource) -> None:
    with ReadAhead(source, KEYS[:3], workers=2) as ahead:
        for key in KEYS[:3]:
            ahead.remember(key, ahead.read(key))
            assert source.remembered[-1] == key
    with ReadAhead(source, [], workers=2) as ahead, pytest.raises(OSError, match="No space left"):
        ahead.remember("000", b"unwritable")


def test_cache_writes_never_wait_for_a_count_or_an_eviction(tmp_path: Path) -> None:
    from hiero_replay.sources.cache import FileCache

    cache = FileCache(tmp_path / "cache", max_bytes=10**9)
    with cache._evicting:  # another writer is counting the cache (slow on a big one)
        writers = [threading.Thread(target=cache.put, args=("s3://b", f"k{index}", b"x" * 100)) for index in range(20)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=30)
        assert not any(writer.is_alive() for writer in writers)  # all written while the count runs
    assert sorted(p.name for p in (tmp_path / "cache").rglob("k*")) == sorted(f"k{index}" for index in range(20))
    cache.put("s3://b", "last", b"y" * 100)  # the next write counts: 21 files
    cache.settle()
    assert cache._total == 2100


def test_downloads_are_decoded_in_the_reading_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding holds the GIL: one thread decodes while many download (more decoders took turns)."""
    from dataclasses import replace

    from hiero_replay.inventory import reading
    from hiero_replay.streams.blocks import BlockFile, read_block  # the function ``reading`` decodes with
    from hiero_replay.streams.compression import compress
    from hiero_replay.streams.naming import Compression, StreamFileName, block_file_name, parse_stream_file_name
    from hiero_replay.streams.writers import generate_rounds, write_block_stream

    listed: list[tuple[StreamFileName, int]] = []
    for block in write_block_stream(generate_rounds(1, 40, start_time_ns=1_767_225_600 * 10**9), rounds_per_block=4):
        name = block_file_name(block.number)
        (tmp_path / name).write_bytes(compress(block.data, Compression.GZIP))
        parsed = parse_stream_file_name(name)
        assert parsed is not None, name
        listed.append((parsed, 0))
    source = RecordingSource(tmp_path)
    source.features = replace(source.features, cpu_bound_reads=False, local=False)  # read as downloads are
    decoded_in: list[threading.Thread] = []
    downloaded_in: list[str] = []
    read = source.read

    def downloading(key: str, *, fresh: bool = False) -> bytes:
        downloaded_in.append(threading.current_thread().name)
        return read(key, fresh=fresh)

    def decoding(data: bytes, *, name: str) -> BlockFile:
        decoded_in.append(threading.current_thread())
        return read_block(data, name=name)

    monkeypatch.setattr(source, "read", downloading)
    monkeypatch.setattr(reading, "read_block", decoding)
    blocks, _ = reading.read_all(source, listed, [], {}, workers=8)
    assert [f.block.number for f in blocks if f.block is not None] == list(range(10))
    assert decoded_in == [threading.current_thread()] * 10
    assert len({key for key, _ in source.reads}) == 10 == len(downloaded_in)
    assert all(name.startswith("read-ahead") for name in downloaded_in)  # downloaded by the read-ahead threads


def test_a_key_no_thread_could_be_started_for_is_read_by_the_reader(source: RecordingSource, monkeypatch: pytest.MonkeyPatch) -> None:
    """``submit`` raises once the call is queued when the system refuses a thread: the reader reads
    the key itself, the queued call reads nothing, and the requests in flight stay counted right."""
    start = threading.Thread.start
    attempts = []

    def refused_once(thread: threading.Thread) -> None:
        if thread.name.startswith("read-ahead"):
            attempts.append(thread.name)
            if len(attempts) == 2:
                raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", refused_once)
    gate = source.gate = threading.Event()  # the first thread stays busy while the second is asked for
    with ReadAhead(source, KEYS[:20], workers=2) as ahead:
        gate.set()
        assert [ahead.read(key) for key in KEYS[:20]] == [f"object {index}".encode() for index in range(20)]
    assert ahead._in_flight == 0
    assert sorted(source.reads) == [(key, False) for key in KEYS[:20]]  # each once: the queued call read nothing


def test_a_key_whose_download_could_not_be_submitted_is_read_by_the_reader(source: RecordingSource) -> None:
    """Any other error from ``submit`` (here a MemoryError, raised where a finished download starts
    the next one, and so lost in the pool) leaves the key to its reader, who must not wait for it."""
    gate = source.gate = threading.Event()
    ahead = ReadAhead(source, KEYS[:3], workers=1, cap=1)  # 000 in flight, 001 and 002 reserved
    submit = ahead._pool.submit
    failures: list[int] = []

    def failing_once(*args: object, **kwargs: object) -> object:
        if not failures:
            failures.append(1)
            raise MemoryError
        return submit(*args, **kwargs)  # type: ignore[arg-type]

    ahead._pool.submit = failing_once  # type: ignore[method-assign, assignment]
    gate.set()  # 000 finishes; starting 001 fails
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend(ahead.read(key) for key in KEYS[:3]), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive() and got == [b"object 0", b"object 1", b"object 2"] and failures == [1]
    ahead.__exit__(None, None, None)


def test_a_reader_waiting_when_the_read_ahead_closes_reads_the_key_itself(source: RecordingSource) -> None:
    """A reserved key a reader took, not started when another thread closes the read-ahead: it is
    never started, so the reader must not wait for it."""
    gate = source.gate = threading.Event()
    ahead = ReadAhead(source, KEYS[:3], workers=1, cap=1)  # 000 in flight, 001 and 002 reserved
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(ahead.read("001")), daemon=True)
    reader.start()
    for _ in range(1000):
        with ahead._lock:
            if "001" not in ahead._pending:
                break
        time.sleep(0.005)
    closer = threading.Thread(target=ahead.__exit__, args=(None, None, None), daemon=True)
    closer.start()
    gate.set()
    closer.join(timeout=30)
    reader.join(timeout=30)
    assert not reader.is_alive() and got == [b"object 1"]
