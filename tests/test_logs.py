"""Log lines as operators read them (console) and as machines parse them (JSON)."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hiero_replay.logs import bind_run_context, configure_logging, get_logger, unbind_run_context

CONSOLE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \[(\w+) *\] (.{30}) (.*)$")


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    yield
    configure_logging()
    unbind_run_context("run_id", "segment")


def test_console_lines_sort_fields_and_quote_only_what_would_run_together(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console")
    bind_run_context(run_id="r1", segment="1/2")
    get_logger().info("segment started", state="/a b", first_round=11, plain="abc", eq="k=v", none=None, argv=["x"])
    line = capsys.readouterr().err.rstrip("\n")
    match = CONSOLE_LINE.match(line)
    assert match is not None, line
    assert match.group(1) == "info" and match.group(2) == "segment started".ljust(30)
    assert match.group(3) == "argv=['x'] eq='k=v' first_round=11 none=None plain=abc run_id=r1 segment=1/2 state='/a b'"


def test_json_lines_carry_the_context_and_a_field_wins_over_it(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    bind_run_context(run_id="r1", segment="1/2")
    get_logger().warning("progress", segment="segment 1/2 event-stream", path=Path("/x"))
    unbind_run_context("segment")
    get_logger().error("run failed", exit_code=5)
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["event"] == "progress" and first["level"] == "warning" and first["run_id"] == "r1"
    assert first["segment"] == "segment 1/2 event-stream" and first["path"] == "PosixPath('/x')"
    assert first["timestamp"].endswith("Z")
    assert second == {"timestamp": second["timestamp"], "event": "run failed", "level": "error", "run_id": "r1", "exit_code": 5}


def test_debug_lines_only_when_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    get_logger().debug("backend output", line="quiet")
    assert capsys.readouterr().err == ""
    configure_logging("json", verbose=True)
    get_logger().debug("backend output", line="shown")
    assert json.loads(capsys.readouterr().err)["line"] == "shown"


def test_lines_go_to_the_stderr_of_the_moment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress bar swaps sys.stderr for a proxy that keeps lines above the bar."""
    configure_logging("console")
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    get_logger().info("run started")
    assert "run started" in swapped.getvalue()


class _Failing(io.StringIO):
    def __init__(self, raised: BaseException) -> None:
        super().__init__()
        self.raised = raised

    def write(self, text: str) -> int:
        raise self.raised


class Interrupted(Exception):
    """Stands in for ``ReplayInterrupted``, which the SIGINT/SIGTERM handlers raise: an ``Exception``."""


def test_an_interruption_while_a_line_is_written_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("json")
    monkeypatch.setattr(sys, "stderr", _Failing(Interrupted()))
    with pytest.raises(Interrupted):
        get_logger().info("backend output")


@pytest.mark.parametrize("gone", [_Failing(BrokenPipeError()), None])
def test_a_line_for_a_stderr_that_is_gone_is_dropped(monkeypatch: pytest.MonkeyPatch, gone: io.StringIO | None) -> None:
    configure_logging("console")
    monkeypatch.setattr(sys, "stderr", gone)
    get_logger().warning("metrics not pushed")  # no exception, nothing else to report it to
    configure_logging("console")  # with stderr closed too
