# Two entry points: `make demo` runs the main job, `make test` runs the test suite.
# Both create the virtual environment on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

$(BIN)/hiero-replay: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

.PHONY: demo test check bench fuzz pushgateway chromium
demo: $(BIN)/hiero-replay
	$(BIN)/hiero-replay demo

# The metrics tests push to a real Pushgateway (Debian package); installed when possible, else skipped.
pushgateway:
	@command -v prometheus-pushgateway >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq prometheus-pushgateway >/dev/null) || \
	  echo "prometheus-pushgateway could not be installed: its test will be skipped"

# The report's browser test renders pages in headless Chromium (Debian chromium + chromium-driver); installed when possible, else skipped.
chromium:
	@(command -v chromium >/dev/null && command -v chromedriver >/dev/null) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "chromium could not be installed: the report's browser test will be skipped"

# The gates: lint, formatting and types (strict); any finding fails `make test`.
check: $(BIN)/hiero-replay
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(BIN)/hiero-replay pushgateway chromium check
	$(BIN)/python -m pytest

# The fuzz properties of tests/test_fuzz.py with many random examples (make test runs a few, seeded).
FUZZ_EXAMPLES ?= 5000
fuzz: $(BIN)/hiero-replay
	HIERO_REPLAY_FUZZ_PROFILE=fuzz HIERO_REPLAY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest tests/test_fuzz.py --hypothesis-show-statistics

# The scale bench generates folders of 100,000 and 1,000,000 blocks and fills a bucket with the
# million (once, cached under bench/out/: minutes for the folders, about 15 for the bucket).
bench: $(BIN)/hiero-replay
	$(BIN)/python -m bench.preflight --size-mb 1024 --workers 2 --repeat 5
	$(BIN)/python -m bench.cache --files 200000 --repeat 3
	$(BIN)/python -m bench.pacing --seconds 8
	@command -v rclone >/dev/null || (apt-get update -qq && apt-get install -y -qq rclone >/dev/null)
	$(BIN)/python -m bench.fetch --files 2000 --repeat 3 --latency 0.05
	$(BIN)/python -m bench.startup --repeat 10
	$(BIN)/python -m bench.history --repeat 5
	$(BIN)/python -m bench.overhead --rounds 5000 --repeat 9
	$(BIN)/python -m bench.scale --blocks 1000000 --small 100000 --repeat 3
