"""Value bounds, the rate's text form and config parsing: every value a user can give ends in a
result or in exit 2 naming it, never in an internal error (exit 70)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import pytest
from hypothesis import given, strategies as st

from hiero_replay.config import load_settings
from hiero_replay.errors import ConfigError
from hiero_replay.model.rate import MAX_RATE, MAX_TOOL_ROUNDS_PER_SECOND, MIN_RATE, Rate, RateUnit, Workload
from hiero_replay.run import pacer
from hiero_replay.simulate.history import History, write_history

from . import cli_helpers
from .cli_helpers import StrPath, cli

UNITS = [unit for unit in get_args(RateUnit) if unit != "unlimited"]
STATE_HASH = "ab" * 48


def own_tmp(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The environment with a temporary folder of the test's own (where an internal error's traceback would land)."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp"), **variables}


def refused(result: subprocess.CompletedProcess[str], tmp_path: Path, *words: str) -> None:
    """Exit 2, with each of ``words`` in the message, and no traceback kept anywhere."""
    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert not list((tmp_path / "tmp").iterdir())


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return write_history(tmp_path_factory.mktemp("history"))


def replay_args(history: History, tmp_path: Path, *extra: StrPath) -> list[StrPath]:
    return cli_helpers.replay_args(history, tmp_path, *extra, node_id=None)


# --- the rate's text form -----------------------------------------------------------------------


@given(st.sampled_from(UNITS), st.floats(min_value=MIN_RATE, max_value=MAX_RATE))
def test_every_accepted_rate_reads_back_as_itself(unit: RateUnit, value: float) -> None:
    rate = Rate(unit, value)
    text = str(rate)
    assert "e" not in text.removesuffix("x").split()[0]  # plain decimal, as parse takes it
    assert Rate.parse(text) == rate


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1000000 rounds/s", "1000000 rounds/s"),
        ("1000000x", "1000000x"),
        ("2000000 blocks/s", "2000000 blocks/s"),
        ("0.00001 rounds/s", "0.00001 rounds/s"),
        ("0.000001x", "0.000001x"),
        ("1000000000 files/s", "1000000000 files/s"),
        ("1234567.891 rounds/s", "1234567.891 rounds/s"),
    ],
)
def test_rates_are_shown_in_plain_decimal(text: str, shown: str) -> None:
    assert str(Rate.parse(text)) == shown


def test_a_run_at_a_large_rate_finishes_with_its_result(history: History, tmp_path: Path) -> None:
    result = cli("run", *replay_args(history, tmp_path, "--node-id", "3", "--out", tmp_path / "out", "--rate", "1000000 rounds/s"))
    assert result.returncode == 0, result.stderr
    [run_dir] = (tmp_path / "work" / "runs").iterdir()
    assert json.loads((run_dir / "result.json").read_text())["rate"] == "1000000 rounds/s"
    status = json.loads((tmp_path / "work" / "status.json").read_text())
    assert (status["state"], status["rate"]) == ("succeeded", "1000000 rounds/s")


# --- the rate's bounds and wording ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["10000000000000000 rounds/s", "1000000001x", "0.0000001 rounds/s", "0.0000009 files/s"])
def test_rates_out_of_range_are_refused_naming_the_range(history: History, tmp_path: Path, text: str) -> None:
    result = cli("plan", *replay_args(history, tmp_path, "--out", tmp_path / "out", "--rate", text), env=own_tmp(tmp_path))
    refused(result, tmp_path, "pace.rate", "from 0.000001 to 1000000000")


@pytest.mark.parametrize("text", ["0", "-5", "-5 rounds/s", "0x", "0.0 blocks/s", "-0.5x"])
def test_a_rate_of_zero_or_less_says_greater_than_zero(text: str) -> None:
    with pytest.raises(ConfigError, match="must be a number greater than zero"):
        load_settings(overrides={"pace": {"rate": text}})


@pytest.mark.parametrize(("value", "number"), [(0, "0"), (-5, "-5"), (-2.5, "-2.5")])
def test_a_toml_rate_of_zero_or_less_says_greater_than_zero(tmp_path: Path, value: float, number: str) -> None:
    config = tmp_path / "rate.toml"
    config.write_text(f"[pace]\nrate = {value}\n")
    with pytest.raises(ConfigError, match=f"rate '{number}' must be a number greater than zero"):
        load_settings(config)


def test_a_bare_number_on_the_command_line_is_told_its_unit(history: History, tmp_path: Path) -> None:
    result = cli("plan", *replay_args(history, tmp_path, "--out", tmp_path / "out", "--rate", "20"), env=own_tmp(tmp_path))
    refused(result, tmp_path, "pace.rate", '"20 rounds/s"', '"20x"')


def test_a_rate_that_is_not_text_or_a_number_is_told_what_a_rate_is(tmp_path: Path) -> None:
    config = tmp_path / "rate.toml"
    config.write_text("[pace]\nrate = [20]\n")
    with pytest.raises(ConfigError, match=r'pace\.rate: a rate is text: "unlimited", "N rounds/s"'):
        load_settings(config)


def test_rounds_per_second_never_exceeds_what_apply_blocks_takes() -> None:
    """apply-blocks' --rate is a Java int: the fastest rate with several rounds a block stays within it."""
    blocks = Workload(rounds=5, files=1, consensus_seconds=1.0)
    assert Rate.parse("1000000000 blocks/s").rounds_per_second(blocks) == MAX_TOOL_ROUNDS_PER_SECOND
    assert Rate.parse("1000000000x").rounds_per_second(blocks) == MAX_TOOL_ROUNDS_PER_SECOND
    assert Rate.parse("1000000000 rounds/s").rounds_per_second(blocks) == 1_000_000_000


