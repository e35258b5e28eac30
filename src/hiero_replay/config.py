"""One validated configuration for both backends; the single place defaults live.

Sources, highest priority first: command-line flags, environment variables
(``HIERO_REPLAY_<SECTION>__<KEY>``, e.g. ``HIERO_REPLAY_REPLAY__TARGET_ROUND=1234``, see ``envvars``),
the TOML file given with ``--config``, then the defaults below.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from .backends import registry
from .backends.base import BackendConfig
from .envvars import EnvironmentSource
from .errors import ConfigError
from .model.rate import Rate, plain_number
from .paths import path_text
from .states import MAX_ROUND
from .streams.compression import MAX_DECOMPRESSED_BYTES, set_decompression_limit
from .streams.decoding import MAX_LONG

DEFAULT_WORK_DIR = Path(".hiero-replay")
#: The longest schedule interval, jitter, catch-up window or retry delay: a year (more is a typo).
MAX_SCHEDULE_DURATION = timedelta(days=366)
_HASH = re.compile(r"^[0-9a-fA-F]{96}$")


def _written_path(value: object) -> object:
    return path_text(os.fspath(value)) if isinstance(value, str | os.PathLike) else value


#: A path hiero-replay writes to: not empty, valid UTF-8.
WrittenPath = Annotated[Path, BeforeValidator(_written_path)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Section):
    events: str | None = Field(None, description="One node's event stream folder (events_0.0.N).")
    blocks: str | None = Field(None, description="Block stream folder.")


def _known_mode(value: str) -> str:
    if value not in registry.mode_choices():
        raise ValueError(f"must be one of {', '.join(registry.mode_choices())}")
    return value


Mode = Annotated[str, AfterValidator(_known_mode), WithJsonSchema({"enum": registry.mode_choices(), "type": "string"})]


class ReplayConfig(_Section):
    mode: Mode = Field(registry.AUTO, description="A backend's name (that backend only), or auto (cross the cutover).")
    bootstrap_state: str | None = Field(None, description="Saved round directory to start from (a path or a bucket URL).")
    node_id: int = Field(0, ge=0, le=MAX_LONG, description="Node id passed to the backends (a Java long, as the tools take it).")
    out: WrittenPath | None = Field(None, description="Directory for the final state; must not exist.")
    target_round: int | None = Field(None, ge=1, le=MAX_ROUND, description="Last round to apply (default: newest available).")
    expected_hash: str | None = Field(None, description="Expected HASH of the final state (96 hex digits).")
    expected_state: str | None = Field(
        None,
        description="Reference round directory (a path or a bucket URL; a folder of rounds means the newest): "
        "its ROUND and HASH become target_round and expected_hash.",
    )
    cutover_round: int | None = Field(
        None, ge=1, le=MAX_ROUND, description="First round replayed from blocks (default: first block round)."
    )
    segment_rounds: int = Field(0, ge=0, le=MAX_ROUND, description="Rounds per segment; 0 = one segment per backend.")
    window: timedelta | None = Field(
        None, description="Without a target: replay at most this much consensus time past the bootstrap state (e.g. 1 hour)."
    )
    bootstrap_check: bool = Field(
        True,
        description="Before any backend starts, compare the bootstrap state's HASH with the state hash the footer "
        "of the first block replayed carries (where the stream's era has one).",
    )
    stream_proofs: bool = Field(
        True,
        description="Check each block-stream segment's state against the footer of the block after it (off: "
        "for a tool of another state-hashing era than the blocks, e.g. a 0.72+ validator on 0.71 blocks).",
    )
    keep_intermediates: bool = Field(
        False,
        description="Keep each segment's staged input and intermediate state once the run succeeds (to inspect "
        "or compare them); by default they are removed, the logs and records kept.",
    )
    bisect: bool = Field(
        True,
        description="When the block stream disproves a segment, replay halves of it from its start state to find "
        "the first block whose application diverges.",
    )

    @field_validator("expected_hash")
    @classmethod
    def _lowercase_hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _HASH.match(value):
            raise ValueError("must be a SHA-384 hash: 96 hexadecimal digits")
        return value.lower()


def _rate(value: object) -> object:
    if isinstance(value, str):
        return Rate.parse(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Rate.parse(plain_number(value))  # refused, saying which unit to add (or why the number is wrong)
    if not isinstance(value, Rate):
        raise ValueError('a rate is text: "unlimited", "N rounds/s", "N blocks/s", "N files/s" or "Nx"')
    return value


RateSetting = Annotated[
    Rate,
    BeforeValidator(_rate),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["unlimited", "20 rounds/s", "5 blocks/s", "10 files/s", "10x"]}),
]


class PaceConfig(_Section):
    rate: RateSetting = Field(
        default_factory=Rate.unlimited,
        description='"unlimited", "N rounds/s", "N blocks/s", "N files/s" or "Nx" (times consensus time).',
    )
    max_segment_seconds: float = Field(
        30.0,
        gt=0,
        description="With a rate, the most time one segment may take; segments are cut to it where the "
        "backend cannot pace rounds itself (PCLI, or units other than rounds/s).",
    )
    min_segment_seconds: float = Field(
        1.0,
        gt=0,
        description="With a rate, the least time of work a segment is cut to (each segment restarts the tool); "
        "a short run is cut into up to 10 segments between this and max_segment_seconds so the rate holds on average.",
    )


class _BackendSections(_Section):
    """One section per registered backend (``[backends.block_stream]``, ...), each the backend's own model."""

    def of(self, name: str) -> BackendConfig:
        section: BackendConfig = getattr(self, registry.config_key(name))
        return section


