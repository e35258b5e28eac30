"""Damaged copies of the real stream samples, as hypothesis strategies, for the fuzz properties.

Every strategy draws a sample and the places to damage as integers, so hypothesis shrinks a failure
to a small, readable description (which file, which mutation, which offset) instead of to bytes.
The samples are read from ``HIERO_REPLAY_SAMPLES`` when first drawn, never copied anywhere.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

from hypothesis import note, strategies as st

from hiero_replay.streams import messages
from hiero_replay.streams.compression import decompress
from hiero_replay.streams.events import read_event_file
from hiero_replay.streams.naming import Compression

from .conftest import SAMPLES

BLOCK, EVENTS, SIGNATURE = "block", "events", "signature"
#: Values that have broken readers elsewhere: zero, signs, 2^31, 2^32, 2^63, 2^64 and neighbours.
EXTREMES = sorted({0, 1, -1, *(sign * 2**bits + delta for bits in (31, 32, 62, 63, 64) for sign in (1, -1) for delta in (-1, 0, 1))})


@dataclass(frozen=True, repr=False)
class Sample:
    key: str  # path below the samples folder
    kind: str
    compression: Compression
    raw: bytes  # the file as stored
    content: bytes  # decompressed
    spans: tuple[tuple[int, int], ...]  # byte spans of the block items or events in ``content``

    def __repr__(self) -> str:
        return f"<sample {self.key}>"


def _kind(name: str) -> str | None:
    if ".blk" in name:
        return BLOCK
    if name.endswith("_sig"):
        return SIGNATURE
    if name.endswith((".evts", ".events")):
        return EVENTS
    return None


def block_items(data: bytes) -> list[tuple[int, int]]:
    """The spans of a ``Block``'s top-level ``items = 1`` fields (tag, length, payload)."""
    spans, position = [], 0
    while position < len(data):
        start = position
        assert data[position] == 0x0A, f"unexpected key {data[position]:#x} at {position}"
        length, position = read_varint(data, position + 1)
        position += length
        spans.append((start, position))
    return spans


def read_varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        if not byte & 0x80:
            return value, position
        shift += 7


def varint(value: int) -> bytes:
    value &= 2**64 - 1  # protobuf writes negative int64 values as ten-byte varints
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@lru_cache(maxsize=1)
def corpus() -> tuple[Sample, ...]:
    samples = []
    for path in sorted(SAMPLES.rglob("*")):
        kind = _kind(path.name)
        if kind is None or not path.is_file():
            continue
        raw = path.read_bytes()
        compression = next((c for c in (Compression.GZIP, Compression.ZSTD) if path.name.endswith(c.value)), Compression.NONE)
        content = decompress(raw, compression, name=path.name)
        if kind == BLOCK:
            spans = tuple(block_items(content))
        elif kind == EVENTS:
            spans = tuple((event.start, event.end) for event in read_event_file(content, name=path.name).events)
        else:
            spans = ()
        samples.append(Sample(str(path.relative_to(SAMPLES)), kind, compression, raw, content, spans))
    assert samples, f"no stream samples under {SAMPLES}"
    return tuple(samples)


@st.composite
def samples_of(draw: st.DrawFn, kind: str | None = None, *, compressed: bool = False) -> Sample:
    choices = [s for s in corpus() if (kind is None or s.kind == kind) and (not compressed or s.compression is not Compression.NONE)]
    sample = choices[draw(st.integers(0, len(choices) - 1))]
    note(f"sample {sample.key} ({len(sample.content)} bytes)")
    return sample


def _offset(draw: st.DrawFn, size: int) -> int:
    return draw(st.integers(0, max(size - 1, 0)))


def flip_bits(draw: st.DrawFn, data: bytes) -> bytes:
    damaged = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        if damaged:
            damaged[_offset(draw, len(damaged))] ^= 1 << draw(st.integers(0, 7))
    return bytes(damaged)


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def splice(draw: st.DrawFn, data: bytes, *, compressed: bool = False) -> bytes:
    """The start of this file followed by the end of another (any kind, same compression or not)."""
    other = draw(samples_of())
    tail = other.raw if compressed else other.content
    return data[: draw(st.integers(0, len(data)))] + tail[draw(st.integers(0, len(tail))) :]


def overwrite(draw: st.DrawFn, data: bytes) -> bytes:
    """A big-endian integer of 1, 4 or 8 bytes written over any offset (inflated lengths, odd values)."""
    width = draw(st.sampled_from((1, 4, 8)))
    value: int = draw(st.sampled_from(EXTREMES) | st.integers(-(2 ** (8 * width - 1)), 2 ** (8 * width - 1) - 1))
    value %= 2 ** (8 * width)
    at = _offset(draw, len(data) - width + 1)
    return data[:at] + value.to_bytes(width, "big") + data[at + width :]


def rearrange(draw: st.DrawFn, data: bytes, spans: tuple[tuple[int, int], ...]) -> bytes:
    """One block item or event duplicated, removed or moved."""
    if not spans:
        return data
    start, end = spans[draw(st.integers(0, len(spans) - 1))]
    piece, rest = data[start:end], data[:start] + data[end:]
    how = draw(st.sampled_from(("duplicate", "remove", "move")))
    note(f"{how} the span {start}..{end}")
    if how == "duplicate":
        return data[:end] + piece + data[end:]
    if how == "remove":
        return rest
    at = spans[draw(st.integers(0, len(spans) - 1))][0]
    at = at if at < start else at - (end - start)
    return rest[:at] + piece + rest[at:]


