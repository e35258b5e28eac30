"""Records read back (result files, the status file, the run store's rows), each value checked
against the type its dataclass declares before the record is made: a damaged or altered copy is
refused, naming the value, rather than met later as a stray exception or taken for what it is not."""

from __future__ import annotations

import math
import reprlib
import types
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

Record = TypeVar("Record")

#: A wall-clock moment in seconds since the epoch, one a date can be made of (years 1970 to 9999).
Timestamp = Annotated[float, "timestamp"]
_LAST_MOMENT = 253_402_300_799.0


class DamagedRecord(ValueError):
    """A record read back holds a value that is not of its declared type."""


def checked(cls: type[Record], values: object) -> Record:
    """``cls`` (a dataclass) made of the values of its fields in ``values`` (other keys are ignored),
    once each is of its declared type: ``int``, ``float`` (finite), ``str``, ``bool``, ``None``,
    ``Timestamp``, a ``Literal``, ``list``/``dict``, a class, or a union of these."""
    if not isinstance(values, Mapping):
        raise DamagedRecord(f"not an object but {_shown(values)}")
    hints = get_type_hints(cls, include_extras=True)
    given: dict[str, Any] = {}
    for field in fields(cls):  # type: ignore[arg-type]
        if field.name not in values:
            if field.default is MISSING and field.default_factory is MISSING:
                raise DamagedRecord(f"{field.name} is missing")
            continue
        value = values[field.name]
        if not _matches(value, hints[field.name]):
            raise DamagedRecord(f"{field.name} is {_shown(value)}, not {_described(hints[field.name])}")
        given[field.name] = value
    return cls(**given)


def _matches(value: object, hint: Any) -> bool:
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return True
    if origin is Annotated:
        return _matches(value, args[0]) and ("timestamp" not in args[1:] or 0 <= value <= _LAST_MOMENT)  # type: ignore[operator]
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is Literal:
        return any(type(value) is type(arg) and value == arg for arg in args)
    if origin is list:
        return isinstance(value, list) and all(_matches(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    return isinstance(value, hint)


_NAMES: dict[object, str] = {
    Any: "anything", float: "a finite number", int: "a whole number", str: "text", bool: "true or false",
    type(None): "null", list: "a list", dict: "an object",
}  # fmt: skip


def _described(hint: Any) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return "a moment (seconds since 1970, before the year 10000)" if "timestamp" in args[1:] else _described(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_described(arg) for arg in args)
    if origin is Literal:
        return f"one of {', '.join(map(repr, args))}"
    return _NAMES.get(origin or hint) or f"a {getattr(hint, '__name__', hint)}"


def _shown(value: object) -> str:
    return reprlib.repr(value)
