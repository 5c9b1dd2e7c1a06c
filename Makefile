# Two commands on a fresh machine with Python 3.11+ and make: `make run`, `make test`.
# uv is bootstrapped with pip into .tools/ when it is not on PATH; the pinned
# requirements.lock is installed into .venv, then this package (editable, no deps).
PYTHON ?= python3
UV_VERSION ?= 0.13.9
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
STAMP := $(VENV)/.installed
SAMPLE_ENTITIES ?= 2000
SAMPLE_SEED ?= 7

.PHONY: setup run test test-all test-browser lint sample bench ui clean

setup: $(STAMP)

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE is set, every process
# would otherwise compile Dagster and Great Expectations from source (20 s of each `mdm run`).
$(STAMP): requirements.lock pyproject.toml | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The main job on the default project (the repository root over data/samples/).
run: $(STAMP)
	$(BIN)/mdm run

# Regenerate the committed sample (a test checks it equals what the generator writes).
sample: $(STAMP)
	$(BIN)/mdm generate --entities $(SAMPLE_ENTITIES) --seed $(SAMPLE_SEED) --out data/samples --data-only

# Two workers, each taking whole test files (their module fixtures run once): a pipeline run
# keeps about one core busy, so two at a time halve the suite's wall time on 2 cores.
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile

test: $(STAMP)
	$(PYTEST)

# Includes the big runs marked slow (not the browser tests: `make test-browser`).
test-all: $(STAMP)
	$(PYTEST) -m "not browser"

# The tests marked browser, in a headless chromium driven by selenium through chromedriver:
# Debian's packages chromium and chromium-driver (installed here when run as root), or the
# binaries CHROMIUM and CHROMEDRIVER name. selenium-manager is never used, so nothing is
# downloaded (SE_OFFLINE too).
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver

test-browser: $(STAMP)
	@if [ ! -x "$(CHROMIUM)" ] || [ ! -x "$(CHROMEDRIVER)" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian's chromium and chromium-driver"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y --no-install-recommends chromium chromium-driver || exit 1; \
		fi; \
		if [ ! -x "$(CHROMIUM)" ] || [ ! -x "$(CHROMEDRIVER)" ]; then \
			echo "make test-browser needs chromium at $(CHROMIUM) and chromedriver at" \
				"$(CHROMEDRIVER): install Debian's with" \
				"'sudo apt-get install chromium chromium-driver', or name other binaries with" \
				"'make test-browser CHROMIUM=/path/to/chromium CHROMEDRIVER=/path/to/chromedriver'" >&2; \
			exit 1; \
		fi; \
	fi
	CHROMIUM="$(CHROMIUM)" CHROMEDRIVER="$(CHROMEDRIVER)" SE_OFFLINE=true \
		$(BIN)/python -m pytest -q -m browser

lint: $(STAMP)
	$(BIN)/ruff check matching pipelines tests benchmarks
	$(BIN)/ruff format --check matching pipelines tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/generate.py

# Re-pin after editing pyproject.toml dependencies (no index URL is written).
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache warehouse

# The Dagster UI over this project (DAGSTER_HOME inside the warehouse folder, its dagster.yaml
# written as `mdm run` writes it: pipelines.graph.dagster_home).
ui: $(STAMP)
	$(BIN)/python -c 'from pipelines.graph import dagster_home; dagster_home("warehouse")'
	MDM_WAREHOUSE=$(CURDIR)/warehouse DAGSTER_HOME=$(CURDIR)/warehouse/.dagster \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1
