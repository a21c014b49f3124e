# LakeLens: `make run` to use it, `make test` to check it. Both create .venv and install the pinned requirements.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test lint typecheck unit bench demo clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LakeLens needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python -m lib demo --if-missing
	$(BIN)/python -m streamlit run app.py --server.port $(PORT)

demo: $(VENV)/.run-installed
	$(BIN)/python -m lib demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# smclarify (the library SageMaker Clarify runs) needs pandas < 3: its own venv, used by the fidelity tests only.
.venv-smclarify/.installed: requirements-smclarify.txt
	$(PYTHON) -m venv .venv-smclarify
	.venv-smclarify/bin/python -m pip install --quiet --no-deps -r requirements-smclarify.txt
	touch $@

# Two pytest-xdist workers; --dist loadgroup keeps each module (and the AutoML modules, which share one trained job)
# on one worker. `make unit` is the fast tier: no browser, none of the slow tests.
PYTEST_XDIST := -n 2 --dist loadgroup

unit: $(VENV)/.dev-installed .venv-smclarify/.installed
	$(BIN)/python -m pytest $(PYTEST_XDIST) -m "not browser and not slow" --durations=10

test: lint typecheck .venv-smclarify/.installed
	$(BIN)/python -m pytest $(PYTEST_XDIST) --durations=25

bench: $(VENV)/.dev-installed
	$(BIN)/python -m lib bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-smclarify .pytest_cache .mypy_cache .ruff_cache
