"""The readers end only in typed errors, whatever the bytes; decompression has a memory bound.

Properties over damaged copies of the real samples (``tests/mutations.py``): every reader either
succeeds, with values later code can use, or raises a ``ReplayError``. ``make test`` runs a small,
derandomized number of examples; ``make fuzz`` runs the same properties with many more
(``HIERO_REPLAY_FUZZ_PROFILE=fuzz``, ``HIERO_REPLAY_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import gzip
import os
import re
import struct

import pytest
from hypothesis import HealthCheck, event, example, given, settings, strategies as st

from hiero_replay.errors import CorruptFileError, ReplayError
from hiero_replay.streams import messages
from hiero_replay.streams.blocks import read_block, read_round_items
from hiero_replay.streams.compression import MAX_COMPRESSION_RATIO, MAX_DECOMPRESSED_BYTES, compress, decompress, output_bound
from hiero_replay.streams.decoding import MAX_LONG
from hiero_replay.streams.events import read_event_file, read_event_signature
from hiero_replay.streams.naming import Compression, FileKind, block_file_name, parse_stream_file_name
from hiero_replay.streams.timestamps import MAX_SECONDS, MIN_SECONDS, format_consensus_time, parse_consensus_time
from hiero_replay.streams.validate import validate_stream_file

from .bombs import GIB, gzip_zeros, peak_while, zstd_zeros
from .conftest import SAMPLES
from .mutations import BLOCK, EVENTS, SIGNATURE, Sample, damaged, damaged_compressed, samples_of, varint

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,  # the same examples on every run: make test stays deterministic
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("HIERO_REPLAY_FUZZ_EXAMPLES", "5000")),
    deadline=None,
    database=None,
    print_blob=True,  # a failure prints the @reproduce_failure line that replays it
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HIERO_REPLAY_FUZZ_PROFILE", "ci"))
#: Cheap properties (names, times) run three times as many examples.
CHEAP = settings(PROFILE, max_examples=PROFILE.max_examples * 3)

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"stream samples not found at {SAMPLES} (set HIERO_REPLAY_SAMPLES)")


def _outcome(what: str, error: ReplayError | None = None) -> None:
    """Counted by hypothesis (``--hypothesis-show-statistics``): how often damage was detected."""
    event(f"{what}: {'ok' if error is None else type(error).__name__}")


def _usable_time(nanos: int) -> None:
    """A time a reader returned: inside the range file names can express, and formattable."""
    assert MIN_SECONDS * 10**9 <= nanos < (MAX_SECONDS + 1) * 10**9
    assert parse_consensus_time(format_consensus_time(nanos)) == nanos


@needs_samples
@settings(PROFILE)
@given(damaged(BLOCK))
def test_block_reader_ends_in_typed_errors(case: tuple[Sample, bytes]) -> None:
    sample, data = case
    try:
        block = read_block(data, name=sample.key)
    except ReplayError as error:
        _outcome("read_block", error)
        assert isinstance(error, CorruptFileError) and error.file == sample.key
        return
    _outcome("read_block")
    assert 0 <= block.number <= MAX_LONG
    assert all(0 <= number <= MAX_LONG for number in block.rounds)
    _usable_time(block.timestamp_ns)
    if block.record_file is not None:
        _usable_time(block.record_file.creation_time_ns)
    assert [number for number, _ in read_round_items(data, name=sample.key)] == list(block.rounds)


@needs_samples
@settings(PROFILE)
@given(damaged(EVENTS))
def test_event_reader_ends_in_typed_errors(case: tuple[Sample, bytes]) -> None:
    sample, data = case
    try:
        parsed = read_event_file(data, name=sample.key)
    except ReplayError as error:
        _outcome("read_event_file", error)
        assert isinstance(error, CorruptFileError) and error.file == sample.key
        return
    _outcome("read_event_file" if parsed.running_hash_ok else "read_event_file: running hash differs")
    assert parsed.events and len(parsed.start_hash) == len(parsed.end_hash) == 48
    for stream_event in parsed.events:
        assert 0 <= stream_event.round_received <= MAX_LONG
        _usable_time(stream_event.consensus_time_ns)
    if data == sample.content:
        assert parsed.running_hash_ok


@needs_samples
@settings(PROFILE)
@given(damaged(SIGNATURE))
def test_event_signature_reader_ends_in_typed_errors(case: tuple[Sample, bytes]) -> None:
    sample, data = case
    try:
        signature = read_event_signature(data, name=sample.key)
    except ReplayError as error:
        _outcome("read_event_signature", error)
        assert isinstance(error, CorruptFileError) and error.file == sample.key
        return
    _outcome("read_event_signature")
    assert len(signature.file_hash) == len(signature.metadata_hash) == 48


@needs_samples
@settings(PROFILE)
@given(damaged_compressed())
def test_decompress_and_validate_end_in_typed_errors(case: tuple[Sample, bytes]) -> None:
    """What a download goes through before it is cached: decompression, then decoding."""
    sample, data = case
    key = sample.key.rsplit("/", 1)[-1]
    if parse_stream_file_name(key) is None:  # fixture names such as v6-block.blk.gz: validated as block 7
        key = block_file_name(7, sample.compression)
    try:
        content = decompress(data, sample.compression, name=key)
    except ReplayError as error:
        _outcome("decompress", error)
        assert isinstance(error, CorruptFileError) and error.file == key
    else:
        _outcome("decompress")
        assert isinstance(content, bytes)
    try:
        validate_stream_file(key, data)
    except ReplayError as error:
        _outcome("validate_stream_file", error)
        assert error.file == key
    else:
        _outcome("validate_stream_file")


@needs_samples
@settings(PROFILE)
@given(damaged(BLOCK) | damaged(EVENTS) | damaged(SIGNATURE), st.sampled_from(list(Compression)))
def test_validate_ends_in_typed_errors_for_any_name_and_content(case: tuple[Sample, bytes], compression: Compression) -> None:
    """Damaged content stored under each kind of name, compressed the way the name says."""
    sample, data = case
    stem = sample.key.rsplit("/", 1)[-1].split(".")[0]
    event_name = "2025-02-14T00_00_00.005716199Z.evts"
    key = {BLOCK: f"{stem}.blk", EVENTS: event_name, SIGNATURE: event_name + "_sig"}[sample.kind]
    if sample.kind == BLOCK and not stem.isdigit():
        key = "000000000000000000000000000000000007.blk"
    if sample.kind != SIGNATURE:
        key += compression.value
    else:
        compression = Compression.NONE
    try:
        validate_stream_file(key, compress(data, compression))
    except ReplayError as error:
        _outcome("validate_stream_file", error)
        assert error.file == key
    else:
        _outcome("validate_stream_file")


@needs_samples
@settings(PROFILE)
@given(samples_of(compressed=True), samples_of(compressed=True))
def test_concatenated_members_and_frames_decompress_to_the_concatenation(first: Sample, second: Sample) -> None:
    """Multi-member gzip and multi-frame zstd: every member, in order (zstd used to stop at the first frame)."""
    for compression in (Compression.GZIP, Compression.ZSTD):
        joined = compress(first.content, compression) + compress(second.content, compression)
        assert decompress(joined, compression, name="joined") == first.content + second.content


@st.composite
def stream_file_names(draw: st.DrawFn) -> str:
    """Names shaped like stream files: fields in and out of range, odd digits, a trailing newline."""

    def field(low: int, high: int, width: int) -> str:  # out of range one time in ten
        wild = draw(st.integers(0, 9)) == 0
        return f"{draw(st.integers(0, 10**width - 1) if wild else st.integers(low, high)):0{width}d}"

    if draw(st.booleans()):
        date, clock = f"{field(1, 9999, 4)}-{field(1, 12, 2)}-{field(1, 31, 2)}", f"{field(0, 23, 2)}_{field(0, 59, 2)}_{field(0, 59, 2)}"
        stamp = f"{date}T{clock}"
        digits = draw(st.text("0123456789", max_size=12) if draw(st.integers(0, 9)) == 0 else st.text("0123456789", min_size=1, max_size=9))
        name = f"{stamp}.{digits}Z.{draw(st.sampled_from(['evts', 'evts', 'evts.gz', 'evts_sig', 'evts_sig.gz', 'rcd']))}"
    else:
        name = f"{draw(st.text('0123456789', min_size=1, max_size=40))}.blk{draw(st.sampled_from(['', '.gz', '.zstd', '.mf', '.gz.tmp']))}"
    if draw(st.integers(0, 9)) == 0:  # one digit from another script
        at = draw(st.integers(0, len(name) - 1))
        if name[at].isdigit():
            name = name[:at] + draw(st.sampled_from("\u0663\u06f3\u0969\u09e9\u0ce9\uff13\U0001d7d1")) + name[at + 1 :]
    return name + ("" if draw(st.integers(0, 9)) else draw(st.sampled_from(["\n", " ", "/", ".tmp"])))


@settings(CHEAP)
@given(
    st.lists(st.sampled_from(["blocks", "0000", "0123", "events_0.0.3", "\u0660\u0661\u0662\u0663", ""]), max_size=5),
    st.one_of(stream_file_names(), stream_file_names(), st.text(max_size=60)),
)
@example([], "2021-02-30T25_61_61.000000000Z.evts")
@example([], "0000-01-01T00_00_00.000000000Z.evts")
@example([], "2021-13-01T00_00_00.000000000Z.evts_sig")
@example([], "\uff12\uff10\uff12\uff11-04-18T04_23_37.200170000Z.evts")  # full-width digits
@example(["0000", "0000", "0000", "0000"], "\u0660\u0660\u0661.blk.zstd")  # Arabic-Indic digits
@example([], "000000000000000000000000000000000001.blk\n")
def test_stream_file_names_are_recognised_or_not_never_an_exception(folders: list[str], name: str) -> None:
    key = "/".join([*folders, name])
    parsed = parse_stream_file_name(key)
    event(f"parse_stream_file_name: {'not a stream file' if parsed is None else parsed.kind.value}")
    if parsed is None:
        return
    assert name.isascii() and "\n" not in name, f"{key!r} is no name a node writes"
    if parsed.kind is FileKind.BLOCK:
        match = re.fullmatch(r"(\d+)\.blk.*", name)
        assert match is not None and parsed.block_number is not None
        digits = match.group(1)
        assert parsed.block_number >= int(digits)  # nested names add their folders' digits in front
    else:
        stamp = name.split("Z.")[0]
        assert parsed.consensus_time_ns is not None
        written = format_consensus_time(parsed.consensus_time_ns).replace(":", "_").removesuffix("Z")
        # The name is the time it stands for: same date and clock, fraction truncated to the name's digits.
        assert written[: len(stamp)] == stamp and set(written[len(stamp) :]) <= {"0"}


@settings(CHEAP)
@given(st.integers() | st.integers(-(2**64) * 10**9, 2**64 * 10**9))
@example(2**63 * 10**9)
@example(10**11 * 31_556_952 * 10**9)
@example(-(2**63) * 10**9 - 1)
def test_any_time_formats_and_the_range_of_names_round_trips(nanos: int) -> None:
    text = format_consensus_time(nanos)
    assert re.fullmatch(r"[+-]?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", text)
    if MIN_SECONDS * 10**9 <= nanos < (MAX_SECONDS + 1) * 10**9:
        assert parse_consensus_time(text) == nanos
    else:
        with pytest.raises(ValueError):
            parse_consensus_time(text)


# Regressions and resource bounds: each input below once crashed, was misread or allocated without bound.
def test_the_gzip_bomb_builder_makes_real_gzip() -> None:
    assert gzip.decompress(gzip_zeros(4 * 2**20)) == bytes(4 * 2**20)


@pytest.mark.parametrize("limit", [None, 8 * 2**20])
def test_a_gzip_bomb_ends_in_a_corrupt_file_error_within_the_bound(limit: int | None) -> None:
    bomb = gzip_zeros(GIB)  # ~1 MiB inflating to 1 GiB
    assert len(bomb) < 1.1 * 2**20
    error, peak = peak_while(lambda: decompress(bomb, Compression.GZIP, name="bomb.blk.gz", limit=limit))
    assert isinstance(error, CorruptFileError) and error.exit_code == 7 and error.file == "bomb.blk.gz", error
    assert "bomb.blk.gz" in str(error) and "more than" in str(error)
    bound = output_bound(len(bomb), limit)
    assert bound == (limit or MAX_DECOMPRESSED_BYTES)
    assert peak < 1.25 * bound + 4 * 2**20 < GIB / 3


def test_a_zstd_bomb_that_declares_its_size_is_refused_before_decoding() -> None:
    bomb = zstd_zeros(GIB, declare_size=True)
    error, peak = peak_while(lambda: decompress(bomb, Compression.ZSTD, name="bomb.blk.zstd"))
    assert isinstance(error, CorruptFileError) and error.file == "bomb.blk.zstd" and "declares 1,073,741,824 bytes" in str(error)
    assert peak < 2**20


def test_a_zstd_bomb_without_a_size_is_stopped_by_the_ratio_guard() -> None:
    bomb = zstd_zeros(GIB, declare_size=False)  # ~32 KiB: 30,000 times smaller than its output
    bound = output_bound(len(bomb))
    assert bound == MAX_COMPRESSION_RATIO * len(bomb) < MAX_DECOMPRESSED_BYTES
    error, peak = peak_while(lambda: decompress(bomb, Compression.ZSTD, name="bomb.blk.zstd"))
    assert isinstance(error, CorruptFileError) and error.file == "bomb.blk.zstd"
    assert peak < 1.25 * bound + 8 * 2**20


def test_a_zstd_frame_that_outgrows_its_declared_size_is_stopped() -> None:
    frame = bytearray(zstd_zeros(64 * 2**20, declare_size=True))
    assert frame[4] >> 6 == 2 and not frame[4] & 0x20  # a 4-byte content size after the window byte
    frame[6:10] = (1000).to_bytes(4, "little")
    error, peak = peak_while(lambda: decompress(bytes(frame), Compression.ZSTD, name="liar.blk.zstd"))
    assert isinstance(error, CorruptFileError) and error.file == "liar.blk.zstd"
    assert peak < 2**20


def test_zstd_data_after_the_last_frame_is_refused() -> None:
    """It used to be ignored: a frame followed by anything decoded as just the frame."""
    frame = compress(b"block", Compression.ZSTD)
    assert decompress(frame, Compression.ZSTD, name="ok.blk.zstd") == b"block"
    with pytest.raises(CorruptFileError, match="after a complete zstd frame"):
        decompress(frame + b"junk", Compression.ZSTD, name="junk.blk.zstd")
    with pytest.raises(CorruptFileError, match="after a complete gzip member"):
        decompress(compress(b"block", Compression.GZIP) + b"junk", Compression.GZIP, name="junk.blk.gz")


def test_many_members_decode_in_linear_work() -> None:
    """Each member's leftover input is copied by zlib: fed whole, 50,000 members copied ~25 GB."""
    assert decompress(compress(b"", Compression.GZIP) * 50_000, Compression.GZIP, name="members.blk.gz") == b""
    assert decompress(compress(b"", Compression.ZSTD) * 50_000, Compression.ZSTD, name="frames.blk.zstd") == b""


