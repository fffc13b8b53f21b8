# Two commands for a new user: `make run` and `make test`. Both create and reuse .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-smoke prodlike screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py run_demo 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks against PostgreSQL (BENCH_DATABASE_URL, recreated) and wrk (Debian package).
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-smoke: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run --smoke

# The dashboard's first screen at 1440x900 and 390x844 (demo data, Debian's chromium) into
# docs/screenshots/, as the README shows it.
screenshots: $(STAMP)
	$(PY) tools/screenshots.py

# ruff (pinned in pyproject.toml) and the layer contracts of import-linter ([tool.importlinter]).
# What docker-compose.yml starts, on this machine's PostgreSQL and Redis (tools/prodlike.py).
prodlike: $(STAMP)
	$(PY) tools/prodlike.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) gaoxin.sqlite3 staticfiles