class PlatformTime:
    """``time`` as the pacer sees it, on a fake clock: a sleep past what time_t holds fails as the platform's does."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 9.2e9:
            raise OverflowError("timestamp out of range for platform time_t")
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_slowest_rate_waits_in_pieces_the_platform_can_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the slowest rate in consensus time, a round after a 3-hour pause of the network costs 1.08e10 s."""
    fake = PlatformTime()
    monkeypatch.setattr(pacer, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep))
    paced = pacer.Pacer(Rate.parse("0.000001x"), pacer.SystemClock())
    pause = Workload(rounds=1, files=1, consensus_seconds=3 * 3600.0)
    assert paced.release(pause) == 0.0
    assert paced.release(pause) == pytest.approx(1.08e10)
    assert fake.now == pytest.approx(1000.0 + 1.08e10)
    assert max(fake.sleeps) <= pacer.LONGEST_SLEEP_SECONDS
    assert len(fake.sleeps) == pytest.approx(1.08e10 / pacer.LONGEST_SLEEP_SECONDS, abs=1)


# --- config parsing -------------------------------------------------------------------------------


def test_verify_history_says_a_from_round_after_the_to_round(history: History, tmp_path: Path) -> None:
    args: list[StrPath] = [
        "--simulate",
        "--events",
        history.events_dir,
        "--blocks",
        history.blocks_dir,
        "--states",
        history.root / "saved" / "history",
    ]
    result = cli("verify-history", *args, "--from-round", "300", "--to-round", "100", "--dry-run", env=own_tmp(tmp_path))
    refused(result, tmp_path, "--from-round 300 is after --to-round 100")


def test_an_unknown_key_near_a_known_one_is_told_which(tmp_path: Path) -> None:
    config = tmp_path / "replay.toml"
    config.write_text('[replay]\nbootstrap_sate = "x"\n[pace]\nrat = "2x"\n[nonsense]\nfoo = 1\n')
    result = cli("config", "check", config, env=own_tmp(tmp_path, HIERO_REPLAY_REPLAY__NODE_IDD="3"))
    assert result.returncode == 2, result.stderr
    for said in ("replay.bootstrap_sate: unknown key (did you mean bootstrap_state?)", "pace.rat: unknown key (did you mean rate?)",
                 "HIERO_REPLAY_REPLAY__NODE_IDD (replay.node_idd): unknown key (did you mean node_id?)", "nonsense: unknown key."):  # fmt: skip
        assert said in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("deep-arrays", "[" * 100_000 + "]" * 100_000),
        ("deep-inline-tables", "{a = " * 5000 + "1" + "}" * 5000),
        ("arrays-past-the-parser", "[" * 800 + "]" * 800),
        ("long-integer", "1" * 5000),
    ],
)
def test_a_config_file_past_the_parser_is_exit_2_naming_it(tmp_path: Path, name: str, value: str) -> None:
    config = tmp_path / f"{name}.toml"
    config.write_text(f"[replay]\nx = {value}\n")
    refused(cli("config", "check", config, env=own_tmp(tmp_path)), tmp_path, f"Cannot read config file {config}")


