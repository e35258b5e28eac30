"""The work directory: private to the user who runs replays, and never inside what they replay.

It holds the run store (settings and history), checkpoints and staged files, so it is created with
mode 0700 and, like ssh's StrictModes, an existing one is refused when another user owns it or when
group or others may write to it (without the sticky bit): anyone who can write there could plant a
link where the orchestrator writes. Outputs (the work directory, ``--out``, the metrics textfile, a
report, verify-history's job folders) inside an input (a stream folder, a saved state), or inside the
work directory or ``--out`` where the run owns them, are refused before anything is written.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


#: Where a replay reads, as keys of its settings (``Settings.model_dump`` or as a run recorded them).
_INPUT_KEYS = {
    "--events": ("source", "events"),
    "--blocks": ("source", "blocks"),
    "--bootstrap-state": ("replay", "bootstrap_state"),
    "--expected-state": ("replay", "expected_state"),
}
#: Why an output may not be inside each kind of folder.
NEVER_INTO_INPUTS = "hiero-replay never writes into its inputs"
WORK_DIR_IS_OURS = "hiero-replay keeps its run store, checkpoints and staged files there"
OUT_IS_WHOLE = "the run creates it, whole, once the final state is verified"

#: A folder no output may be inside: its flag, where it is, and why.
Protected = tuple[str, Path, str]


def inputs_of(locations: Iterable[tuple[str, str | None]]) -> list[Protected]:
    """The local folders among ``(flag, location)`` (bucket URLs are not ours to protect)."""
    folders = []
    for flag, location in locations:
        if location and "://" not in location:
            folder = Path(location)
            folders.append((flag, state_folder(folder) if flag.endswith("-state") else folder, NEVER_INTO_INPUTS))
    return folders


def replay_inputs(settings: dict[str, Any]) -> list[Protected]:
    """The local folders a replay reads, from its settings as JSON."""
    return inputs_of((flag, settings.get(section, {}).get(key)) for flag, (section, key) in _INPUT_KEYS.items())


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def refuse_overlaps(outputs: Iterable[tuple[str, Path]], protected: list[Protected]) -> None:
    """An output inside (or equal to) a protected folder of another flag: exit 2, before anything is written."""
    for output_flag, output in outputs:
        target = _real(output)
        for folder_flag, folder, why in protected:
            inside = _real(folder)
            if folder_flag != output_flag and (target == inside or target.is_relative_to(inside)):
                raise ConfigError(
                    f"{output_flag} {output} is inside the {folder_flag} folder {folder}: {why}.",
                    hint=f"Choose a {output_flag} outside {folder}.",
                    file=str(output),
                )


def refuse_outputs_inside_inputs(settings: Settings) -> None:
    """The work directory, ``--out`` and the metrics textfile inside (or equal to) a stream folder, a
    saved state or one another (the work directory may not be in ``--out``, nor ``--out`` in it): exit
    2, before anything is written."""
    replay_out, textfile = settings.replay.out, settings.metrics.textfile
    outputs = [("--work-dir", settings.work_dir)]
    protected = [*replay_inputs(settings.model_dump(mode="json")), ("--work-dir", settings.work_dir, WORK_DIR_IS_OURS)]
    if replay_out is not None:
        outputs.append(("--out", replay_out))
        protected.append(("--out", replay_out, OUT_IS_WHOLE))
    if textfile is not None:
        outputs.append(("--metrics-textfile", textfile))
    refuse_overlaps(outputs, protected)


def resume_command(work_dir: Path, *, run_id: str | None = None, config: str | None = None) -> str:
    """The command that resumes a run of ``work_dir`` (``run_id``, else the newest unfinished one),
    to be run as it is from any folder."""
    command = ["hiero-replay", "run", "--resume", *(["--run-id", run_id] if run_id is not None else [])]
    command += ["--work-dir", str(work_dir.absolute())]
    if config is not None:
        command += ["--config", str(Path(config).absolute())]
    return shlex.join(command)
