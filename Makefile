# The quick-start commands: `make run` and `make test` (and `make sandbox` to try the bot
# without a token). Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run sandbox test lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/incident-bot load-sample
	$(BIN)/incident-bot run

sandbox: $(BIN)/.installed
	$(BIN)/incident-bot sandbox

test: $(BIN)/.installed
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BIN)/.installed  # the benchmark suite (bench/): a table, bench/results.json, bench/RESULTS.md
	$(BIN)/python -m bench
