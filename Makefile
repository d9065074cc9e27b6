# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv run test test-unit lint format vendor-js

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.dev

## Set up, migrate, load the original data (into an empty database) and serve on $(HOST):$(PORT),
## with the worker (alerts, webhooks) beside the development server, stopped with it.
run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_original_data
	$(BIN)/python manage.py worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Set up and run the whole suite (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set).
test: $(VENV)/.dev
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

## The unit tests only (no servers started), e.g. on the embedded default.
test-unit: $(VENV)/.dev
	$(BIN)/pytest -m "not system" $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the vendored chart library from the npm registry (needs npm; the copy is committed).
vendor-js:
	npm install --no-save --no-audit --no-fund
	cp node_modules/chart.js/dist/chart.umd.min.js production/static/production/vendor/chart.umd.min.js
	cp node_modules/chart.js/LICENSE.md production/static/production/vendor/chart.js.LICENSE.md
