# Everything starts from nothing but python3: `make demo`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Offline wheels for the pre-commit tests: pre-commit pip-installs the hook into its own venv.
WHEELS := $(VENV)/wheelhouse/.stamp

.PHONY: install demo test lint pytest bench clean

install: $(STAMP) $(WHEELS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,airflow]"
	@touch $@

$(WHEELS): $(STAMP)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -w $(VENV)/wheelhouse \
		"setuptools>=69" "httpx>=0.27,<1" "pyyaml>=6"
	@touch $@

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

pytest: $(STAMP) $(WHEELS)
	$(BIN)/python -m pytest

test: lint pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
