# Developer and CI entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install into the venv whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?= -q -n 2

.PHONY: help install assets venv system-deps lint test demo bench load soak scale-demo clean distclean

help:
	@echo "make install      system packages (apt) and the Python venv"
	@echo "make test         install, lint, then the whole test suite (PostgreSQL and browser tests included)"
	@echo "make lint         ruff and import-linter"
	@echo "make demo         run a demo instance in .demo/ on http://127.0.0.1:8000"
	@echo "make bench        run every benchmarks/*.py but the fault soak"
	@echo "make load         load test: 50 users for 5 minutes against gunicorn (LOAD_ARGS='--duration 30')"
	@echo "make soak         the fault soak: every fault scenario 20 times on the scale-out processes"
	@echo "make scale-demo   start the scale-out deployment as local processes (PostgreSQL, S3, Redis, gunicorn, 2 workers)"
	@echo "make clean        remove caches and demo data (distclean also removes .venv)"

install: system-deps venv assets

# Browser assets from npm (package-lock.json): Swagger UI for /api/v1/docs, axe-core for the accessibility test.
assets: node_modules/.installed-stamp

node_modules/.installed-stamp: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

system-deps:
	bash scripts/install-system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

demo: install
	ARCHIVE_HOME=$(CURDIR)/.demo $(BIN)/archive demo

bench: venv
	@shopt -s nullglob; files=(); for f in benchmarks/*.py; do [ "$$f" = benchmarks/fault_soak.py ] || files+=("$$f"); done; \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(BIN)/python "$$f" || exit 1; done

# The load test: a seeded archive under gunicorn on 127.0.0.1, locust's users against it (benchmarks/load/).
LOAD_ARGS ?=
load: venv
	$(BIN)/python benchmarks/load/run.py $(LOAD_ARGS)

soak: install
	$(BIN)/python benchmarks/fault_soak.py

scale-demo: install
	$(BIN)/python tests/scale_env.py

clean:
	rm -rf .pytest_cache .ruff_cache build dist .demo
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
