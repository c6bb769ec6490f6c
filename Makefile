# Two entry points for a fresh machine: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(STAMP_RUN)

.PHONY: serve test bench install
install: $(STAMP_RUN)

serve: $(STAMP_RUN)
	$(BIN)/mockserver serve $(ARGS)

test: $(STAMP_TEST)
	$(BIN)/python -m pytest tests contract_tests $(ARGS)

bench: $(STAMP_TEST)
	$(BIN)/python bench/bench_api.py
