"""The work directory: private to the user who runs replays, and never inside what they replay.

It holds the run store (settings and history), checkpoints and staged files, so it is created with
mode 0700 and, like ssh's StrictModes, an existing one is refused when another user owns it or when
group or others may write to it (without the sticky bit): anyone who can write there could plant a
link where the orchestrator writes. Outputs (the work directory, ``--out``) inside an input (a stream
folder, a saved state) are refused before anything is written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, MissingInputError
from .states import state_folder

if TYPE_CHECKING:
    from .config import Settings


def _refuse(path: Path, what: str, hint: str) -> ConfigError:
    return ConfigError(f"The work directory {path} {what}.", hint=hint, file=str(path))


def prepare_work_dir(path: Path) -> Path:
    """Create ``path`` (0700) or check it; ``ConfigError`` naming what is wrong with it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except FileExistsError:
        raise _refuse(path, "is a file, not a folder", "Choose another --work-dir.") from None
    except NotADirectoryError:
        raise _refuse(path, "cannot be created: a part of its path is a file", "Choose another --work-dir.") from None
    except OSError as error:
        raise _refuse(path, f"cannot be created or used ({error.strerror})", "Choose another --work-dir.") from error
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "is not a folder", "Choose another --work-dir.")
    if info.st_uid != os.geteuid():
        raise _refuse(path, f"is owned by user {info.st_uid}, not by you ({os.geteuid()})", "Use a work directory of your own.")
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise _refuse(
            path,
            f"is writable by other users (mode {stat.S_IMODE(info.st_mode):04o})",
            f"Run `chmod go-w {path}` (0700 is what hiero-replay creates), or choose another --work-dir.",
        )
    return path


def open_existing_work_dir(path: Path, database: str) -> Path:
    """A work directory that runs used (it holds ``database``); commands that only read one create nothing."""
    try:
        exists = (path / database).is_file()
    except OSError as error:
        raise MissingInputError(f"{path} cannot be used as a work directory: {error.strerror}.", file=str(path)) from error
    if not exists:
        raise MissingInputError(
            f"{path} is not a work directory: no run was ever recorded there ({database} is missing).",
            hint="Pass the --work-dir (or work_dir in the configuration) that the runs used.",
            file=str(path),
        )
    return prepare_work_dir(path)


def _local_inputs(settings: Settings) -> list[tuple[str, Path]]:
    replay, source = settings.replay, settings.source
    named = [
        ("--events", source.events),
        ("--blocks", source.blocks),
        ("--bootstrap-state", replay.bootstrap_state),
        ("--expected-state", replay.expected_state),
    ]
    inputs = []
    for flag, location in named:
        if location and "://" not in location:
            folder = Path(location)
            inputs.append((flag, state_folder(folder) if flag.endswith("-state") else folder))
    return inputs


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def refuse_outputs_inside_inputs(settings: Settings) -> None:
    """``--out`` or the work directory inside (or equal to) a stream folder or a saved state: exit 2,
    before anything is written."""
    outputs = [("--work-dir", settings.work_dir)]
    if settings.replay.out is not None:
        outputs.append(("--out", settings.replay.out))
    for input_flag, folder in _local_inputs(settings):
        inside = _real(folder)
        for output_flag, output in outputs:
            target = _real(output)
            if target == inside or target.is_relative_to(inside):
                raise ConfigError(
                    f"{output_flag} {output} is inside the {input_flag} folder {folder}: hiero-replay never writes into its inputs.",
                    hint=f"Choose a {output_flag} outside {folder}.",
                    file=str(output),
                )