def test_members_past_one_output_step_are_followed_by_members_and_padding() -> None:
    """A member that inflates to more than one output step (1 MiB) and ends next to more input: its
    leftover was counted twice (``unconsumed_tail`` and ``unused_data``), so the next member was
    looked for inside it, and a genuine file was refused as a bomb or as junk after its member."""
    large, small = os.urandom(2**19) + bytes(2 * 2**20), b"next"
    member = compress(large, Compression.GZIP)
    assert decompress(member + compress(small, Compression.GZIP), Compression.GZIP, name="two.blk.gz") == large + small
    assert decompress(member + bytes(5), Compression.GZIP, name="padded.blk.gz") == large
    assert decompress(member * 3, Compression.GZIP, name="three.blk.gz") == large * 3


def test_gzip_members_are_inflated_by_zlib_ng(monkeypatch: pytest.MonkeyPatch) -> None:
    """The faster inflater (a third of a preflight's CPU per block), one decompressor per member."""
    from zlib_ng import zlib_ng  # the module hiero_replay.streams.compression inflates with

    made: list[dict[str, int]] = []
    real = zlib_ng.decompressobj

    def counted(**kwargs: int) -> zlib_ng._Decompress:
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(zlib_ng, "decompressobj", counted)
    joined = compress(b"first", Compression.GZIP) + compress(b"second", Compression.GZIP)
    assert decompress(joined, Compression.GZIP, name="two.blk.gz") == b"firstsecond"
    assert made == [{"wbits": 31}, {"wbits": 31}]


