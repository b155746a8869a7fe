# The two commands of README.md. Both create .venv when missing and install what is missing.
# Debian's python3.11 is preferred: it is built with optimisations, the pyenv one is not.
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install serve test lint soak bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && python3 -m venv $(VENV))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/python -m gateway serve

lint: install
	$(BIN)/ruff check gateway tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# 64 concurrent clients for 60 s, mixed queries and mutations, faults on; prints its report (JSON).
soak: install
	$(BIN)/python -m tests.soak --duration 60 --clients 64

# The gateway beside the floor and the naive gateway, at 0 and 20 ms upstream latency; prints a table
# and writes artifacts/bench.json. Takes several minutes; asserts nothing about time.
bench: install
	$(BIN)/python -m tests.bench.run --latencies 0,20 --output artifacts/bench.json
