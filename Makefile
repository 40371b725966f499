# Two commands do all the set-up: `make run` serves the dashboard, `make test` runs the tests.
# Both create the virtual environment in .venv/ and install the pinned dependencies first.

PYTHON ?= python3
PORT ?= 8501
# Loopback only: the dashboard has no accounts yet (see ui/access.py).
ADDRESS ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
