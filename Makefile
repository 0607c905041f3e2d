# govwx — two commands: `make run` (the demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-pg test-redis lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3

# The typo family is compiled at install (setup.py): its sources are installed again
# when they change.
COMPILED := setup.py govwx/content/proofread/lexicon.py govwx/content/proofread/typos.py

$(VENV)/.run-installed: pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(COMPILED) | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	GOVWX_SANDBOX=1 $(BIN)/govwx demo --serve --host $(HOST) --port $(PORT)

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The database tests again on PostgreSQL (GOVWX_TEST_DATABASE_URL, e.g.
# postgres://postgres@127.0.0.1:5432/test).
test-pg: $(VENV)/.test-installed
	GOVWX_TEST_DATABASE_URL=$${GOVWX_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	  $(BIN)/python -m pytest -q -m "not browser" $(PYTEST_ARGS)

# The shared cache (access tokens and their lock) on Redis (GOVWX_REDIS_URL, e.g.
# redis://127.0.0.1:6379/15 — the tests clear that database).
test-redis: $(VENV)/.test-installed
	GOVWX_REDIS_URL=$${GOVWX_REDIS_URL:-redis://127.0.0.1:6379/15} \
	  $(BIN)/python -m pytest -q govwx/wechat $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check govwx
	$(BIN)/ruff check govwx
	$(BIN)/mypy govwx

clean:
	rm -rf $(VENV) var
