# The two commands of README.md. Both create .venv when missing and install what is missing.
# Debian's python3.11 is preferred: it is built with optimisations, the pyenv one is not.
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Python packages, pinned and hashed: requirements.lock is what the gateway runs on (the Docker image
# installs it), requirements-dev.lock adds the test and lint tools (make installs it). `make lock`
# recompiles both from pyproject.toml, keeping every pin that still fits; `make lock UPGRADE=1` moves
# every package to the newest version pyproject.toml allows, `make lock UPGRADE="strawberry-graphql
# graphql-core"` only those.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock" \
	$(if $(filter 1,$(UPGRADE)),--upgrade,$(foreach package,$(UPGRADE),--upgrade-package $(package)))

# Node packages, each set pinned by its package-lock.json: GraphiQL's assets (web/, served by the gateway)
# and the test tools (tests/node/: the federation router and second subgraph, the Chromium driver).
GRAPHIQL_ASSETS := web/node_modules/.package-lock.json
NODE_TOOLS := tests/node/node_modules/.package-lock.json
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)
NPM := npm ci --no-audit --no-fund --loglevel=error
# Another install holding Debian's package lock (unattended upgrades, a second make) is waited for, up to
# 10 minutes, rather than failing with "Could not get lock /var/lib/dpkg/lock-frontend".
APT := $(SUDO) apt-get -o DPkg::Lock::Timeout=600

.PHONY: install serve test lint lock soak bench node chromium redis

$(STAMP): pyproject.toml setup.py requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && python3 -m venv $(VENV))
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --require-hashes -r requirements-dev.lock
	$(PIP) install --quiet --no-deps -e .
	@touch $(STAMP)

lock: $(STAMP)
	$(LOCK) --extra dev -o requirements-dev.lock
	$(LOCK) --constraint requirements-dev.lock -o requirements.lock

# Debian's packages when the machine lacks them: Node.js with npm, and Chromium for the browser test.
node:
	@command -v npm >/dev/null || ($(APT) update -q && $(APT) install -y -q nodejs npm)

chromium:
	@command -v chromium >/dev/null || ($(APT) update -q && $(APT) install -y -q chromium)

# Debian's Redis for the live-events tests and the bench: a real server (tests/redis_server.py starts one
# per session on a free port, no persistence), never one shared with the machine.
redis:
	@command -v redis-server >/dev/null || ($(APT) update -q && $(APT) install -y -q redis-server)

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

# The fast unit tests first (seconds, no servers), then everything else against real servers. (Exit
# status 5 is pytest's "no tests collected".)
test: lint $(NODE_TOOLS) chromium redis
	$(BIN)/pytest tests/unit || test $$? = 5
	$(BIN)/pytest --ignore=tests/unit

# 64 concurrent clients for 60 s, mixed queries and mutations, faults on; then 100 operations a second for
# 60 s without and then beside the attacker mix (tests/attackers.py); then 32 clients for 60 s on two
# instances sharing a Redis cache, every acknowledged write read back from both. Prints the reports (JSON).
soak: install redis
	$(BIN)/python -m tests.soak --duration 60 --clients 64
	$(BIN)/python -m tests.soak --duration 60 --clients 32 --rate 100 --attackers
	$(BIN)/python -m tests.soak --cache --duration 60 --clients 32

# The gateway beside the floor and the naive gateway, at 0 and 20 ms upstream latency, with the hot columns
# (the cache on, in memory and in Redis) for the read scenarios, automatic persisted queries (hash alone
# against the full document: bytes and latency), then live delivery (webhooks to 1,000 subscribers on two
# gateways sharing Redis); prints a table and writes artifacts/bench.json. Takes several minutes; asserts
# nothing about time.
bench: install redis
	$(BIN)/python -m tests.bench.run --latencies 0,20 --output artifacts/bench.json
