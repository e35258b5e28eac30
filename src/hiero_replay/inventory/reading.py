"""Reading stream files: download (or open), decompress, decode and hash each one, in parallel.

Every file becomes a ``StreamFile`` holding what was read or the typed error it met; nothing is
raised half-way, so ``inspect`` can show every problem at once.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice

from ..errors import HashMismatchError, ReplayError
from ..model.files import EventFileInfo, StreamFile
from ..sources.base import ReplaySource
from ..sources.read_ahead import ReadAhead
from ..sources.verified import checksum, read_verified
from ..streams.blocks import BlockFile, read_block
from ..streams.compression import check_stored_size, decompress, decompression_limit, set_decompression_limit
from ..streams.events import metadata_hash, read_event_file, read_event_signature
from ..streams.naming import FileKind, StreamFileName, signed_key

READ_WORKERS = max(2, os.cpu_count() or 1)
#: From this many files on, files are decoded and hashed in worker processes.
PROCESS_THRESHOLD = 256
#: Chunks of files handed to each worker process ahead of the results read so far.
CHUNKS_IN_FLIGHT = 4
# forkserver: safe next to threads (metrics server, prefetch) where plain fork is not.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

#: A listed stream file: its parsed name and size.
Listed = tuple[StreamFileName, int]


def read_stream_file(source: ReplaySource, name: StreamFileName, size: int, signature: Listed | None = None) -> StreamFile:
    """Read and decode one file (and its signature file), each refused unread when it is listed
    larger than a stream file may be; from a bucket, a copy that does not decode (or whose events do not
    hash to its end hash: damaged in transit) is fetched again, and only a good one is remembered."""
    try:
        check_stored_size(size, name=name.key)
        if name.kind is FileKind.BLOCK:
            block, stored = read_verified(source, name.key, lambda raw: (read_block(_content(name, raw), name=name.key), checksum(raw)))
            return StreamFile(name, size, block=block, checksum=stored)

        def decode(raw: bytes) -> tuple[EventFileInfo, bytes, int]:
            data = _content(name, raw)
            return EventFileInfo.of(read_event_file(data, name=name.key)), data, checksum(raw)

        info, data, stored = read_verified(source, name.key, decode, damaged=lambda decoded: not decoded[0].running_hash_ok)
        if signature is not None:
            fault = _check_signature(source, signature, data, info)
            if fault is not None:
                info = info.with_signature_fault(fault)
        return StreamFile(name, size, events=info, checksum=stored)
    except ReplayError as error:
        return StreamFile(name, size, error=error)


def _content(name: StreamFileName, raw: bytes) -> bytes:
    return decompress(raw, name.compression, name=name.key)


def _check_signature(source: ReplaySource, listed: Listed, data: bytes, info: EventFileInfo) -> HashMismatchError | None:
    signature, size = listed
    check_stored_size(size, name=signature.key)
    sig = read_verified(source, signature.key, lambda raw: read_event_signature(_content(signature, raw), name=signature.key))
    file_hash = hashlib.sha384(data).digest()
    if sig.file_hash != file_hash:
        return HashMismatchError(
            f"{signature.key}: the file hash it signs is not the SHA-384 of its event file.",
            expected=sig.file_hash,
            actual=file_hash,
            hint="The event file or its signature file was altered; fetch both again.",
            file=signature.key,
        )
    meta = metadata_hash(info.start_hash, info.end_hash)
    if sig.metadata_hash != meta:
        return HashMismatchError(
            f"{signature.key}: the metadata hash it signs does not match its event file's running hashes.",
            expected=sig.metadata_hash,
            actual=meta,
            file=signature.key,
        )
    return None


def _read_chunk(source: ReplaySource, chunk: list[tuple[StreamFileName, int, Listed | None]]) -> list[_Read]:
    """In a worker: what reading each file produced, without its name (the caller has it)."""
    read: list[_Read] = []
    for job in chunk:
        found = read_stream_file(source, *job)
        read.append((found.block or found.events or found.error, found.checksum))
    return read


#: What a worker sends back for one file: the block, the event file's summary, or the error; and
#: the checksum of its bytes.
_Read = tuple[BlockFile | EventFileInfo | ReplayError | None, int | None]


def _stream_file(job: tuple[StreamFileName, int, Listed | None], read: _Read) -> StreamFile:
    name, size, _ = job
    found, stored = read
    if isinstance(found, BlockFile):
        if found.number == name.block_number:  # one int object for both: a scan holds a million of them
            object.__setattr__(found, "number", name.block_number)
        return StreamFile(name, size, block=found, checksum=stored)
    if isinstance(found, EventFileInfo):
        return StreamFile(name, size, events=found, checksum=stored)
    return StreamFile(name, size, error=found)


def _in_processes(
    source: ReplaySource, jobs: Iterator[tuple[StreamFileName, int, Listed | None]], count: int, workers: int
) -> list[StreamFile]:
    """Read in worker processes, a chunk at a time, with a bounded window of chunks in flight: the
    jobs are never all materialised, and results are kept in listing order as they arrive."""
    processes = min(workers, os.cpu_count() or 1)
    chunk_size = max(1, min(64, count // (processes * 8)))
    files: list[StreamFile] = []
    pending: deque[tuple[list[tuple[StreamFileName, int, Listed | None]], Future[list[_Read]]]] = deque()
    context = multiprocessing.get_context(_START_METHOD)
    with ProcessPoolExecutor(processes, mp_context=context, initializer=set_decompression_limit, initargs=(decompression_limit(),)) as pool:
        while True:
            while len(pending) < processes * CHUNKS_IN_FLIGHT and (chunk := list(islice(jobs, chunk_size))):
                pending.append((chunk, pool.submit(_read_chunk, source, chunk)))
            if not pending:
                return files
            chunk, future = pending.popleft()
            files.extend(map(_stream_file, chunk, future.result()))


def _drained(entries: Sequence[Listed]) -> Iterator[Listed]:
    """The entries in order; from a list, each is removed as it is taken, so that a million listed
    names do not outlive their turn (the caller hands its lists over)."""
    if not isinstance(entries, list):
        yield from entries
        return
    entries.reverse()
    while entries:
        yield entries.pop()


def read_all(
    source: ReplaySource,
    blocks: Sequence[Listed],
    events: Sequence[Listed],
    signatures: dict[str, Listed],
    workers: int,
) -> tuple[list[StreamFile], list[StreamFile]]:
    """Read the listed blocks and event files (with their signature files), in listing order. Lists
    given are emptied as they are read."""
    count, block_count = len(blocks) + len(events), len(blocks)
    jobs = chain(
        ((name, size, None) for name, size in _drained(blocks)),
        ((name, size, signatures.get(signed_key(name))) for name, size in _drained(events)),
    )
    if source.features.cpu_bound_reads:
        # Processes for large sets of local files: decoding hundreds of small items per block
        # holds the GIL. Small sets are read here, one file after another: threads would only take
        # turns holding the GIL (and measured 10-15% slower), processes cost more to start.
        if count >= PROCESS_THRESHOLD and min(workers, os.cpu_count() or 1) > 1:
            files = _in_processes(source, jobs, count, workers)
        else:
            files = [read_stream_file(source, *job) for job in jobs]
    else:
        # Downloads run ahead in many threads; this one decodes. Decoding holds the GIL: two
        # decoding threads took turns and cost ~20% more CPU, for fewer files per second.
        job_list = list(jobs)
        keys = []
        for name, _, signature in job_list:
            keys += [name.key] if signature is None else [name.key, signature[0].key]
        with ReadAhead(source, keys, workers) as downloads:
            files = [read_stream_file(downloads, *job) for job in job_list]
    events_read = files[block_count:]
    del files[block_count:]
    return files, events_read