@needs_samples
def test_an_inflated_event_length_allocates_nothing() -> None:
    path = SAMPLES / "events/v5-2025-testnet-pbj/2025-02-14T00_00_00.005716199Z.evts"
    data = bytearray(path.read_bytes())
    first = read_event_file(bytes(data), name=path.name).events[0]
    data[first.start + 12 : first.start + 16] = struct.pack(">i", 2**31 - 1)  # the GossipEvent's length
    error, peak = peak_while(lambda: read_event_file(bytes(data), name=path.name))
    assert isinstance(error, CorruptFileError) and "terminates early" in str(error)
    assert peak < 2 * len(data)


def _block(*items: bytes) -> bytes:
    return b"".join(b"\x0a" + varint(len(item)) + item for item in items)


def _header(minor: int = 60, seconds: int = 1_700_000_000, number: int = 7) -> bytes:
    header = messages.BlockItem(block_header=messages.BlockHeader(number=number))
    header.block_header.hapi_proto_version.minor = minor
    header.block_header.block_timestamp = messages.Timestamp(seconds=seconds).SerializeToString()
    encoded: bytes = header.SerializeToString()
    return encoded


def test_an_inflated_block_item_length_allocates_nothing() -> None:
    data = _block(_header(), b"\x3a\x03abc")
    damaged = data[:1] + varint(2**62) + data[1 + len(varint(len(_header()))) :]
    error, peak = peak_while(lambda: read_block(damaged, name="7.blk"))
    assert isinstance(error, CorruptFileError) and error.file == "7.blk"
    assert peak < 2**20


