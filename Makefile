# Two commands for a fresh machine (Python 3.11+): `make demo` and `make test`.
# Both create .venv and install the project into it on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

demo: $(STAMP)
	$(BIN)/netwerkbot console --demo

test: $(STAMP)
	$(BIN)/pytest
	$(BIN)/ruff check .
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/ack_latency.py --postgres
	$(BIN)/python bench/ack_latency.py --users 100 --spread zipf
	$(BIN)/python bench/ack_latency.py --users 100 --spread zipf --postgres
	$(BIN)/python bench/ack_concurrency.py
	$(BIN)/python bench/ack_concurrency.py --postgres
	$(BIN)/python bench/version_read.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/growth.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/votes.py
	$(BIN)/python bench/ballots.py
	$(BIN)/python bench/questions.py
	$(BIN)/python bench/matrix_roundtrip.py
	$(BIN)/python bench/home.py
	$(BIN)/python bench/teams_roundtrip.py
	$(BIN)/python bench/budget.py
	$(BIN)/python bench/budget.py --ranked
	$(BIN)/python bench/budget_round.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis netwerkbot.db*
