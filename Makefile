# Two commands do all the set-up: `make run` serves the dashboard, `make test` lints the code
# (ruff, the rules in pyproject.toml) and runs the tests. Both create the virtual environment
# in .venv/ and install the pinned dependencies first.

PYTHON ?= python3
PORT ?= 8501
# Loopback by default. Without accounts (no users file) the dashboard refuses any other
# address; with accounts (HUMBER_USERS_FILE or the users_file setting) it may listen on a
# trusted network, e.g. HUMBER_USERS_FILE=users.json ADDRESS=0.0.0.0 make run, and beyond one
# only on 127.0.0.1 behind a TLS reverse proxy (docs/deployment.md).
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

# serve.py is the server entry: app.py (the Streamlit script) plus the routes that set and
# clear the HttpOnly session cookie and the gate that keeps downloads behind the sign-in.
run: $(VENV)/.run-installed
	$(BIN)/python -m streamlit run serve.py --server.port $(PORT) --server.address $(ADDRESS)

# Lint first: it takes about a second and fails before the minutes of tests.
test: $(VENV)/.dev-installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
