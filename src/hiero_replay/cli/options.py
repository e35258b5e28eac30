"""Flags shared by commands: the replay flags mirror configuration keys; ``--config`` and
``--work-dir`` locate the configuration and the work directory. Settings load (pydantic) only
when a command runs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import click

from ..backends import registry

if TYPE_CHECKING:
    from ..config import Settings

# flag -> (config path, click type, help)
REPLAY_FLAGS: dict[str, tuple[tuple[str, ...], Any, str]] = {
    "--events": (("source", "events"), str, "One node's event stream folder (events_0.0.N): a path, gs:// or s3:// URL."),
    "--blocks": (("source", "blocks"), str, "Block stream folder: a path, gs:// or s3:// URL."),
    "--mode": (("replay", "mode"), click.Choice(registry.mode_choices()), "Backend selection (default auto)."),
    "--bootstrap-state": (("replay", "bootstrap_state"), str, "Saved round directory to start from (path or bucket URL)."),
    "--node-id": (("replay", "node_id"), int, "Node id passed to the backends."),
    "--out": (("replay", "out"), str, "Directory for the final state (must not exist)."),
    "--target-round": (("replay", "target_round"), int, "Last round to apply."),
    "--expected-hash": (("replay", "expected_hash"), str, "Expected HASH of the final state."),
    "--expected-state": (
        ("replay", "expected_state"),
        str,
        "Reference round directory (path or bucket URL): its ROUND and HASH become the target.",
    ),
    "--cutover-round": (("replay", "cutover_round"), int, "First round replayed from blocks (auto mode)."),
    "--segment-rounds": (("replay", "segment_rounds"), int, "Rounds per segment (0 = one per backend)."),
    "--rate": (("pace", "rate"), str, "unlimited, 'N rounds/s', 'N blocks/s', 'N files/s' or 'Nx'."),
    "--work-dir": (("work_dir",), str, "Work directory for runs (default: work_dir of the configuration)."),
    "--metrics-port": (("metrics", "port"), int, "Serve Prometheus metrics over HTTP on this port."),
    "--metrics-textfile": (("metrics", "textfile"), str, "Rewrite metrics into this file (node_exporter textfile collector)."),
    "--pushgateway": (("metrics", "pushgateway"), str, "Push-add metrics to this Pushgateway at the end of each run."),
}

# switch -> (config path, value it sets, help)
REPLAY_SWITCHES: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "--no-bootstrap-check": (
        ("replay", "bootstrap_check"),
        False,
        "Do not compare the bootstrap state's HASH with the first replayed block's footer.",
    ),
    "--no-stream-proofs": (
        ("replay", "stream_proofs"),
        False,
        "Do not check block-stream segments against the next block's footer (a tool of another hashing era).",
    ),
    "--no-bisect": (("replay", "bisect"), False, "On a segment the block stream disproves, do not search for the first divergent block."),
    "--keep-intermediates": (
        ("replay", "keep_intermediates"),
        True,
        "Once the run succeeds, keep each segment's staged input and intermediate state (removed by default).",
    ),
}

LogFormat = Literal["console", "json"]


#: The work directory of the command running, once its settings loaded (where an internal error's
#: traceback is kept).
current_work_dir: ContextVar[Path | None] = ContextVar("current_work_dir", default=None)


def load(config: str | None, overrides: dict[str, Any] | None = None) -> Settings:
    from ..config import load_settings

    settings = load_settings(Path(config) if config else None, overrides)
    current_work_dir.set(settings.work_dir.absolute())
    return settings


def _parameter(flag: str) -> str:
    """The name click gives a flag's parameter."""
    return flag.lstrip("-").replace("-", "_")


def replay_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Flags mirroring the config keys, plus --config, --simulate, --verbose and --log-format;
    the command receives ``settings``."""

    @functools.wraps(command)
    def wrapper(config: str | None, simulate: bool, log_format: str, verbose: bool, **flags: Any) -> Any:
        from ..logs import configure_logging

        overrides: dict[str, Any] = {}
        given = [(path, flags.pop(_parameter(flag))) for flag, (path, _, _) in REPLAY_FLAGS.items()]
        given += [(path, value if flags.pop(_parameter(flag)) else None) for flag, (path, value, _) in REPLAY_SWITCHES.items()]
        for path, value in given:
            if value is not None:
                section = overrides
                for part in path[:-1]:
                    section = section.setdefault(part, {})
                section[path[-1]] = value
        if simulate:
            overrides["simulate"] = True
        configure_logging(cast(LogFormat, log_format), verbose)
        return command(settings=load(config, overrides), **flags)

    for flag, (_, _, text) in reversed(REPLAY_SWITCHES.items()):
        wrapper = click.option(flag, is_flag=True, help=text)(wrapper)
    for flag, (_, kind, text) in reversed(REPLAY_FLAGS.items()):
        wrapper = click.option(flag, type=kind, default=None, help=text)(wrapper)
    wrapper = click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration file.")(wrapper)
    wrapper = click.option("--simulate", is_flag=True, help="Use the built-in simulators for both backends (a rehearsal).")(wrapper)
    wrapper = click.option("--verbose", "-v", is_flag=True, help="Also log every line the backends print.")(wrapper)
    return click.option("--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True)(wrapper)


def work_dir_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--work-dir`` and ``--config``: the command receives ``work_dir``, from the flag, else the configuration."""

    @functools.wraps(command)
    def wrapper(config: str | None, work_dir: str | None, **rest: Any) -> Any:
        settings = load(config, {"work_dir": work_dir} if work_dir is not None else None)
        return command(work_dir=settings.work_dir, **rest)

    wrapper = click.option("--work-dir", type=click.Path(file_okay=False), help="Work directory (default: work_dir of the configuration).")(
        wrapper
    )
    return click.option("--config", type=click.Path(dir_okay=False), help="TOML configuration file.")(wrapper)