@pytest.mark.parametrize(
    "data, reason",
    [
        # Items that are no BlockItem were accepted when the block had no algorithm to hash it with.
        (_block(_header(), b"\x09\x00\x00\x00\x00\x00\x00\x00\x00"), "not a length-delimited field"),
        (_block(_header(), b"\x9a\x00\x02\x08\x05"), "not minimally encoded"),  # round header 0x1a, overlong
        # Values no node writes, which later code (time formatting, the SQLite run store) cannot hold.
        (_block(_header(seconds=10**11 * 31_556_952)), "block timestamp is out of range"),
        (_block(_header(number=2**64 - 1)), "block number 18446744073709551615 is out of range"),
        (_block(_header(), messages.BlockItem(round_header=messages.RoundHeader(round_number=2**63)).SerializeToString()), "round number"),
    ],
)
def test_blocks_no_node_writes_are_corrupt_files(data: bytes, reason: str) -> None:
    with pytest.raises(CorruptFileError, match=reason):
        read_block(data, name="7.blk")


@needs_samples
@pytest.mark.parametrize("field, value", [(0, 10**11 * 31_556_952), (0, -(2**63)), (1, -1), (1, 10**9), (2, -1)])
def test_events_with_times_or_rounds_no_node_writes_are_corrupt_files(field: int, value: int) -> None:
    path = SAMPLES / "events/v5-2021-consecutive/2021-04-18T04_23_37.200170000Z.evts"
    data = bytearray(path.read_bytes())
    event = read_event_file(bytes(data), name=path.name).events[3]
    data[event.end - 32 + 8 * field : event.end - 24 + 8 * field] = struct.pack(">q", value)  # seconds, nanos, round
    with pytest.raises(CorruptFileError, match="out of range") as raised:
        read_event_file(bytes(data), name=path.name)
    assert f"at offset {event.start}" in str(raised.value)


