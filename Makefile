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

.PHONY: demo test bench
demo: $(BIN)/hiero-replay
	$(BIN)/hiero-replay demo

test: $(BIN)/hiero-replay
	$(BIN)/python -m pytest

bench: $(BIN)/hiero-replay
	$(BIN)/python -m bench.preflight --size-mb 1024 --workers 2 --repeat 5
	$(BIN)/python -m bench.pacing --seconds 8
