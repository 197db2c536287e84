# Bệnh Án — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint test-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## make run: install, initialise the embedded SQLite database and serve http://127.0.0.1:8000
run: $(VENV)/.installed
	BENHAN_DEMO=$${BENHAN_DEMO:-1} $(BIN)/benhan init
	BENHAN_DEMO=$${BENHAN_DEMO:-1} $(BIN)/benhan serve --host $(HOST) --port $(PORT)

## make test: install what the tests need (PostgreSQL from Debian) and run the whole suite
test: $(VENV)/.installed-test test-deps
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile -p no:cacheprovider

test-deps:
	@./tools/install-test-deps.sh

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## make bench: the FHIR store benchmark (see docs/performance.md and benchmarks/README.md)
bench: $(VENV)/.installed-test test-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/fhir_store.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
