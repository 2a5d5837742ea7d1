# One task runner for people and CI. Every target installs what it needs into .venv.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-services lint demo bench clean

$(STAMP): pyproject.toml requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The embedded default: SQLite + kombu's filesystem transport, no servers needed.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks example
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings
	$(BIN)/python -m pytest

# The same suite against the real services (see README: AA_DATABASE / AA_BROKER).
test-services: $(STAMP)
	AA_DATABASE=postgres AA_BROKER=redis $(BIN)/python -m pytest
	AA_DATABASE=postgres AA_BROKER=rabbitmq $(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m example.run_demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var
