"""What a backend's installed tool supports, as its capability probe found it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a probe found: the options the tool's usage names, or, when it printed no usage,
    ``problem`` in words with its exit code and last lines (what its failure table reads)."""

    argv: tuple[str, ...]
    options: frozenset[str]
    problem: str | None = None
    exit_code: int | None = None
    tail: tuple[str, ...] = ()

    @property
    def starts(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict[str, list[str]]:
        return {"argv": list(self.argv), "options": sorted(self.options)}

    @classmethod
    def from_json(cls, data: dict[str, list[str]]) -> Capabilities:
        """A cached probe (only probes of tools that started are cached); ``TypeError`` unless both
        are lists of text."""
        argv, options = data["argv"], data["options"]
        if not (isinstance(argv, list) and isinstance(options, list) and all(isinstance(item, str) for item in [*argv, *options])):
            raise TypeError("a cached probe holds two lists of text")
        return cls(tuple(argv), frozenset(options))
