# DaVinci Lock portal. `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrations-check seed clean
.PHONY: bench-multi-instance bench-outage bench-load bench-production

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $(VENV)/.installed $@

# Development server on the embedded SQLite database with the demo data.
run: $(VENV)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	@echo
	@echo "Open http://$(HOST):$(PORT)/ and sign in as owner@example.com / davinci-demo"
	@echo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite; SQLite unless DATABASE_URL is set. REQUIRE_BROWSER=1 fails without Chromium.
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: $(VENV)/.installed-dev
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Production readiness (README): gunicorn on PostgreSQL (127.0.0.1:5432) and Redis
# (127.0.0.1:6379). Each prints its figures and fails when a promise is broken.
LOAD_REQUESTS ?= 20000
bench-multi-instance: $(VENV)/.installed
	$(BIN)/python bench/multi_instance.py
bench-outage: $(VENV)/.installed
	$(BIN)/python bench/db_outage.py
bench-load: $(VENV)/.installed
	$(BIN)/python bench/load_test.py --requests $(LOAD_REQUESTS)
bench-production: bench-multi-instance bench-outage bench-load

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache
