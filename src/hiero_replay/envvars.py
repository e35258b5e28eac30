"""Configuration from the environment: ``HIERO_REPLAY_<SECTION>__<KEY>=value``, parsed like a flag.

A value is taken as text (``HIERO_REPLAY_PACE__RATE="20 rounds/s"``, ``..._SEGMENT_ROUNDS=50``);
only a list or a table is JSON (``HIERO_REPLAY_BACKENDS__EVENT_STREAM__COMMAND='["pcli.sh"]'``).
Every variable is remembered by the key it sets, so a problem names the variable, not a section.
Variables whose first part is not a section (``HIERO_REPLAY_SAMPLES``) belong to others and are left alone.
"""

from __future__ import annotations

import json
import os
import shlex
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .errors import ConfigError

PREFIX = "HIERO_REPLAY_"
_JSON_ORIGINS = (list, tuple, set, frozenset, dict)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _wants_json(annotation: Any) -> bool:
    """A list or a table (possibly optional) is written as JSON; anything else is text."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_wants_json(argument) for argument in typing.get_args(annotation) if argument is not type(None))
    if origin is typing.Annotated:
        return _wants_json(typing.get_args(annotation)[0])
    return origin in _JSON_ORIGINS or annotation in _JSON_ORIGINS


class EnvironmentSource:
    """The keys the environment sets, as nested tables (``values``), and the variable behind each."""

    def __init__(self, settings_cls: type[BaseModel], environ: Mapping[str, str] | None = None) -> None:
        self.settings_cls = settings_cls
        self.values: dict[str, Any] = {}
        #: The variable that set each key path.
        self.variables: dict[tuple[str, ...], str] = {}
        for name, raw in sorted((os.environ if environ is None else environ).items()):
            if name.startswith(PREFIX):
                self._take(name, raw)

    def _take(self, name: str, raw: str) -> None:
        path = tuple(part.lower() for part in name.removeprefix(PREFIX).split("__"))
        model: type[BaseModel] | None = self.settings_cls
        field: FieldInfo | None = None
        for depth, part in enumerate(path):
            fields = model.model_fields if model is not None else {}
            if part not in fields:
                if depth == 0:
                    return  # not a section of ours
                field = None
                break
            field = fields[part]
            model = _model_of(field.annotation)
        value: Any = raw
        if field is not None and _wants_json(field.annotation):
            try:
                value = json.loads(raw)
            except RecursionError:
                raise ConfigError(f"{name}: its JSON is nested too deeply.", hint=f"Write {name} as a flat list of text.") from None
            except ValueError:
                example = json.dumps(shlex.split(raw)) if raw.strip() else "[]"
                raise ConfigError(
                    f"{name}: {raw!r} is not JSON, and a list is written as JSON here.", hint=f"Write it as {name}='{example}'."
                ) from None
        self.variables[path] = name
        target = self.values
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{name} sets a key inside {'.'.join(path[:-1])}, which another variable sets as a whole.")
        target[path[-1]] = value

    def variable_for(self, location: tuple[str | int, ...]) -> str | None:
        """The variable that set the key at ``location`` (or a key that contains it)."""
        parts = tuple(str(part) for part in location)
        for length in range(len(parts), 0, -1):
            if parts[:length] in self.variables:
                return self.variables[parts[:length]]
        return None
