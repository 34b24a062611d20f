# Siren. Quick start on a fresh machine (needs only Python 3.11+, node and make):
#   make demo    the main job on the embedded local AWS
#   make test    lint, type checks and every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export AWS_DEFAULT_REGION ?= us-east-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv test lint typecheck browser-tools lint-tools alertmanager-tools unit synth demo up bench clean

# The virtual environment is (re)built whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Siren needs Python 3.11 or newer")'
	@command -v node >/dev/null || { echo "Siren needs node (the CDK runs on it)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# checkov, in a virtual environment of its own (it pins boto3, botocore and packaging below Siren's): inside .venv,
# so that it goes wherever .venv goes. Rebuilt when infra/lint-requirements.txt changes.
LINT_VENV := $(VENV)/lint
LINT_STAMP := $(LINT_VENV)/.installed
$(LINT_STAMP): infra/lint-requirements.txt | $(STAMP)
	@test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LINT_VENV)/bin/python -m pip install --quiet -r infra/lint-requirements.txt
	@touch $(LINT_STAMP)

lint-tools: $(LINT_STAMP)

# Debian's prometheus-alertmanager for tests/e2e/test_alertmanager.py (see tests/alertmanager_harness.py).
alertmanager-tools: $(STAMP)
	$(PY) -m tests.alertmanager_harness

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy layers/siren functions infra siren_local siren_cli

# Every tier but the browser's on both cores: pytest-xdist workers, each with its own embedded local AWS (moto's
# backends are per process), tiers in order (unit and infra first); worksteal evens out the long end-to-end tests.
# Then the browser tier alone, so that Chromium never runs beside two busy workers (the suite's memory peak).
# The slowest tests are printed so that cost stays visible. Two malloc arenas: less memory in threaded workers.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?= -q -n $(PYTEST_WORKERS) --dist worksteal --durations=15

test: export MALLOC_ARENA_MAX := 2
test: lint typecheck browser-tools lint-tools alertmanager-tools
	@shared=$$(mktemp -d) && trap 'rm -rf "$$shared"' EXIT && export SIREN_TEST_SHARED_DIR="$$shared" && \
	echo "$(VENV)/bin/pytest $(PYTEST_ARGS) --ignore=tests/browser" && \
	$(VENV)/bin/pytest $(PYTEST_ARGS) --ignore=tests/browser && \
	echo "$(VENV)/bin/pytest -q --durations=5 tests/browser" && \
	$(VENV)/bin/pytest -q --durations=5 tests/browser

# Chromium, a font, playwright-core and axe-core for the browser tier (installed once; see tests/browser/harness.py).
browser-tools: $(STAMP)
	$(PY) -m tests.browser.harness

synth: $(STAMP)
	$(PY) -c 'from infra.app import synthesize; a = synthesize(); print("synthesized", [s.stack_name for s in a.stacks], "into", a.directory)'

demo: $(STAMP)
	$(VENV)/bin/siren local demo $(DEMO_ARGS)

up: $(STAMP)
	$(VENV)/bin/siren local up

bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf cdk.out build .bench .mypy_cache .ruff_cache .pytest_cache
