"""Bucket specifics on real servers on 127.0.0.1 (SeaweedFS, fake-gcs-server): requester-pays
headers, fault injection through a proxy, the verified cache, listing only a round range's part.
(What every source must do is in ``contract/test_source_contract.py``.)"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hiero_replay.config import BucketsConfig, load_settings
from hiero_replay.errors import ConfigError, CorruptFileError
from hiero_replay.inventory import load_stream_files, scan_source, verify_stream_files
from hiero_replay.inventory.listing import EVENT_PROBE_INTERVAL
from hiero_replay.sources.object_store import ObjectStoreSource
from hiero_replay.sources.registry import open_source
from hiero_replay.streams.naming import Compression, block_file_name, nested_block_key

from .buckets import make_bucket
from .helpers import write_blocks, write_events
from .log_capture import captured_logs
from .object_servers import FakeGcs, Fault, FaultProxy, SeaweedS3

_names = itertools.count()


@pytest.fixture
def s3_proxy(seaweed: SeaweedS3) -> Iterator[FaultProxy]:
    proxy = FaultProxy(seaweed.endpoint)
    yield proxy
    proxy.stop()


@pytest.fixture
def gcs_proxy(fake_gcs: FakeGcs) -> Iterator[FaultProxy]:
    proxy = FaultProxy(fake_gcs.endpoint)
    yield proxy
    proxy.stop()


def test_gcs_requester_pays_sends_the_billing_project_on_list_and_get(tmp_path: Path, fake_gcs: FakeGcs, gcs_proxy: FaultProxy) -> None:
    bucket = make_bucket("gcs", tmp_path, None, fake_gcs, endpoint=gcs_proxy.endpoint, billing_project="replay-billing")
    bucket.upload_folder(write_blocks(tmp_path / "b", 1, 10)[0].parent)
    assert scan_source(bucket.source()).ok
    reads = [(method, headers) for method, path, headers in gcs_proxy.requests if method == "GET"]
    assert any("list-type" in path or "/o?" in path for _, path, _ in gcs_proxy.requests)
    assert len(reads) >= 3 and all(headers.get("x-goog-user-project") == "replay-billing" for _, headers in reads)


def test_s3_requester_pays_header_on_list_and_get(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, requester_pays=True)
    bucket.upload_folder(write_blocks(tmp_path / "b", 1, 10)[0].parent)
    assert scan_source(bucket.source()).ok
    lists = [h for m, p, h in s3_proxy.requests if m == "GET" and "list-type" in p]
    gets = [h for m, p, h in s3_proxy.requests if m == "GET" and "list-type" not in p]
    assert lists and gets
    assert all(h.get("x-amz-request-payer") == "requester" for h in lists + gets)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status:503", ".blk.gz", times=3, method="GET"),
        Fault("status:429", ".blk.gz", times=2, method="GET"),
        Fault("status:500", "list-type", times=2, method="GET"),
        Fault("truncate", "000000000000000000000000000000000002", times=1, method="GET"),
        Fault("flip", "000000000000000000000000000000000003", times=2, method="GET"),
        Fault("reset", "000000000000000000000000000000000001", times=1, method="GET"),
        Fault("stall:3", "000000000000000000000000000000000004", times=1, method="GET"),
    ],
    ids=["503-burst", "429-burst", "list-500", "truncated-body", "flipped-bytes", "connection-reset", "timeout"],
)
def test_recoverable_faults_complete_with_counted_retries(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy, fault: Fault) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, retries=5, timeout_seconds=1)
    bucket.upload_folder(write_blocks(tmp_path / "b", 1, 30, rounds_per_block=5)[0].parent)
    s3_proxy.faults.append(fault)
    source = bucket.source()
    inventory = scan_source(source, workers=4)
    assert inventory.ok and inventory.hash_chain == "verified"
    assert fault.times == 0  # every injected fault was hit
    assert source.retries >= 1


def test_a_persistently_corrupt_object_never_reaches_the_cache(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, retries=3)
    bucket.upload_folder(write_blocks(tmp_path / "b", 1, 10, rounds_per_block=5)[0].parent)
    s3_proxy.faults.append(Fault("flip", "000000000000000000000000000000000001", times=100, method="GET"))
    source = bucket.source()
    with pytest.raises(CorruptFileError):
        source.fetch("000000000000000000000000000000000001.blk.gz")
    inventory = scan_source(source, workers=2)
    error = inventory.first_error()
    assert error is not None and error.exit_code == 7
    assert not list((tmp_path / "work" / "cache").rglob("000000000000000000000000000000000001.blk.gz"))


def test_cache_is_reused_and_bounded(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint)
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 20, rounds_per_block=5)[0].parent)
    assert scan_source(bucket.source()).ok
    gets = sum(1 for m, p, _ in s3_proxy.requests if m == "GET" and "list-type" not in p)
    assert gets == len(keys)
    cached = {p.name: p for p in (tmp_path / "work" / "cache").rglob("*.blk.gz")}
    inodes = {name: path.stat().st_ino for name, path in cached.items()}
    assert scan_source(bucket.source()).ok  # a resumed or repeated scan reuses the verified cache...
    assert sum(1 for m, p, _ in s3_proxy.requests if m == "GET" and "list-type" not in p) == gets
    assert {name: path.stat().st_ino for name, path in cached.items()} == inodes  # ...and rewrites none of it
    damaged = cached[Path(keys[2]).name]
    damaged.write_bytes(damaged.read_bytes()[:-9])  # a cached copy damaged on disk is fetched again and replaced
    assert scan_source(bucket.source()).ok
    assert damaged.read_bytes() == (tmp_path / "b" / damaged.name).read_bytes()
    size = (tmp_path / "b" / Path(keys[0]).name).stat().st_size
    small = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, cache_max_bytes=size * 2 + 10)
    small.upload_folder(tmp_path / "b")
    small.work_dir = tmp_path / "small-work"
    source = small.source()
    assert isinstance(source, ObjectStoreSource)
    for key in keys:
        source.fetch(key)
    source.cache.settle()  # the first count runs beside the writes
    kept = [p for p in (tmp_path / "small-work" / "cache").rglob("*.blk.gz")]
    assert 1 <= len(kept) <= 2 and kept[-1].exists()


def test_open_source_refuses_unknown_schemes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="gs://bucket/prefix"):
        open_source("ftp://host/path", BucketsConfig(), work_dir=tmp_path)


#: Where an endpoint may come from, and the switches that opt in to plain HTTP.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT", "AWS_ALLOW_HTTP", "STORAGE_EMULATOR_HOST")
WARNING = "plain HTTP to a server that is not on this machine"


@pytest.mark.parametrize(
    ("url", "options", "environment", "refused", "warned"),
    [
        # not opted in: refused, naming where the endpoint came from and how to opt in
        ("s3://b/p", {"endpoint": "http://127.0.0.1:9000"}, {}, r"\(buckets\.endpoint\) is plain HTTP.*AWS_ALLOW_HTTP=true", False),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, r"\(AWS_ENDPOINT_URL\) is plain HTTP", False),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ALLOW_HTTP": "false"}, "is plain HTTP", False),
        ("gs://b/p", {"endpoint": "http://127.0.0.1:4443"}, {}, r"\(buckets\.endpoint\) is plain HTTP", False),
        ("s3://b/p", {"endpoint": "ftp://10.1.2.3:9000", "allow_http": True}, {}, "not an http:// or https:// URL", False),
        # opted in: a loopback server quietly, a server on the network with a warning
        ("s3://b/p", {"endpoint": "http://[::1]:9000", "allow_http": True}, {}, None, False),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ALLOW_HTTP": "true"}, None, False),
        ("s3://b/p", {"endpoint": "http://10.1.2.3:9000", "allow_http": True}, {}, None, True),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL": "http://minio.example.com", "AWS_ALLOW_HTTP": "TRUE"}, None, True),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL_S3": "http://192.168.1.20:8333", "AWS_ALLOW_HTTP": "1"}, None, True),
        # an emulator address is plain HTTP by definition: STORAGE_EMULATOR_HOST is the opt-in
        ("gs://b/p", {}, {"STORAGE_EMULATOR_HOST": "localhost:4443"}, None, False),
        ("gs://b/p", {}, {"STORAGE_EMULATOR_HOST": "gcs.example.com:4443"}, None, True),
        ("gs://b/p", {"endpoint": "http://127.0.0.1:4443", "allow_http": True}, {}, None, False),
        # TLS needs no opt-in
        ("s3://b/p", {"endpoint": "https://s3.example.com"}, {}, None, False),
        ("s3://b/p", {}, {"AWS_ENDPOINT_URL": "https://10.1.2.3:9000"}, None, False),
    ],
)
def test_plain_http_only_when_opted_in_and_a_warning_off_this_machine(
    url: str,
    options: dict[str, object],
    environment: dict[str, str],
    refused: str | None,
    warned: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from hiero_replay.sources import endpoints

    monkeypatch.setattr(endpoints, "_warned", set())
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with captured_logs() as logs:
        if refused is None:
            for _ in range(3):  # opening sends no request; a warning is logged once, not per source
                open_source(url, BucketsConfig(**options), work_dir=tmp_path)
        else:
            with pytest.raises(ConfigError, match=refused) as raised:
                open_source(url, BucketsConfig(**options), work_dir=tmp_path)
            assert raised.value.exit_code == 2
    assert sum(WARNING in str(entry["event"]) for entry in logs) == (1 if warned else 0)


def test_credentials_in_an_endpoint_never_reach_a_message_or_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hiero_replay.sources import endpoints

    monkeypatch.setattr(endpoints, "_warned", set())
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with captured_logs() as logs:
        open_source("s3://b/p", BucketsConfig(endpoint="http://admin:hunter2@10.1.2.3:9000", allow_http=True), work_dir=tmp_path)
    with pytest.raises(ConfigError) as raised:
        open_source("s3://b/p", BucketsConfig(endpoint="http://admin:hunter2@10.1.2.3:9000"), work_dir=tmp_path)
    assert logs and "10.1.2.3:9000" in str(logs) and "10.1.2.3:9000" in str(raised.value)
    assert "hunter2" not in str(logs) + str(raised.value)


def test_next_segment_is_fetched_while_the_current_one_replays(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    """With a cache too small to keep what the preflight verified, each segment's files must be
    downloaded again; the prefetcher does it while the segment before is replaying. The run's
    retries (a 503 burst in the preflight) are in its result and its metrics."""
    import os as _os

    from hiero_replay.cli.render import render_result
    from hiero_replay.observe.metrics import ReplayMetrics
    from hiero_replay.run import run_replay
    from hiero_replay.simulate.history import write_history
    from hiero_replay.simulate.state import ROUND_SECONDS_ENV
    from hiero_replay.states import read_state_metadata
    from hiero_replay.store import RunStore

    history = write_history(tmp_path / "history", bootstrap_round=60, cutover_round=61, target_round=120, last_block_round=120)
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, cache_max_bytes=1)
    bucket.upload_folder(history.blocks_dir)
    settings = load_settings(
        None,
        {
            "source": {"blocks": bucket.url},
            "replay": {"mode": "block-stream", "bootstrap_state": str(history.bootstrap_state), "node_id": 3,
                       "expected_state": str(history.expected_state), "segment_rounds": 10, "out": str(tmp_path / "out")},
            "buckets": bucket.options.model_dump(mode="json"),
            "work_dir": str(tmp_path / "work"),
            "metrics": {"textfile": str(tmp_path / "metrics.prom")},
            "simulate": True,
        },
    )  # fmt: skip
    s3_proxy.faults.append(Fault("status:503", ".blk.gz", times=3, method="GET"))
    _os.environ[ROUND_SECONDS_ENV] = "0.03"
    try:
        result = run_replay(settings, observer=ReplayMetrics(settings.metrics))
    finally:
        del _os.environ[ROUND_SECONDS_ENV]
    assert read_state_metadata(tmp_path / "out").hash == read_state_metadata(history.expected_state).hash
    assert result.source_retries == {bucket.url: 3}
    assert f"3 ({bucket.url})" in render_result(result).splitlines()[-1]
    assert 'hiero_replay_source_retries_total{source_type="s3"} 3.0' in (tmp_path / "metrics.prom").read_text()
    store = RunStore(tmp_path / "work")
    try:
        segments = store.segments(result.plan.run_id)
    finally:
        store.close()
    # Segment k+1's files are downloaded again between the end of segment k-1 and the end of
    # segment k, i.e. while segment k is staged and replayed (the first pair would mix with the preflight).
    ahead = 0
    for earlier, before, segment in zip(segments, segments[1:], segments[2:], strict=False):
        files = [Path(key).name for key in result.plan.segments[segment.idx - 1].files]
        fetched = [
            t for (m, p, _), t in zip(s3_proxy.requests, s3_proxy.request_times, strict=False) if m == "GET" and any(f in p for f in files)
        ]
        start, end = earlier.finished_at, before.finished_at
        assert start is not None and end is not None  # the run succeeded: every segment finished
        ahead += any(start <= t < end for t in fetched)
    assert ahead == len(segments) - 2


@pytest.mark.parametrize(
    ("compression", "key_of"),
    [(Compression.GZIP, block_file_name), (Compression.ZSTD, nested_block_key)],
    ids=["flat-36", "nested-4/4/4/4/3"],
)
def test_a_round_range_lists_only_its_part_of_a_large_bucket_folder(
    tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy, compression: Compression, key_of: Callable[[int], str]
) -> None:
    """1,200 blocks of one round (two listing pages): rounds 900..950 are found with a few one-page
    listings from a key and block reads; the folder is never paged through from its start."""
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint)
    paths = write_blocks(tmp_path / "b", 1, 1200, rounds_per_block=1, compression=compression, events_per_round=1, transactions_per_event=1)
    keys = [key_of(number) for number in range(len(paths))]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key, path: bucket.put(key, path.read_bytes()), keys, paths))
    s3_proxy.requests.clear()
    files = load_stream_files(bucket.source(), workers=8, rounds=(900, 950))
    lists = [path for _, path, _ in s3_proxy.requests if "list-type" in path]
    gets = [path for method, path, _ in s3_proxy.requests if method == "GET" and "list-type" not in path]
    assert not any("continuation-token" in path for path in lists)
    assert len(lists) <= 10 and len(gets) <= 53 + 10
    assert [f.name.block_number for f in files.blocks] == list(range(898, 951))  # block n holds round n + 1; 950 proves 949
    assert verify_stream_files(files, from_round=900, to_round=950).hash_chain == "verified"
    s3_proxy.requests.clear()  # inspect --from-round/--to-round reads the same way
    inspected = scan_source(bucket.source(), from_round=900, to_round=950)
    assert inspected.ok and [f.name.block_number for f in inspected.block_files] == list(range(899, 950))
    assert not any("continuation-token" in path for _, path, _ in s3_proxy.requests)

    # An incomplete range is a continuity error, never a shorter replay.
    bucket.delete(keys[920])
    gap = verify_stream_files(load_stream_files(bucket.source(), rounds=(900, 950)), from_round=900, to_round=950)
    assert [g.to_json()["first"] for g in gap.gaps if g.kind == "blocks"] == [920]
    beyond = verify_stream_files(load_stream_files(bucket.source(), rounds=(1150, 1300)), from_round=1150, to_round=1300)
    assert [(g.first, g.last) for g in beyond.gaps if g.kind == "rounds"] == [(1201, 1300)]


def test_a_failed_listing_page_is_listed_again_from_the_last_key_received(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, retries=4)
    keys = [f"{number:036d}.blk.gz" for number in range(1500)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: bucket.put(key, b"x"), keys))
    fault = Fault("status:503", "continuation-token", times=1, method="GET")
    s3_proxy.faults.append(fault)
    source = bucket.source()
    listed = [obj.key for obj in source.list()]
    assert listed == keys and fault.times == 0 and source.retries == 1
    assert any(f"start-after=streams%2F{keys[999]}" in path for _, path, _ in s3_proxy.requests)


def test_event_files_are_listed_and_read_only_up_to_the_last_round(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    """1,500 event files of one round (two listing pages): rounds 100..150 list one page and read
    about a hundred files past round 150, not the 1,350 after it."""
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint)
    paths = write_events(tmp_path / "e", 1, 1500, round_interval_ns=5 * 10**9, events_per_round=1, transactions_per_event=1)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda path: bucket.put(f"events_0.0.3/{path.name}", path.read_bytes()), paths))
    s3_proxy.requests.clear()
    files = load_stream_files(bucket.source(), workers=8, rounds=(100, 150))
    lists = [path for _, path, _ in s3_proxy.requests if "list-type" in path]
    gets = [path for method, path, _ in s3_proxy.requests if method == "GET" and "list-type" not in path]
    assert len(lists) == 1 and len(gets) <= 150 + 2 * EVENT_PROBE_INTERVAL
    last = files.events[-1].first_round
    assert files.events[0].first_round == 1 and last is not None and 150 < last <= 150 + EVENT_PROBE_INTERVAL
    assert verify_stream_files(files, from_round=100, to_round=150).hash_chain == "verified"


def test_an_event_file_damaged_in_transit_is_fetched_again_and_only_the_good_copy_cached(
    tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy
) -> None:
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint)
    paths = write_events(tmp_path / "e", 1, 60)
    bucket.upload_folder(tmp_path / "e")
    fault = Fault("flip", paths[1].name, times=1, method="GET")  # decodes, but its running hash breaks
    s3_proxy.faults.append(fault)
    source = bucket.source()
    inventory = scan_source(source, workers=4)
    assert fault.times == 0 and source.retries == 1
    assert inventory.ok and inventory.hash_chain == "verified"
    assert source.fetch(paths[1].name).read_bytes() == paths[1].read_bytes()


def test_a_refetched_copy_must_be_the_one_verified(tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy) -> None:
    """The cache lost the verified copies (size bound); one object was then replaced in the bucket by
    another well-formed block: fetching it again is refused, never handed on."""
    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint, cache_max_bytes=1, retries=2)
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 20, rounds_per_block=5)[0].parent)
    source = bucket.source()
    assert scan_source(source, workers=2).ok
    other = write_blocks(tmp_path / "other", 1, 20, rounds_per_block=5, seed=9)
    bucket.put(keys[2], other[2].read_bytes())
    assert source.fetch(keys[1]).read_bytes() == (tmp_path / "b" / keys[1]).read_bytes()
    with pytest.raises(CorruptFileError, match="not the copy verified") as raised:
        source.fetch(keys[2])
    assert raised.value.exit_code == 7


def test_a_cached_copy_gone_before_it_is_read_is_downloaded(
    tmp_path: Path, seaweed: SeaweedS3, s3_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evicted by another thread between ``get`` and the read (or a copy it may not read)."""
    from hiero_replay.sources.cache import FileCache

    bucket = make_bucket("s3", tmp_path, seaweed, None, endpoint=s3_proxy.endpoint)
    keys = bucket.upload_folder(write_blocks(tmp_path / "b", 1, 4, rounds_per_block=2)[0].parent)
    source = bucket.source()
    monkeypatch.setattr(FileCache, "get", lambda self, url, key: self.path_for(url, key).with_name("evicted"))
    assert source.read(keys[0]) == (tmp_path / "b" / keys[0]).read_bytes()
