# Everyday commands. `make run` and `make test` install everything they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/pip --disable-pip-version-check --quiet

.PHONY: install run serve test schemathesis lint format openapi worker cron bench bench-api migrate lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version.split()[0]' 
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## run: migrate, seed the Bristol demo on an empty database, serve on http://127.0.0.1:5000 (docs at /docs)
run: install
	$(FLASK) db-upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://127.0.0.1:5000  (interactive docs: http://127.0.0.1:5000/docs)"
	$(FLASK) run --host 127.0.0.1 --port 5000

## test: the whole suite (PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set), on
## TEST_WORKERS pytest-xdist workers (one per core by default; each has its own database and
## queues); the long groups (acceptance, schemathesis, browser, processes) start first
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

## schemathesis: only the zero-5xx gate (part of `make test`; needs DATABASE_URL on PostgreSQL and REDIS_URL)
schemathesis: install
	$(BIN)/python -m pytest tests/schemathesis -q -s $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## openapi: regenerate the committed OpenAPI document from the code
openapi: install
	$(FLASK) openapi write --format=json openapi/openapi.json
	@echo "openapi/openapi.json updated"

migrate: install
	$(FLASK) db-upgrade

## worker: the job worker, serving agency-payments, agency-matching, agency-webhooks in that order (needs REDIS_URL)
worker: install
	@test -n "$(REDIS_URL)" || { echo "set REDIS_URL, e.g. redis://127.0.0.1:6379/0"; exit 1; }
	$(BIN)/agency-worker

## cron: RQ's cron scheduler for the periodic jobs in agency/cron.py (needs REDIS_URL)
cron: install
	@test -n "$(REDIS_URL)" || { echo "set REDIS_URL, e.g. redis://127.0.0.1:6379/0"; exit 1; }
	$(BIN)/rq cron agency/cron.py --url "$(REDIS_URL)"

bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

## bench-api: read throughput at 10k providers under gunicorn vs a bare-Flask floor (needs
## DATABASE_URL pointing at PostgreSQL for the deployed figures; SQLite otherwise). The load
## generator is Debian's wrk, installed here when missing (Python threads without it).
bench-api: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null; } || echo "bench-api: no wrk, Python threads drive the load"
	$(BIN)/python bench/api_reads.py $(BENCH_API_ARGS)

## lock: re-resolve requirements.lock from pyproject.toml (needs uv: pip install uv)
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
