"""Whole folders from a source (saved round directories): copied once, marked complete, reused."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from .base import ReplaySource

COMPLETE_MARKER = ".download-complete"


def download_folder(source: ReplaySource, root: Path) -> Path:
    """The folder's local copy under ``root``: reused when marked complete; a copy without the
    marker (a download that was cut off) is never used: it is removed and downloaded again."""
    name = source.url.rstrip("/").rsplit("/", 1)[-1]
    target = root / hashlib.sha256(source.url.encode()).hexdigest()[:16] / name
    if (target / COMPLETE_MARKER).exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    for obj in source.list():
        destination = partial / obj.key
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read(obj.key))
    (partial / COMPLETE_MARKER).touch()
    os.replace(partial, target)
    return target