@pytest.mark.parametrize(
    "name",
    [
        "2021-02-30T25_61_61.000000000Z.evts",  # normalised to 2021-03-03T02:02:01 before
        "2021-13-01T00_00_00.000000000Z.evts",  # ValueError before
        "0000-01-01T00_00_00.000000000Z.evts_sig",  # ValueError before
        "2023-02-29T00_00_00.000000000Z.evts.gz",
        "\uff12\uff10\uff12\uff11-04-18T04_23_37.200170000Z.evts",  # full-width digits were read as 2021
        "\u0661\u0662\u0663.blk",  # Arabic-Indic digits were read as block 123
        "000000000000000000000000000000000001.blk\n",  # "$" matched before the newline
    ],
)
def test_names_that_are_not_real_times_or_numbers_are_not_stream_files(name: str) -> None:
    assert parse_stream_file_name(name) is None
    assert parse_stream_file_name(f"events_0.0.3/{name}") is None


def test_absurd_times_format_instead_of_raising() -> None:
    # time.gmtime raised OverflowError (or OSError) for these.
    assert format_consensus_time(2**63 * 10**9) == "+292277026596-12-04T15:30:08.000000000Z"
    assert format_consensus_time(-(2**63) * 10**9).startswith("-292277022657-01-27T")
    assert format_consensus_time(10**11 * 31_556_952 * 10**9).startswith("+100000001970-")
    assert format_consensus_time(0) == "1970-01-01T00:00:00.000000000Z"