def _backend_sections() -> type[_BackendSections]:
    fields: dict[str, Any] = {}
    for name in registry.names():
        model = registry.backend_class(name).config_model
        fields[registry.config_key(name)] = (model, Field(default_factory=model))
    return create_model("BackendsConfig", __base__=_BackendSections, **fields)


if TYPE_CHECKING:
    BackendsConfig = _BackendSections
else:
    BackendsConfig = _backend_sections()


class ScheduleConfig(_Section):
    cron: str | None = Field(None, description="Cron expression (5 fields), evaluated in `timezone`.")
    interval: timedelta | None = Field(
        None, le=MAX_SCHEDULE_DURATION, description="Fixed interval instead of cron (seconds or ISO 8601, at most 366 days)."
    )
    timezone: str = Field("UTC", description="Time zone of the cron expression.")
    overlap: Literal["skip", "queue-one"] = Field("skip", description="Fires that come due during a run: skip, or run once after.")
    catch_up: timedelta = Field(
        timedelta(0),
        ge=timedelta(0),
        le=MAX_SCHEDULE_DURATION,
        description="Fires missed while down are run once if the last is this recent (0 to 366 days).",
    )
    jitter: timedelta = Field(
        timedelta(0), ge=timedelta(0), le=MAX_SCHEDULE_DURATION, description="Random delay up to this much after each fire (0 to 366 days)."
    )
    retries: int = Field(3, ge=0, description="Retries of a run that failed transiently (exit 6, 7, 9).")
    retry_backoff: timedelta = Field(
        timedelta(seconds=30),
        ge=timedelta(0),
        le=MAX_SCHEDULE_DURATION,
        description="First retry delay (0 to 366 days); doubles each retry, plus jitter.",
    )
    follow: bool = Field(False, description="Each run starts from the previous run's final state (a replica that keeps up).")

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleConfig:
        if self.cron is not None and self.interval is not None:
            raise ValueError("set either schedule.cron or schedule.interval, not both")
        if self.interval is not None and self.interval <= timedelta(0):
            raise ValueError("schedule.interval must be positive")
        return self


class BucketsConfig(_Section):
    billing_project: str | None = Field(None, description="GCS requester pays: the project billed (x-goog-user-project on every request).")
    requester_pays: bool = Field(False, description="S3 requester pays (x-amz-request-payer on every request).")
    anonymous: bool = Field(False, description="Send unsigned requests (public buckets).")
    endpoint: str | None = Field(
        None,
        description="S3-compatible endpoint or GCS emulator URL (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / STORAGE_EMULATOR_HOST).",
    )
    region: str | None = Field(None, description="S3 region (default: AWS_REGION, else us-east-1).")
    addressing: Literal["auto", "path", "virtual"] = Field(
        "auto",
        description="S3 addressing: virtual-hosted (bucket.host/key) or path-style (host/bucket/key); "
        "auto: virtual-hosted on AWS (*.amazonaws.com), path-style for any other endpoint or an IP address.",
    )
    path_style: bool | None = Field(None, description='Deprecated: true means addressing = "path".', json_schema_extra={"deprecated": True})
    allow_http: bool = Field(
        False,
        description="Allow a plain HTTP endpoint (as AWS_ALLOW_HTTP=true does; STORAGE_EMULATOR_HOST needs neither); "
        "one off this machine is logged as a warning.",
    )
    retries: int = Field(6, ge=1, description="Attempts per request: throttling, 5xx, timeouts, resets, truncated or corrupt bodies.")
    timeout_seconds: float = Field(120, gt=0, description="A request that takes longer is abandoned and retried.")
    download_workers: int = Field(32, ge=1, le=256, description="Parallel downloads (and prefetches while a segment replays).")
    max_requests_in_flight: int = Field(
        256, ge=1, le=1024, description="Downloads in flight grow from download_workers while throughput grows, up to this."
    )
    cache_dir: WrittenPath | None = Field(None, description="Verified local cache (default <work_dir>/cache).")
    cache_max_bytes: int = Field(50 * 2**30, gt=0, description="Size bound of the cache; least recently used files are evicted.")

    @model_validator(mode="after")
    def _path_style_is_addressing(self) -> BucketsConfig:
        if self.path_style and self.addressing == "virtual":
            raise ValueError('path_style (deprecated) and addressing = "virtual" disagree; remove path_style')
        if self.path_style:
            self.addressing = "path"
        return self


