"""Prometheus metrics (prometheus-client), prefix ``hiero_replay_``, base units.

Exposed over HTTP (``metrics.port``), as a node_exporter textfile rewritten atomically
(``metrics.textfile``), or pushed (push-add, grouped by job) to a Pushgateway at the end of a run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, pushadd_to_gateway, start_http_server, write_to_textfile

from ..config import MetricsConfig
from ..errors import MetricsError
from ..logs import get_logger
from .events import RunObserver

if TYPE_CHECKING:
    from ..errors import ReplayError
    from ..model.plan import ReplayPlan, Segment
    from ..model.results import RunResult, SegmentResult

_DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)


class ReplayMetrics(RunObserver):
    def __init__(self, config: MetricsConfig) -> None:
        self.config = config
        self.registry = registry = CollectorRegistry()
        self.rounds_applied = Counter("hiero_replay_rounds_applied", "Rounds applied in verified segments.", registry=registry)
        self.segments_verified = Counter(
            "hiero_replay_segments_verified",
            "Verified segments, by what proved their state (stream, expected-state, expected-hash, none).",
            ["by"],
            registry=registry,
        )
        self.current_round = Gauge(
            "hiero_replay_current_round", "Round the backend reported last (live, inside a segment).", registry=registry
        )
        self.verified_round = Gauge("hiero_replay_verified_round", "Round of the newest verified state.", registry=registry)
        self.target_round = Gauge("hiero_replay_target_round", "Target round of the current run.", registry=registry)
        self.effective_rate = Gauge(
            "hiero_replay_effective_rate_rounds_per_second", "Rounds per second of the current run.", registry=registry
        )
        self.consensus_speed = Gauge(
            "hiero_replay_effective_consensus_speed_ratio", "Consensus seconds replayed per wall second.", registry=registry
        )
        self.rate_ratio = Gauge(
            "hiero_replay_rate_achieved_ratio",
            "Achieved over configured rate, in the configured unit (above 1: the cap was exceeded).",
            registry=registry,
        )
        self.files_fetched = Counter(
            "hiero_replay_files_fetched", "Stream files fetched for segments.", ["source_type", "result"], registry=registry
        )
        self.bytes_fetched = Counter(
            "hiero_replay_fetched_bytes", "Bytes of stream files fetched.", ["source_type", "result"], registry=registry
        )
        self.source_retries = Counter(
            "hiero_replay_source_retries",
            "Bucket requests retried and damaged downloads fetched again.",
            ["source_type"],
            registry=registry,
        )
        self.fetch_seconds = Histogram(
            "hiero_replay_fetch_duration_seconds",
            "Time to fetch a segment's files.",
            ["source_type"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.segment_seconds = Histogram(
            "hiero_replay_segment_duration_seconds",
            "Time to apply and verify a segment.",
            ["backend"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.failures = Counter("hiero_replay_failures", "Failed runs by reason (the error taxonomy).", ["reason"], registry=registry)
        self.skipped = Counter("hiero_replay_skipped_runs", "Runs that found nothing new to replay (not failures).", registry=registry)
        self.last_success = Gauge("hiero_replay_last_success_timestamp_seconds", "When a run last succeeded.", registry=registry)
        self.pacer_wait = Counter("hiero_replay_pacer_wait_seconds", "Time spent waiting on the pacer.", registry=registry)
        self.missed_fires = Counter("hiero_replay_schedule_missed_fires", "Schedule fires that were not run.", registry=registry)
        self.consensus_lag = Gauge(
            "hiero_replay_consensus_lag_seconds", "Now minus the consensus time of the newest applied round.", registry=registry
        )
        self.backend_info = Info("hiero_replay_backend", "The backend of the current segment.", registry=registry)
        self.source_info = Info("hiero_replay_source", "The source type of the current segment.", registry=registry)
        self.mode_info = Info("hiero_replay_mode", "The replay mode and the backend selection.", registry=registry)
        self._source_types: dict[str, str] = {}
        self._run_started = time.monotonic()
        self._applied_in_run = 0
        self._consensus_seconds = 0.0

    def serve(self) -> None:
        if self.config.port is not None:
            try:
                start_http_server(self.config.port, addr=self.config.address, registry=self.registry)
            except OSError as error:
                raise MetricsError(
                    f"Cannot serve metrics on {self.config.address}:{self.config.port}: {error.strerror}.",
                    hint="Choose a free port (--metrics-port) or another metrics.address.",
                ) from error

    def export(self) -> None:
        """Rewrite the textfile (atomically: prometheus-client writes a temporary file and renames it).
        A side channel: a textfile that cannot be written is a warning, never the run's outcome."""
        if self.config.textfile is not None:
            try:
                self.config.textfile.parent.mkdir(parents=True, exist_ok=True)
                write_to_textfile(str(self.config.textfile), self.registry)
            except OSError as error:
                get_logger().warning("metrics textfile not written", target=str(self.config.textfile), error=str(error))

    def push(self) -> None:
        """Push-add to the Pushgateway; one that cannot be reached is a warning, never the run's outcome."""
        if self.config.pushgateway:
            try:
                pushadd_to_gateway(self.config.pushgateway, job=self.config.job, registry=self.registry, timeout=10)
            except OSError as error:
                get_logger().warning("metrics not pushed", target=self.config.pushgateway, error=str(error))

    # observer --------------------------------------------------------------------------------

    def run_started(self, plan: ReplayPlan, source_types: dict[str, str]) -> None:
        self._source_types = source_types
        self._run_started = time.monotonic()
        self._applied_in_run = 0
        self._consensus_seconds = 0.0
        self.target_round.set(plan.target_round)
        self.current_round.set(plan.bootstrap_round)
        self.verified_round.set(plan.bootstrap_round)
        self.mode_info.info({"mode": plan.mode, "cutover_round": str(plan.cutover_round or ""), "rate": plan.rate})
        self.export()

    def segment_started(self, segment: Segment) -> None:
        self.backend_info.info({"backend": segment.backend})
        self.source_info.info({"source_type": self._source_types.get(segment.source, "unknown")})

    def fetched(self, source_type: str, files: int, size: int, seconds: float, ok: bool) -> None:
        result = "ok" if ok else "error"
        self.files_fetched.labels(source_type, result).inc(files)
        self.bytes_fetched.labels(source_type, result).inc(size)
        self.fetch_seconds.labels(source_type).observe(seconds)

    def source_retried(self, source_type: str, retries: int) -> None:
        self.source_retries.labels(source_type).inc(retries)

    def paced(self, seconds: float) -> None:
        self.pacer_wait.inc(seconds)

    def round_applied(self, round_number: int) -> None:
        self.current_round.set(round_number)

    def segment_verified(self, segment: Segment, result: SegmentResult, consensus_time_ns: int | None) -> None:
        self.rounds_applied.inc(result.rounds)
        self.segments_verified.labels(result.verified_by).inc()
        self.current_round.set(result.round)
        self.verified_round.set(result.round)
        self.segment_seconds.labels(segment.backend).observe(result.seconds)
        self._applied_in_run += result.rounds
        self._consensus_seconds += result.consensus_seconds or 0.0
        elapsed = time.monotonic() - self._run_started
        if elapsed > 0:
            self.effective_rate.set(self._applied_in_run / elapsed)
            self.consensus_speed.set(self._consensus_seconds / elapsed)
        if consensus_time_ns is not None:
            self.consensus_lag.set(time.time() - consensus_time_ns / 1e9)
        self.export()

    def run_finished(self, result: RunResult) -> None:
        self.effective_rate.set(result.rounds_per_second)
        achieved = result.achieved_rate()
        if achieved is not None:
            self.rate_ratio.set(achieved / result.plan.pace.value)
        if result.consensus_speed is not None:
            self.consensus_speed.set(result.consensus_speed)
        self.last_success.set(time.time())
        self.export()

    def run_failed(self, error: ReplayError) -> None:
        self.failures.labels(error.kind).inc()
        self.export()

    def run_skipped(self, reason: str) -> None:
        self.skipped.inc()
        self.export()

    def schedule_missed(self, fires: int) -> None:
        self.missed_fires.inc(fires)
        self.export()