def inflate_block_item(draw: st.DrawFn, data: bytes, spans: tuple[tuple[int, int], ...]) -> bytes:
    """A top-level item whose length prefix claims more (up to 2^64) than the file holds."""
    start, end = spans[draw(st.integers(0, len(spans) - 1))]
    _, payload = read_varint(data, start + 1)
    claimed = draw(st.integers(end - payload + 1, 2**64 - 1) | st.sampled_from([2**31, 2**32, 2**62, 2**63, 2**64 - 1]))
    return data[: start + 1] + varint(claimed) + data[payload:]


def event_field(draw: st.DrawFn, data: bytes, spans: tuple[tuple[int, int], ...]) -> bytes:
    """An event's consensus seconds, nanos, round or order (its last 32 bytes, in both class
    versions) set to an extreme value: a time in year 10^11, a negative round, 2^63 - 1."""
    _, end = spans[draw(st.integers(0, len(spans) - 1))]
    field = draw(st.integers(0, 3))
    value = draw(st.sampled_from(EXTREMES) | st.integers(-(2**63), 2**63 - 1) | st.just(10**11 * 31_556_952))
    value = max(-(2**63), min(2**63 - 1, value))
    at = end - 32 + 8 * field
    note(f"event field {('seconds', 'nanos', 'round', 'order')[field]} at {at} := {value}")
    return data[:at] + struct.pack(">q", value) + data[at + 8 :]


def block_field(draw: st.DrawFn, data: bytes, spans: tuple[tuple[int, int], ...]) -> bytes:
    """The block number, the block timestamp's seconds or nanos, or a round number set to an extreme
    value (re-encoded, so the block still decodes): year 10^11, 2^64 - 1, negative nanos."""
    field = draw(st.sampled_from(("number", "seconds", "nanos", "round")))
    rounds = [span for span in spans if _item_key(data, span) == 0x1A]
    start, end = spans[0] if field != "round" or not rounds else rounds[draw(st.integers(0, len(rounds) - 1))]
    item = messages.BlockItem.FromString(data[read_varint(data, start + 1)[1] : end])
    if field == "nanos":
        value = draw(st.sampled_from([v for v in EXTREMES if -(2**31) <= v < 2**31]) | st.integers(-(2**31), 2**31 - 1))
    elif field == "seconds":
        value = draw(st.sampled_from([v for v in EXTREMES if -(2**63) <= v < 2**63]) | st.just(10**11 * 31_556_952))
    else:
        value = draw(st.sampled_from([v for v in EXTREMES if 0 <= v < 2**64]) | st.integers(0, 2**64 - 1))
    if field in ("seconds", "nanos"):
        timestamp = messages.Timestamp.FromString(item.block_header.block_timestamp)
        setattr(timestamp, field, value)
        item.block_header.block_timestamp = timestamp.SerializeToString()
    elif field == "number" or not rounds:
        item.block_header.number = value
    else:
        item.round_header.round_number = value
    note(f"block field {field} := {value}")
    encoded: bytes = item.SerializeToString()
    return data[:start] + b"\x0a" + varint(len(encoded)) + encoded + data[end:]


def _item_key(data: bytes, span: tuple[int, int]) -> int:
    return data[read_varint(data, span[0] + 1)[1]]


def mutate(draw: st.DrawFn, sample: Sample) -> bytes:
    """The decompressed ``sample`` damaged one way."""
    data, spans = sample.content, sample.spans
    ways = ["flip", "truncate", "splice", "overwrite", "rearrange"]
    if sample.kind == BLOCK:
        ways += ["inflate", "block-field"]
    if sample.kind == EVENTS:
        ways.append("event-field")
    way = draw(st.sampled_from(ways))
    note(f"mutation: {way}")
    if way == "flip":
        return flip_bits(draw, data)
    if way == "truncate":
        return truncate(draw, data)
    if way == "splice":
        return splice(draw, data)
    if way == "overwrite":
        return overwrite(draw, data)
    if way == "rearrange":
        return rearrange(draw, data, spans)
    if way == "inflate":
        return inflate_block_item(draw, data, spans)
    if way == "block-field":
        return block_field(draw, data, spans)
    return event_field(draw, data, spans)


@st.composite
def damaged(draw: st.DrawFn, kind: str) -> tuple[Sample, bytes]:
    sample = draw(samples_of(kind))
    return sample, mutate(draw, sample)


@st.composite
def damaged_compressed(draw: st.DrawFn) -> tuple[Sample, bytes]:
    """A compressed sample damaged as stored: flipped, cut, spliced, or with bytes appended."""
    sample = draw(samples_of(compressed=True))
    way = draw(st.sampled_from(("flip", "truncate", "splice", "overwrite", "append")))
    note(f"compressed mutation: {way}")
    if way == "flip":
        return sample, flip_bits(draw, sample.raw)
    if way == "truncate":
        return sample, truncate(draw, sample.raw)
    if way == "splice":
        return sample, splice(draw, sample.raw, compressed=True)
    if way == "overwrite":
        return sample, overwrite(draw, sample.raw)
    return sample, sample.raw + draw(st.binary(min_size=1, max_size=64))
