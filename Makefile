# 社会工作者职业水平证书登记 — common tasks. `make run` and `make test` are all a newcomer needs.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)
# Test processes in parallel (pytest-xdist): the suite mostly waits on the broker and the services,
# so 4 pay even on 2 cores; a test file stays on one worker. JOBS=0 runs everything in this process.
JOBS ?= 4
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: install run test test-fast test-postgres test-slow screenshots bench lint asyncapi contracts migrate clean

.venv/bin/python:
	python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip

.venv/.installed: pyproject.toml .venv/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: .venv/.installed

run: install  ## every service in its own process, SQLite under var/, local RabbitMQ; Ctrl-C stops all
	$(PY) -m services run

test: install  ## the whole suite against the real broker (SQLite databases), drills left to test-slow
	$(PY) tests/preflight.py
	$(PYTEST) -n $(JOBS) --dist loadfile -m "not slow"

test-fast: install  ## unit tests only: no broker (a few use a throw-away SQLite file)
	$(PY) -m pytest -q tests/unit

test-postgres: install  ## integration and end-to-end tests with every service database on PostgreSQL
	$(PY) tests/preflight.py --postgres
	TEST_DATABASE=postgresql $(PYTEST) -n $(JOBS) --dist loadfile -m "not slow" tests/integration tests/e2e tests/ops

# One process: the drills boot private RabbitMQ nodes, and two booting at once on 2 cores overran the
# 180 s boot wait once; the tier takes about 5 min per database serially.
test-slow: install  ## the drills: restore drill, fault proofs on private nodes (SQLite, then PostgreSQL)
	$(PY) -m pytest -q -p no:cacheprovider -m slow
	TEST_DATABASE=postgresql $(PY) -m pytest -q -p no:cacheprovider -m slow

screenshots: install  ## every page at phone and desktop size into docs/screenshots (drives chromium)
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -p no:cacheprovider tests/browser

bench: install  ## performance figures with this machine's ceiling measured in the same run
	$(PY) bench/run_all.py

lint: install
	.venv/bin/ruff check services tests bench examples

asyncapi: install  ## regenerate docs/asyncapi.yaml from the event schemas
	$(PY) -m services.common.asyncapi > docs/asyncapi.yaml

contracts: install  ## regenerate services/contracts/registration.json (form, code tables, campaign request) for the OpenAPI document
	$(PY) -m services.registration.published > services/contracts/registration.json

clean:
	rm -rf var .pytest_cache
