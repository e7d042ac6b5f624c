# DaVinci Lock portal. `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrations-check seed clean lock freeze-check audit
.PHONY: $(VENV)/.installed $(VENV)/.installed-dev
.PHONY: bench-multi-instance bench-outage bench-load bench-production bench-scale bench-scale-ci

# Installs come from the committed locks in requirements/ (uv, hashes checked), never from
# pyproject.toml directly; scripts/venv.sh rebuilds a broken .venv and refuses a stale lock.
UV_VERSION := 0.13.9
UV_COMPILE := --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock"

$(VENV)/.installed:
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/venv.sh runtime

$(VENV)/.installed-dev:
	@PYTHON=$(PYTHON) VENV=$(VENV) scripts/venv.sh dev

# Re-resolve requirements/*.txt from pyproject.toml (after adding or changing a dependency,
# or to take new releases). uv lives in its own .venv-tools so it never enters the portal's venv.
lock:
	test -x .venv-tools/bin/uv || { rm -rf .venv-tools && $(PYTHON) -m venv .venv-tools \
		&& .venv-tools/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	.venv-tools/bin/uv pip compile pyproject.toml --extra dev $(UV_COMPILE) $(LOCK_ARGS) \
		-o requirements/dev.txt
	.venv-tools/bin/uv pip compile pyproject.toml $(UV_COMPILE) -c requirements/dev.txt \
		-o requirements/runtime.txt
	.venv-tools/bin/python scripts/deps.py stamp requirements/dev.txt requirements/runtime.txt
	@echo "requirements/ compiled from pyproject.toml: review 'git diff requirements/' and commit it"

# The venv holds exactly the dev lock (CI runs this after installing).
freeze-check: $(VENV)/.installed-dev
	$(BIN)/python scripts/deps.py freeze-check requirements/dev.txt

# Known vulnerabilities in every locked package (pip-audit asks PyPI's advisory data).
# Exit 1: a vulnerability; 2: the data could not be reached (scripts/audit.py).
audit: $(VENV)/.installed-dev
	$(BIN)/python scripts/audit.py

# Development server on the embedded SQLite database with the demo data, on the first free
# port from PORT (and every line it prints says that port). The development-secrets warning
# is said once, by settings_summary: the other commands (and runserver's reloaded child,
# which inherits -W) filter it.
QUIET_DEV_SECRETS := -W ignore::RuntimeWarning:davinci.settings
run: $(VENV)/.installed
	@port=$$($(BIN)/python scripts/free_port.py $(HOST) $(PORT)) && export DEBUG=$${DEBUG:-1} && \
	  $(BIN)/python $(QUIET_DEV_SECRETS) manage.py migrate --no-input && \
	  $(BIN)/python $(QUIET_DEV_SECRETS) manage.py seed_demo --base-url "http://$(HOST):$$port" && \
	  echo && $(BIN)/python $(QUIET_DEV_SECRETS) manage.py settings_summary && echo && \
	  echo "Open http://$(HOST):$$port/ and sign in as owner@example.com / davinci-demo" && \
	  echo && exec $(BIN)/python $(QUIET_DEV_SECRETS) manage.py runserver $(HOST):$$port

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

# The largest operator (3,000 facilities, 5M LockEvents) beside the demo account: every page
# and API endpoint within budget (docs/scaling.md). The first run loads the database
# davinci_scale (about 10 minutes), later runs reuse it; SCALE_ARGS=--reload loads it again.
bench-scale: $(VENV)/.installed
	$(BIN)/python bench/scale.py $(SCALE_ARGS)
# The same at 300 facilities and 200,000 LockEvents (database davinci_scale_ci), for CI.
bench-scale-ci: $(VENV)/.installed
	$(BIN)/python bench/scale.py --ci $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .venv-tools staticfiles test-artifacts .pytest_cache .ruff_cache