def test_a_variable_nested_too_deeply_is_exit_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "empty.toml"
    config.write_text("")
    variable = "HIERO_REPLAY_BACKENDS__EVENT_STREAM__COMMAND"
    env = own_tmp(tmp_path, **{variable: "[" * 50_000 + "]" * 50_000})
    refused(cli("config", "check", config, env=env), tmp_path, variable, "nested too deeply")


# --- bounds of other values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("jitter = 1e12", "schedule.jitter"),
        ("jitter = -1", "schedule.jitter"),
        ("catch_up = -5", "schedule.catch_up"),
        ("catch_up = 40000000", "schedule.catch_up"),
        ("retry_backoff = -30", "schedule.retry_backoff"),
        ("interval = 1e12", "schedule.interval"),
    ],
)
def test_schedule_durations_out_of_range_are_exit_2(tmp_path: Path, setting: str, key: str) -> None:
    config = tmp_path / "schedule.toml"
    config.write_text(f"[schedule]\n{setting}\n")
    refused(cli("config", "check", config, env=own_tmp(tmp_path)), tmp_path, key)


def test_schedule_durations_of_up_to_a_year_are_accepted() -> None:
    schedule = {"interval": "P366D", "jitter": 366 * 86400, "catch_up": 0, "retry_backoff": "P1D"}
    assert load_settings(overrides={"schedule": schedule}).schedule.jitter.days == 366


@pytest.mark.parametrize(
    ("flag", "value", "key"),
    [
        ("--node-id", "99999999999999999999999", "replay.node_id"),
        ("--node-id", str(2**63), "replay.node_id"),
        ("--segment-rounds", str(10**23), "replay.segment_rounds"),
    ],
)
def test_node_id_and_segment_rounds_are_bounded_by_a_java_long(history: History, tmp_path: Path, flag: str, value: str, key: str) -> None:
    result = cli("plan", *replay_args(history, tmp_path, "--out", tmp_path / "out", flag, value), env=own_tmp(tmp_path))
    refused(result, tmp_path, key, "9223372036854775807")


def test_the_largest_node_id_is_passed_to_the_tools(history: History, tmp_path: Path) -> None:
    result = cli("plan", *replay_args(history, tmp_path, "--out", tmp_path / "out", "--node-id", str(2**63 - 1), "--json"))
    assert result.returncode == 0, result.stderr
    assert str(2**63 - 1) in result.stdout


# --- state init -----------------------------------------------------------------------------------


def test_state_init_says_a_hash_of_the_right_length_is_not_hexadecimal(tmp_path: Path) -> None:
    result = cli("state", "init", "0", tmp_path / "state", "--hash", "G" + "0" * 95, env=own_tmp(tmp_path))
    refused(result, tmp_path, "'G' is not a hexadecimal digit")
    assert "96 character(s)" not in result.stderr
    assert not (tmp_path / "state").exists()


def test_state_init_says_a_negative_round_is_negative(tmp_path: Path) -> None:
    result = cli("state", "init", "-1", tmp_path / "state", "--hash", STATE_HASH, env=own_tmp(tmp_path))
    refused(result, tmp_path, "'ROUND'", "-1 is negative")
    assert "No such option" not in result.stderr
    assert not (tmp_path / "state").exists()


def test_state_init_still_names_an_unknown_option(tmp_path: Path) -> None:
    result = cli("state", "init", "5", tmp_path / "state", "--hash", STATE_HASH, "--bogus", env=own_tmp(tmp_path))
    refused(result, tmp_path, "No such option '--bogus'")


def test_state_init_bounds_the_node_id_by_a_java_long(tmp_path: Path) -> None:
    result = cli("state", "init", "5", tmp_path / "state", "--hash", STATE_HASH, "--node-id", str(2**63), env=own_tmp(tmp_path))
    refused(result, tmp_path, "--node-id", "9223372036854775807")
    assert not (tmp_path / "state").exists()