class MetricsConfig(_Section):
    port: int | None = Field(None, ge=1, le=65535, description="Serve Prometheus metrics over HTTP on this port.")
    address: str = Field("127.0.0.1", description="Address the metrics endpoint listens on (0.0.0.0 for all).")
    textfile: WrittenPath | None = Field(None, description="Rewrite metrics atomically into this file (node_exporter textfile collector).")
    pushgateway: str | None = Field(None, description="Push-add metrics to this Pushgateway URL at the end of each run.")
    job: str = Field("hiero-replay", description="Pushgateway job name (the grouping key).")

    @property
    def exported(self) -> bool:
        """Whether the metrics go anywhere: served, written to a textfile or pushed."""
        return self.port is not None or self.textfile is not None or bool(self.pushgateway)


class LimitsConfig(_Section):
    max_decompressed_bytes: int = Field(
        MAX_DECOMPRESSED_BYTES,
        ge=2**20,
        description="The largest a stream file may decompress to (a file past it, or past 1000 times its compressed "
        "size beyond 16 MiB, is refused as damaged or hostile: exit 7 naming it).",
    )


class Settings(_Section):
    source: SourceConfig = Field(default_factory=SourceConfig)
    replay: ReplayConfig = Field(default_factory=ReplayConfig)
    pace: PaceConfig = Field(default_factory=PaceConfig)
    backends: BackendsConfig = Field(default_factory=BackendsConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    buckets: BucketsConfig = Field(default_factory=BucketsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    work_dir: WrittenPath = Field(DEFAULT_WORK_DIR, description="Run records, staging and intermediate states.")
    simulate: bool = Field(False, description="Use the built-in simulators for both backends (a rehearsal).")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        replay = self.replay
        if replay.expected_state is not None and (replay.target_round is not None or replay.expected_hash is not None):
            raise ValueError("replay.expected_state sets the target round and expected hash; do not also set target_round or expected_hash")
        return self


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load and validate; every problem becomes one ``ConfigError`` naming the keys and what is allowed."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"Config file {config_file} does not exist.", hint="Pass an existing TOML file to --config.")
    environment = EnvironmentSource(Settings)
    try:
        from_file = tomllib.loads(config_file.read_text(encoding="utf-8")) if config_file is not None else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"Cannot read config file {config_file}: {error}.") from error
    except RecursionError:
        raise ConfigError(f"Cannot read config file {config_file}: its arrays or tables are nested too deeply.") from None
    except ValueError:  # an integer of thousands of digits, past what Python converts
        raise ConfigError(f"Cannot read config file {config_file}: a number in it has thousands of digits.") from None
    try:
        settings = Settings.model_validate(_layered(from_file, environment.values, overrides or {}))
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, environment), hint="See `hiero-replay config schema` for every key.") from error
    set_decompression_limit(settings.limits.max_decompressed_bytes)  # the bound of this process (and its workers)
    return settings


def _layered(*layers: dict[str, Any]) -> dict[str, Any]:
    """The layers merged, each later one winning key by key: tables merge, anything else is replaced."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            below = merged.get(key)
            merged[key] = _layered(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


def describe_validation_error(error: ValidationError, environment: EnvironmentSource | None = None) -> str:
    lines = []
    for issue in error.errors():
        key = ".".join(str(part) for part in issue["loc"]) or "config"
        variable = environment.variable_for(issue["loc"]) if environment is not None else None
        if variable is not None:
            key = f"{variable} ({key})"
        message = issue["msg"].removeprefix("Value error, ")
        if issue["type"] == "extra_forbidden":
            near = difflib.get_close_matches(str(issue["loc"][-1]), _keys_beside(issue["loc"]), n=1, cutoff=0.75)
            message = f"unknown key (did you mean {near[0]}?)" if near else "unknown key"
        elif issue["type"] == "literal_error":
            message = f"must be one of {issue['ctx']['expected']}"
        shown = issue.get("input")
        if isinstance(shown, timedelta):  # a duration out of bounds, as read
            shown = f"{shown.total_seconds():g} seconds"
        suffix = f" (got {shown!r})" if shown is not None and not isinstance(shown, dict) and issue["type"] != "extra_forbidden" else ""
        lines.append(f"{key}: {message}{suffix}")
    return "Invalid configuration: " + "; ".join(lines) + "."


def _keys_beside(location: tuple[int | str, ...]) -> list[str]:
    """The keys the table holding the last part of ``location`` accepts (none known: empty)."""
    model: Any = Settings
    for part in location[:-1]:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def settings_schema() -> dict[str, Any]:
    return Settings.model_json_schema()
