# iWORKZ infrastructure: every target installs what it needs first (make install is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# uv installs the locked packages (uv.lock, requirements/checkov.txt: every transitive package
# pinned with its hashes) in seconds and byte-compiles nothing up front; it lives in its own venv.
UV_VERSION := 0.13.9
TOOLS_VENV := .venv-tools
UV := $(TOOLS_VENV)/bin/uv
UV_STAMP := $(TOOLS_VENV)/.installed-uv-$(UV_VERSION)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# The project's Node 22 (package.json) comes first: jsii and the cdktf CLI run on it.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CHECKPOINT_DISABLE := 1
export CDKTF_DISABLE_TELEMETRY := true
export STACKS
export ENVS

.PHONY: help install install-cli lock synth synth-hcl test lint fmt typecheck scan bench diff watch snapshots env clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Node: a synth needs only Node 22 (jsii runs the providers' JavaScript on it): `npm ci --omit=dev`.
# The cdktf CLI is a dev dependency (~420 MB, ~35 s of npm ci), installed by the targets that run it.
NODE_STAMP := node_modules/.installed-node
CLI_STAMP := node_modules/.installed
CHECK_NODE := node --version | grep -qE '^v(2[2-9]|[3-9][0-9])\.' || { echo "error: node_modules/.bin/node is not Node >= 22" >&2; exit 2; }

install: $(VENV)/.installed $(VENV)/.bytecode $(NODE_STAMP) ## create .venv (locked Python packages) and node_modules with Node 22 (idempotent)

install-cli: $(CLI_STAMP) install ## make install and the cdktf CLI (npx cdktf deploy / login, make synth-hcl, make test)

# The tools venv without pip of its own (ensurepip is most of a venv's creation time): the
# interpreter's pip installs uv into it, or, where it has none, the venv's own pip after all.
$(UV_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)" >&2; exit 2; }
	$(PYTHON) -m venv --without-pip $(TOOLS_VENV)
	$(PYTHON) -m pip --python $(TOOLS_VENV)/bin/python install --quiet --disable-pip-version-check --no-compile 'uv==$(UV_VERSION)' \
	  || { $(TOOLS_VENV)/bin/python -m ensurepip --default-pip >/dev/null \
	       && $(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'; }
	@touch $@

# --frozen: install exactly uv.lock (a test fails when pyproject.toml and the lock disagree: `make lock`).
$(VENV)/.installed: pyproject.toml uv.lock $(UV_STAMP)
	$(UV) sync --quiet --frozen --extra dev --python $(PYTHON)
	@touch $@

# What a synth imports, byte-compiled once (scripts/compile_bytecode.py): again when a stack or
# construct may import another provider module. The synth runs as python -O (jsii's generated
# type checks, ~1.5 s per environment, are `if __debug__:` blocks; the test suite, without -O,
# keeps them over every stack), so it reads .opt-1.pyc; the tests' plain .pyc are compiled by `make test`.
SOURCES := $(wildcard stacks/*.py constructs/*.py iworkz/*.py iworkz/*/*.py iworkz/*/*/*.py)
$(VENV)/.bytecode: $(VENV)/.installed $(SOURCES)
	$(PY) scripts/compile_bytecode.py --optimize 1
	@touch $@

$(VENV)/.bytecode-tests: $(VENV)/.installed $(SOURCES)
	$(PY) scripts/compile_bytecode.py --optimize 0
	@touch $@

# A current CLI install holds Node 22 too: nothing to do then (npm ci would remove the CLI).
$(NODE_STAMP): package.json package-lock.json
	@if [ $(CLI_STAMP) -nt package.json ] && [ $(CLI_STAMP) -nt package-lock.json ]; then :; \
	else npm ci --omit=dev --no-audit --no-fund --loglevel=error; fi
	@$(CHECK_NODE)
	@touch $@

$(CLI_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@$(CHECK_NODE)
	@touch $@ $(NODE_STAMP)

synth: install ## synthesise every stack (or STACKS=... ENVS=...) into cdktf.out/stacks/<stack>/cdk.tf.json (environments in parallel; IWORKZ_SYNTH_JOBS=1: one process)
	$(PY) -O main.py

synth-hcl: install-cli ## the same as HCL (cdk.tf) through the cdktf CLI
	cdktf synth --hcl

test: install-cli $(VENV)/.bytecode-tests $(CHECKOV_STAMP) ## run the test suite (one synth per session; its policy tests run checkov)
	$(PY) -m pytest

lint: typecheck ## ruff (lint + format check), mypy (make typecheck) and the secret scan of the repository
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m iworkz.policy.secret_scan

typecheck: install ## mypy over the app, stacks, constructs (every prop they take), runtime, scripts and tests
	$(VENV)/bin/mypy

# The figures go to reports/bench.json (ignored); UPDATE=1 rewrites the committed docs/bench.json.
# BENCH_FRESH=1 adds the fresh-clone install measurement (locked uv install vs the former pip one, ~10 min).
bench: install ## benchmark floor / full synth / single stacks / tests -> reports/bench.json (UPDATE=1: docs/bench.json; BENCH_FRESH=1: fresh installs)
	$(PY) scripts/bench.py --repeat 3 $(if $(filter 1,$(UPDATE)),--update) $(if $(filter 1,$(BENCH_FRESH)),--fresh)

diff: install ## synth diff against BASE=<git ref>: per-stack resource changes, stateful alerts; fails if anything changed
	@test -n "$(BASE)" || { echo "error: make diff BASE=<git ref> (e.g. BASE=origin/main)" >&2; exit 2; }
	@rm -f reports/synth-diff.md
	$(PY) scripts/synth_diff.py --base "$(BASE)" --markdown reports/synth-diff.md

watch: install ## keep providers loaded, re-synthesise STACKS/ENVS on every source/config/helm_values/runtime change
	$(PY) -O scripts/watch.py

snapshots: install ## refresh tests/snapshots/<stack>.json from a fresh synth (STACKS/ENVS refresh only those)
	$(PY) scripts/snapshots.py

env: install ## add an environment: make env NAME=qa [FROM=staging]; regenerates snapshots, stateful addresses, .gitlab-ci.yml
	@test -n "$(NAME)" || { echo "error: make env NAME=<environment> [FROM=staging]" >&2; exit 2; }
	$(PY) scripts/new_environment.py "$(NAME)" --from "$(or $(FROM),staging)"

# Formats even when `ruff check --fix` leaves something it cannot fix (listed, and the target fails
# after formatting). FMT_PATHS narrows it (default: the repository).
FMT_PATHS ?= .
fmt: install ## format the code with ruff (after its automatic lint fixes)
	@status=0; $(VENV)/bin/ruff check --fix $(FMT_PATHS) || status=$$?; $(VENV)/bin/ruff format $(FMT_PATHS) && exit $$status

scan: install $(CHECKOV_STAMP) ## checkov (pinned, offline) over every synthesised stack; fails on any failed check
	$(PY) -O main.py
	$(PY) scripts/scan.py

# checkov lives in its own venv (its dependencies conflict with cdktf's), installed only by the
# targets that scan, from requirements/checkov.txt (hashes).
$(CHECKOV_STAMP): requirements/checkov.txt $(UV_STAMP)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	$(UV) pip sync --quiet --python $(CHECKOV_VENV)/bin/python --require-hashes requirements/checkov.txt
	@touch $@

lock: $(UV_STAMP) ## re-resolve uv.lock and requirements/checkov.txt after a dependency change in pyproject.toml / requirements/checkov.in
	$(UV) lock
	$(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11 requirements/checkov.in -o requirements/checkov.txt

clean: ## remove generated output (keeps .venv and node_modules)
	rm -rf cdktf.out .cdktf.out.* reports
