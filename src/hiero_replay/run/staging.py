"""Staging: each segment gets its own input folder, holding exactly its files under the names its
backend reads, and an output folder the way its backend wants it."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from ..backends.base import ReplayBackend
from ..errors import SourceError
from ..logs import get_logger
from ..model.plan import ReplayPlan, Segment
from ..sources.base import ReplaySource
from ..streams.compression import decompress
from ..streams.naming import Compression, parse_stream_file_name

#: Fetches of one file while its local copy keeps disappearing before it is staged (a cache that
#: evicted it meanwhile: fetching it again downloads it again).
FETCH_ATTEMPTS = 3


def stage_inputs(segment: Segment, source: ReplaySource, backend: ReplayBackend) -> int:
    """Hard links where possible, copies across file systems, decompressed copies where the
    backend cannot read the stored compression. Returns the bytes fetched from the source."""
    segment.input_dir.mkdir(parents=True, exist_ok=True)
    fetched = 0
    for key in segment.files:
        stored = parse_stream_file_name(key)
        assert stored is not None, key
        staged_name, compression = backend.staged_name(stored)
        target = segment.input_dir / staged_name
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            original = source.fetch(key)
            try:
                size = original.stat().st_size
                if not target.exists():
                    _stage(original, target, key, stored.compression, compression)
            except FileNotFoundError as error:
                if attempt == FETCH_ATTEMPTS:
                    raise SourceError(
                        f"{key}: its local copy disappeared before it could be staged, {FETCH_ATTEMPTS} times.",
                        hint="Something deletes files from the cache while the run uses them: another process sharing the"
                        " cache, or a cache_max_bytes too small to hold one segment's files.",
                        file=key,
                    ) from error
                continue
            fetched += size
            break
    return fetched


def _stage(original: Path, target: Path, key: str, stored: Compression, wanted: Compression) -> None:
    temporary = target.with_name(target.name + ".tmp")
    if stored is not wanted:
        temporary.write_bytes(decompress(original.read_bytes(), stored, name=key))
        os.replace(temporary, target)
        return
    try:
        os.link(original, target)
    except OSError:  # another file system (a copy), or no original (the copy fails the same way)
        shutil.copyfile(original, temporary)
        os.replace(temporary, target)


def prepare_output(out_dir: Path, backend: ReplayBackend) -> None:
    """Remove what an earlier attempt left in ``out_dir``; create it empty for a backend that needs it
    to exist (apply-blocks on main writes into ``--out``, ``reference/hiero-tools.md`` §7.1)."""
    if out_dir.is_dir():
        shutil.rmtree(out_dir)
    if not backend.creates_output_folder:
        out_dir.mkdir(parents=True)


def keep_mismatched_output(segment: Segment, run_dir: Path) -> Path | None:
    """Move the output that did not match out of the way, under a name no earlier attempt took."""
    if not segment.out_dir.exists():
        return None
    kept = run_dir / f"mismatched-state-segment-{segment.index}"
    attempt = 1
    while kept.exists():
        attempt += 1
        kept = run_dir / f"mismatched-state-segment-{segment.index}-{attempt}"
    try:
        os.replace(segment.out_dir, kept)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        shutil.move(segment.out_dir, kept)  # --out on another file system than the work directory
    return kept


def remove_intermediates(plan: ReplayPlan) -> None:
    """Once every segment is verified and the output is in place: each segment's staged input and
    intermediate state go (states are GBs; a schedule would fill the disk), its logs stay. A run that
    fails or is interrupted keeps them: a resume goes on from its newest checkpoint."""
    for segment in plan.segments:
        for path in (segment.input_dir, segment.final_dir):
            if path == plan.out or not path.is_relative_to(plan.run_dir) or path.is_symlink() or not path.is_dir():
                continue
            try:
                shutil.rmtree(path)
            except OSError as error:  # the run succeeded all the same
                get_logger().warning("intermediate files of the run not removed", folder=str(path), reason=str(error))
