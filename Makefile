# Kenoma: `make run` serves, `make test` tests. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test test-postgres engines fuzz lint migrate clean bench bench-growth bench-streaming bench-profile

# Each stamp is written only once its step has finished. A first run interrupted while the
# environment was being made (Ctrl-C during `python -m venv`) leaves a .venv without a working
# pip and without the stamp: the next run finds that out and makes the environment again.
$(VENV)/.created:
	$(BIN)/python -m pip --version >/dev/null 2>&1 || { \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; }
	touch $@

$(VENV)/.installed: requirements.txt $(VENV)/.created
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(BIN)/flask db upgrade

# KENOMA_PORT: with no BASE_URL configured, the server names itself http://127.0.0.1:$(PORT).
run: migrate
	KENOMA_PORT=$(PORT) MALLOC_ARENA_MAX=2 $(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'app:create_app()'

# The node client tests (tests/clients/test_megalodon.py) drive Kenoma with megalodon from npm,
# pinned by tests/clients/node/package-lock.json. Without node and npm, Debian's packages are
# installed (as `bench` installs wrk). The stamp is in node_modules, which npm ci recreates.
NODE_DIR := tests/clients/node
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests (tests/browser/) drive Debian's Chromium with Playwright, which is pointed at
# /usr/bin/chromium and never downloads a browser of its own. Installed here when missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && apt-get install -y -qq chromium

# The ActivityPub interop tests (tests/federation/test_bovine.py) sign and verify with bovine, an
# independent implementation from PyPI. It pins an older `cryptography` than Kenoma's, so it has
# its own environment, pinned by tests/federation/peer-requirements.txt and run as a subprocess.
PEER_VENV := .venv-peer
PEER_REQUIREMENTS := tests/federation/peer-requirements.txt
$(PEER_VENV)/.installed: $(PEER_REQUIREMENTS)
	$(PEER_VENV)/bin/python -m pip --version >/dev/null 2>&1 || { \
		rm -rf $(PEER_VENV) && $(PYTHON) -m venv $(PEER_VENV); }
	$(PEER_VENV)/bin/python -m pip install --quiet -r $(PEER_REQUIREMENTS)
	touch $@

test: $(VENV)/.installed-dev $(NODE_DIR)/node_modules/.installed $(PEER_VENV)/.installed $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The scaled layout (SPEC 28, README "Scaling out"): the same suite, each app on PostgreSQL and
# Redis. tests/scaled.py starts a throwaway server of each in a temporary folder on free ports and
# stops them afterwards; nothing needs to be running. Debian's packages are installed when missing
# (as `bench` installs wrk), and everything `test` needs too: it is the same suite.
engines:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq postgresql redis-server)

test-postgres: $(VENV)/.installed-dev $(NODE_DIR)/node_modules/.installed $(PEER_VENV)/.installed $(CHROMIUM) engines
	KENOMA_TEST_DB=postgres $(BIN)/python -m pytest -q -n 2 --dist loadfile

# The long schemathesis run over /openapi.json (FUZZ_EXAMPLES requests per operation, valid and
# invalid); `make test` runs the short one.
FUZZ_EXAMPLES ?= 60
fuzz: $(VENV)/.installed-dev
	KENOMA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -m slow tests/test_openapi_fuzz.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Kenoma under gunicorn against bare floors measured in the same run (bench/README.md).
# GROWTH=100000 make bench (or make bench-growth) also measures home and favourites at 100k statuses.
# BENCH_DB=postgres make bench: Kenoma on a throwaway PostgreSQL and Redis (bench/README.md).
bench: $(VENV)/.installed $(if $(filter postgres,$(BENCH_DB)),engines)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

bench-growth:
	GROWTH=100000 $(MAKE) bench

# The streaming API: 500 idle SSE connections (memory, REST beside them, commit -> frame delay).
bench-streaming: $(VENV)/.installed
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/stream_probe.py

# Where one request of a row spends its CPU, by layer and by function (bench/profile_rows.py):
# make bench-profile ROWS="favourite POST"; BENCH_DB=postgres works as for bench.
bench-profile: $(VENV)/.installed $(if $(filter postgres,$(BENCH_DB)),engines)
	$(BIN)/python bench/profile_rows.py $(ROWS)

clean:
	rm -rf $(VENV) $(PEER_VENV)
