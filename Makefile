# Junction: `make demo` runs it on this machine, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, or installed with pip into .tools/ on a machine that lacks it.
UV ?= $(shell command -v uv 2>/dev/null || echo "$(CURDIR)/.tools/bin/uv")
PYTHON ?= python3
RUN := $(UV) run --frozen --all-packages

# CI (CI=true) runs the suite on the PostgreSQL and Redis on 127.0.0.1, then the
# migrations and the vertical slice once more on SQLite with the embedded Redis.
CI_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
CI_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: help install browser demo test lint typecheck chart-check web web-client web-check pytest pytest-ci schema bench clean

help:
	@echo "make demo   run Junction here (SQLite, embedded Redis, demo tenant)"
	@echo "make test   ruff, mypy, the Helm chart check and the whole test suite"
	@echo "make bench  run the benchmarks under bench/"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.installed: $(UV) pyproject.toml uv.lock plugins/*/pyproject.toml
	$(UV) sync --frozen --all-packages --compile-bytecode
	@touch $@

install: .venv/.installed

demo: install web
	$(RUN) junction demo

test: install browser lint typecheck chart-check web-check pytest

# The web app's browser tests drive the system's Chromium (no browser is downloaded):
# installed with apt where it is missing and this user may install packages.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| { echo "installing Chromium"; \
		     $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
		       apt-get install -y -q chromium >/dev/null; }

# The web app (frontend/): its packages from package-lock.json, built into frontend/dist,
# which the API serves at / and /app.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

web: frontend/node_modules/.installed
	cd frontend && npm run build

# The typed client, regenerated from the API's OpenAPI schema (after an API change).
web-client: install frontend/node_modules/.installed
	$(RUN) junction openapi > frontend/openapi.json
	cd frontend && npm run client

# Types, component tests, and the typed client against the current API (a stale one fails).
web-check: install web
	cd frontend && npm run typecheck && npm test
	$(RUN) junction openapi | diff -q - frontend/openapi.json >/dev/null \
		|| { echo "frontend/openapi.json is stale: run make web-client"; exit 1; }
	cd frontend && npx openapi-typescript openapi.json -o /tmp/junction-schema.d.ts >/dev/null \
		&& diff -q /tmp/junction-schema.d.ts src/api/schema.d.ts >/dev/null \
		|| { echo "frontend/src/api/schema.d.ts is stale: run make web-client"; exit 1; }

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy

# The Helm chart rendered by Helm's engine and checked against Kubernetes' schemas, and
# the Dockerfile linted; both offline.
chart-check: install
	$(RUN) python helm/check_chart.py
	$(RUN) hadolint Dockerfile

ifeq ($(CI),true)
pytest: install
	JUNCTION_TEST_DATABASE_URL=$(CI_DATABASE_URL) JUNCTION_TEST_REDIS_URL=$(CI_REDIS_URL) $(RUN) pytest
	JUNCTION_TEST_DATABASE_URL= JUNCTION_TEST_REDIS_URL= $(RUN) pytest -m slice
else
pytest: install
	$(RUN) pytest
endif

schema: install
	$(RUN) junction tenants schema > tenants/manifest.schema.json

bench: install
	@for bench in bench/*.py; do echo "== $$bench"; $(RUN) python $$bench || exit 1; done

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules frontend/dist
