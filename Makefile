# The quick-start commands: `make run` and `make test` (and `make sandbox` to try the bot
# without a token, `make demo` to run it with the sample data). Each creates .venv on first
# use: `run`, `demo` and `sandbox` install what the bot needs to run, `test` and `lint` add
# the development tools.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= demo.sqlite3

.PHONY: run demo sandbox test lint bench

$(BIN)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.dev: $(BIN)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.runtime  # the bot, on the live database (storage.path), which starts empty
	$(BIN)/incident-bot run

demo: $(BIN)/.runtime  # the bot with the sample incidents, in a database of its own
	INCIDENT_BOT_STORAGE__PATH=$(DEMO_DB) $(BIN)/incident-bot sample load
	INCIDENT_BOT_STORAGE__PATH=$(DEMO_DB) $(BIN)/incident-bot run

sandbox: $(BIN)/.runtime
	$(BIN)/incident-bot sandbox

test: $(BIN)/.dev
	$(BIN)/pytest

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(BIN)/.bench: $(BIN)/.dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(BIN)/.bench  # the benchmark suite (bench/): a table, bench/results.json, bench/RESULTS.md
	$(BIN)/python -m bench
