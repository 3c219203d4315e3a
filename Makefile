# critdesk: make install | run | test | bench | lint
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install system-deps run test test-sqlite test-postgres lint bench lock clean

install: $(STAMP) system-deps

# Python packages come from the lock file only (hash-checked); critdesk itself is installed
# editable without resolving anything again.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright never downloads a browser here).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing: run 'sudo apt-get install -y chromium' for the browser tests"; \
	  fi; \
	fi

run: install
	$(BIN)/critdesk db upgrade
	$(BIN)/critdesk demo
	$(BIN)/critdesk serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite; and on PostgreSQL too when CRITDESK_TEST_DATABASE_URL is set
# (the database-backed tests are parametrised over both backends).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src/critdesk

bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.redaction.run

lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
