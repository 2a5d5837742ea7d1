# One task runner for people and CI. Every target installs what it needs into .venv.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-services test-quickstart test-django6 demo bench clean

# The example project's tests: its own settings module, so a pytest run of their own.
EXAMPLE_PYTEST := $(BIN)/python -m pytest example/tests -p async_actions.testing.plugin \
	--ds=example.tests.settings -o async_actions_celery_app=example.celery:app

$(STAMP): pyproject.toml requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The embedded default: SQLite + kombu's filesystem transport, no servers needed.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks example conftest.py
	$(BIN)/mypy
	$(BIN)/async-actions lint src example
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings
	$(BIN)/python -m django makemigrations --check --dry-run --settings=example.settings
	$(BIN)/python -m pytest
	$(EXAMPLE_PYTEST)

# The README's Quickstart and testing section, followed in a fresh virtualenv (needs Redis).
test-quickstart: $(STAMP)
	$(BIN)/python -m pytest tests/test_quickstart.py -m quickstart

# The same suite against the real services (see README: AA_DATABASE / AA_BROKER).
test-services: $(STAMP) test-quickstart
	AA_DATABASE=postgres AA_BROKER=redis $(BIN)/python -m pytest
	AA_DATABASE=postgres AA_BROKER=redis $(EXAMPLE_PYTEST)
	AA_DATABASE=postgres AA_BROKER=rabbitmq $(BIN)/python -m pytest
	AA_DATABASE=postgres AA_BROKER=rabbitmq $(EXAMPLE_PYTEST)

# Django 6 needs Python 3.12+: the embedded suite in a venv of its own.
PYTHON312 ?= python3.12
VENV6 := .venv-django6
$(VENV6)/.installed: pyproject.toml requirements/test-django6.txt
	test -x $(VENV6)/bin/python || $(PYTHON312) -m venv $(VENV6)
	$(VENV6)/bin/python -m pip install --quiet --upgrade pip
	$(VENV6)/bin/python -m pip install --quiet -r requirements/test-django6.txt
	$(VENV6)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

test-django6: $(VENV6)/.installed
	$(VENV6)/bin/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m example.run_demo

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(VENV6) var
