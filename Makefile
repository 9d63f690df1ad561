# Xizmat: `make run` serves the sample corpus on http://127.0.0.1:8000; `make test` runs the suite.
# Both create .venv and install pinned dependencies on a fresh machine; nothing else is needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
XIZMAT := $(BIN)/xizmat
DATA   ?= data
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-test browser ingest index serve lint clean help

help:
	@echo "make run    - install, ingest corpus/, build the index and serve http://$(HOST):$(PORT)"
	@echo "make test   - install everything (test and optional extras) and run the test suite"
	@echo "make browser - install Debian's chromium for the browser tests (needs root)"
	@echo "make clean  - remove .venv and $(DATA)/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,eval,st]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

ingest: install
	$(XIZMAT) ingest corpus/ --data-dir $(DATA)

index: ingest
	$(XIZMAT) index build --data-dir $(DATA)

run: index
	$(XIZMAT) serve --data-dir $(DATA) --host $(HOST) --port $(PORT)

# The browser tests drive Debian's chromium (Playwright never downloads a browser); apt needs root.
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium chromium-driver) \
	  || echo "chromium could not be installed; the browser tests will be skipped"

test: install-test browser
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ruff check ingest index api eval xizmat tests
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) $(DATA)
