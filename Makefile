# Candlecast: `make run` starts the app, `make api` the REST API, `make test` runs the tests; all build .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
PORT ?= 8501

.PHONY: run api test worker migrate check lint format bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python -m db setup

run: migrate
	$(BIN)/streamlit run app.py --server.port $(PORT)

# The REST API on API_PORT (8000 by default), OpenAPI at /docs.
api: migrate
	$(BIN)/python -m api

test: $(STAMP)
	$(BIN)/python -m pytest

worker: $(STAMP)
	$(BIN)/python -m core.worker

check: $(STAMP)
	$(BIN)/python -m core check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The browser journey on the embedded default, photographing every page for the README tour.
screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest -q tests/e2e -k embedded

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
