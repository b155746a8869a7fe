# The two commands of README.md. Both create .venv when missing and install what is missing.
# Debian's python3.11 is preferred: it is built with optimisations, the pyenv one is not.
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Node packages, each set pinned by its package-lock.json: GraphiQL's assets (web/, served by the gateway)
# and the test tools (tests/node/: the federation router and second subgraph, the Chromium driver).
GRAPHIQL_ASSETS := web/node_modules/.package-lock.json
NODE_TOOLS := tests/node/node_modules/.package-lock.json
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)
NPM := npm ci --no-audit --no-fund --loglevel=error

.PHONY: install serve test lint soak bench node chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && python3 -m venv $(VENV))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Debian's packages when the machine lacks them: Node.js with npm, and Chromium for the browser test.
node:
	@command -v npm >/dev/null || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q nodejs npm)

chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

$(GRAPHIQL_ASSETS): web/package-lock.json | node
	$(NPM) --prefix web

$(NODE_TOOLS): tests/node/package-lock.json | node
	$(NPM) --prefix tests/node

install: $(STAMP) $(GRAPHIQL_ASSETS)

serve: install
	$(BIN)/python -m gateway serve

lint: install
	$(BIN)/ruff check gateway tests
	$(BIN)/mypy

test: lint $(NODE_TOOLS) chromium
	$(BIN)/pytest

# 64 concurrent clients for 60 s, mixed queries and mutations, faults on; then 100 operations a second for
# 60 s without and then beside the attacker mix (tests/attackers.py). Prints the reports (JSON).
soak: install
	$(BIN)/python -m tests.soak --duration 60 --clients 64
	$(BIN)/python -m tests.soak --duration 60 --clients 32 --rate 100 --attackers

# The gateway beside the floor and the naive gateway, at 0 and 20 ms upstream latency; prints a table
# and writes artifacts/bench.json. Takes several minutes; asserts nothing about time.
bench: install
	$(BIN)/python -m tests.bench.run --latencies 0,20 --output artifacts/bench.json
