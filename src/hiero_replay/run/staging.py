"""Staging: each segment gets its own input folder, holding exactly its files under the names its
backend reads, and an output folder the way its backend wants it."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..backends.base import ReplayBackend
from ..errors import ConfigError, MissingInputError, SourceError
from ..logs import get_logger
from ..model.plan import ReplayPlan, Segment
from ..sources.base import ReplaySource
from ..sources.verified import file_checksum, not_the_verified_copy
from ..streams.compression import decompress
from ..streams.naming import Compression, parse_stream_file_name

#: Fetches of one file while its local copy keeps disappearing before it is staged (a cache that
#: evicted it meanwhile: fetching it again downloads it again).
FETCH_ATTEMPTS = 3


def _planned(segment: Segment) -> Iterator[tuple[str, int | None]]:
    """Each file of the segment, with the checksum the plan verified it by (``None``: not recorded)."""
    checksums = segment.checksums if segment.checksums is not None else (None,) * len(segment.files)
    return zip(segment.files, checksums, strict=True)


def fetch_planned(source: ReplaySource, key: str, checksum: int | None) -> Path:
    """The source's file of ``key``, checked to be the very copy the plan verified. A copy that
    disappears meanwhile (a cache's, evicted) raises ``FileNotFoundError``: fetch it again."""
    original = source.fetch(key)
    if checksum is None:
        return original
    where = f"{source.url}/{key}"
    try:
        unchanged = file_checksum(original) == checksum
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise SourceError(f"Cannot read {where}: {error.strerror}.", file=key) from error
    if not unchanged:
        raise not_the_verified_copy(
            where, key, since="when the run was planned",
            hint="Put back the files the run was planned with and resume it, or start a new run (it verifies the files as they are now).",
        )  # fmt: skip
    return original


def check_local_inputs(segments: Iterable[Segment], sources: dict[str, ReplaySource]) -> None:
    """The files of ``segments`` that are on this machine are still there, and still the copies the
    plan verified (a bucket's are checked as they are staged: checking them here would download them)."""
    for segment in segments:
        source = sources[segment.source]
        if source.features.local:
            for key, checksum in _planned(segment):
                try:
                    fetch_planned(source, key, checksum)
                except FileNotFoundError as error:
                    raise MissingInputError(f"{source.url}/{key} disappeared while it was being read.", file=key) from error


def stage_inputs(segment: Segment, source: ReplaySource, backend: ReplayBackend) -> int:
    """Hard links where possible, copies across file systems, decompressed copies where the
    backend cannot read the stored compression; each file checked to be the copy the plan verified.
    Returns the bytes fetched from the source."""
    segment.input_dir.mkdir(parents=True, exist_ok=True)
    fetched = 0
    for key, checksum in _planned(segment):
        stored = parse_stream_file_name(key)
        assert stored is not None, key
        staged_name, compression = backend.staged_name(stored)
        target = segment.input_dir / staged_name
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                original = fetch_planned(source, key, checksum)
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


#: What renaming a folder onto something already there fails with.
_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


def promote_output(segment: Segment, plan: ReplayPlan) -> None:
    """Rename the verified output into place. ``--out`` is never replaced: when it appeared while the
    run went on (another process made it), the verified state is renamed beside it and the error says where."""
    if segment.final_dir != plan.out:
        os.replace(segment.out_dir, segment.final_dir)
        return
    try:
        if not os.path.lexists(plan.out):
            os.replace(segment.out_dir, plan.out)
            return
    except OSError as error:
        if error.errno not in _TAKEN:
            raise
    kept = plan.out.with_name(f"hiero-replay-{plan.run_id}-final-state")
    os.replace(segment.out_dir, kept)
    raise ConfigError(
        f"The output {plan.out} appeared while the run went on; hiero-replay never overwrites it.",
        hint=f"The verified final state is kept at {kept}: use it there, or move it into place.",
        file=str(plan.out),
    )


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
