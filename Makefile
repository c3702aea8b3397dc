# The two commands a newcomer needs: `make run` and `make test`. Both set up
# the virtual environment with pinned dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup generate check run test lint typecheck bench clean wheel-test

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[codegen,dev]'
	$(BIN)/python -m macp_codegen.output_path
	@touch $(STAMP)

generate: setup
	$(BIN)/macp-codegen generate

check: setup
	$(BIN)/macp-codegen check

run: generate
	$(BIN)/python examples/run_demo.py

lint: setup
	$(BIN)/ruff check generator core local_runtime tests examples generated
	$(BIN)/ruff format --check generator core local_runtime

typecheck: setup
	$(BIN)/mypy generator/macp_codegen core/macp_core local_runtime/macp_local_runtime generated

test: setup lint
	$(BIN)/python -m pytest

# Build the wheel, install it (with the codegen extra) in a fresh venv outside the tree and
# generate + run an SDK from it. Also part of `make test` (about 20 s with a warm pip cache).
wheel-test: setup
	$(BIN)/python -m pytest -m wheel

clean:
	rm -rf $(VENV) build *.egg-info

# Breaking changes in proto/ against a git ref (default: the main branch).
AGAINST ?= main
.PHONY: breaking
breaking: setup
	$(BIN)/macp-codegen breaking --against $(AGAINST)
