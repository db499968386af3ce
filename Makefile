# AlphaMale: `make help` lists the targets. Everything installs into .venv from the hashed locks
# in requirements/lock/ (`make lock` re-resolves them from the ranges in requirements/*.txt).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# One Python for the locks, the venv, CI and the images' base.
PYTHON_VERSION := $(shell cat .python-version)
PYTHON ?= python$(PYTHON_VERSION)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.stamp
LOCK := requirements/lock
# dev.txt: the whole venv (gateway, model server, tools); model-nodeps.txt goes in with --no-deps.
LOCKS := $(LOCK)/dev.txt $(LOCK)/model-nodeps.txt
QUIET_PIP := grep -v "is ignored: it is neither"; test $${PIPESTATUS[0]} -eq 0
UV ?= $(VENV)/bin/uv
# Linux x86-64 (CI, the images, the model-server boxes); every file of each pin hashed.
COMPILE = $(UV) pip compile -q --generate-hashes --python-version $(PYTHON_VERSION) \
  --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
  $(if $(UPGRADE),--upgrade)
VAR := var
HOST ?= 127.0.0.1
PORT ?= 8000
export ALPHAMALE_VAR_DIR ?= $(abspath $(VAR))
# `make up`'s secrets (the signing key, the model server's two keys): generated once into this
# file, mode 600; a value set in the environment wins over the file's.
COMPOSE_ENV ?= $(VAR)/compose.env
COMPOSE := docker compose --env-file $(COMPOSE_ENV)

.PHONY: help venv lock models model-server model-server-stop migrate seed run demo purge train test lint format bench bench-soak up down clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

venv: $(STAMP) ## Create .venv and install the locks, every file checked against its hash
$(STAMP): $(LOCKS) .python-version
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; sys.exit(None if v == "$(PYTHON_VERSION)" else \
	  f"$(VENV) is Python {v}; the locks are for $(PYTHON_VERSION) (.python-version): rm -r $(VENV)")'
	$(PIP) install -q --require-hashes -r $(LOCK)/dev.txt 2>&1 | $(QUIET_PIP)
	# facenet-pytorch pins an old torch: its own lock, installed without its dependencies.
	$(PIP) install -q --require-hashes --no-deps -r $(LOCK)/model-nodeps.txt 2>&1 | $(QUIET_PIP)
	touch $@

lock: $(STAMP) ## Re-resolve requirements/lock/ (keeps every pin that still fits; UPGRADE=1 takes new releases)
	$(COMPILE) requirements/gateway.txt requirements/model.txt requirements/dev.txt -o $(LOCK)/dev.txt
	# the images' locks: the same pins as the development lock, each with its own closure
	$(COMPILE) requirements/gateway.txt -c $(LOCK)/dev.txt -o $(LOCK)/gateway.txt
	$(COMPILE) requirements/model.txt -c $(LOCK)/dev.txt -o $(LOCK)/model.txt
	$(COMPILE) --no-deps requirements/model-nodeps.txt -o $(LOCK)/model-nodeps.txt

models: $(STAMP) ## Build face_check.mar, face_regions.mar and face_type.mar into model_store/
	$(PY) -m model_server.tools.archive build-all --store model_store

model-server: models ## Start TorchServe on 127.0.0.1 and wait until every worker is READY
	$(PY) -m model_server.tools.serve start --store model_store --var $(VAR)

model-server-stop: $(STAMP) ## Stop TorchServe
	$(PY) -m model_server.tools.serve stop --var $(VAR)

migrate: $(STAMP) ## Apply database migrations (ALPHAMALE_DATABASE_URL, SQLite by default)
	$(PY) -m gateway.cli.migrate upgrade

seed: migrate ## Seed the five types and the demo catalog (idempotent)
	$(PY) -m gateway.cli.seed

run: models seed ## Run the whole service locally (SQLite, local files, TorchServe); Ctrl-C stops it
	HOST=$(HOST) PORT=$(PORT) VAR=$(VAR) bash infra/local/run.sh

demo: $(STAMP) ## Post a generated sample to a running `make run` and print the answer
	$(PY) -m gateway.cli.demo --url http://$(HOST):$(PORT)

purge: $(STAMP) ## Delete analyses (and photos) older than ALPHAMALE_RETENTION_DAYS (30)
	$(PY) -m gateway.cli.purge

train: $(STAMP) ## Retrain the part detector (~25 min) and the type model (~90 min: edits' cache, views, parity)
	$(PY) -m model_server.training train --epochs 40 --output-dir $(VAR)/training/bootstrap \
	  --weights-out model_server/weights/face_regions.pt --eval-dir model_server/weights/eval \
	  --card model_server/weights/MODEL_CARD.md
	$(PY) -m model_server.training type-variants
	$(PY) -m model_server.training type-model
	$(PY) -m model_server.training type-views
	$(PY) -m model_server.training face-net-parity
	$(PY) -m model_server.training card

test: models ## Run the whole test suite (starts its own PostgreSQL, S3 API, TorchServe, gateway, Chromium)
	$(PY) -m pytest

bench: models ## Benchmarks (~17 min, loopback only): handlers, end to end vs raw TorchServe, a 10x spike, images and decodes
	$(PY) -m bench
	$(PY) -m bench.perf
	$(PY) -m bench.overload
	$(PY) -m bench.trust

bench-soak: models ## Soak: stack at half capacity for 30 min, errors and RSS growth (SOAK_ARGS=...)
	$(PY) -m bench.soak $(SOAK_ARGS)

up: $(COMPOSE_ENV) ## Start the containerised stack (postgres, MinIO, TorchServe, gateway)
	$(COMPOSE) up -d --build --wait

down: $(COMPOSE_ENV) ## Stop the containerised stack
	$(COMPOSE) down

$(COMPOSE_ENV):
	mkdir -p $(@D)
	umask 077; for name in SIGNING_KEY MODEL_INFERENCE_KEY MODEL_MANAGEMENT_KEY; do \
	  echo "ALPHAMALE_$$name=$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"; done > $@

lint: $(STAMP) ## Ruff, the import contracts, the workflows (schema, zizmor), Dockerfiles (hadolint), compose
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	# any finding fails (not only high ones); offline: ci.yml runs the online audits too
	$(VENV)/bin/zizmor --offline --quiet .github/workflows
	$(VENV)/bin/hadolint --failure-threshold warning infra/docker/*.Dockerfile

format: $(STAMP) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## Remove built archives and runtime state (keeps .venv)
	rm -rf $(VAR) model_store/*.mar logs
