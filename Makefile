# The two commands a newcomer needs: `make run` and `make test`. Both set up
# the virtual environment with pinned dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup generate check run test lint typecheck bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[codegen,dev]'
	@touch $(STAMP)

generate: setup
	$(BIN)/macp-codegen generate

check: setup
	$(BIN)/macp-codegen check

run: generate
	$(BIN)/python examples/run_demo.py

lint: setup
	$(BIN)/ruff check generator core local_runtime tests examples generated bench
	$(BIN)/ruff format --check generator core local_runtime bench

typecheck: setup
	$(BIN)/mypy generator/macp_codegen core/macp_core local_runtime/macp_local_runtime generated

test: setup lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .bench build *.egg-info

# Benchmarks (not part of `make test`): writes docs/performance.md. macp-sdk-python 0.22.0
# ships its own `macp` package, so it gets its own venv (.bench/ref), never ours.
REF_VENV := .bench/ref
BENCH_STAMP := $(VENV)/.bench-installed
REF_STAMP := $(REF_VENV)/.installed
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[codegen,dev,bench]'
	@touch $(BENCH_STAMP)

$(REF_STAMP):
	@test -x $(REF_VENV)/bin/python || $(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install --quiet macp-sdk-python==0.22.0 pyperf==2.10.0
	@touch $(REF_STAMP)

bench: $(BENCH_STAMP) $(REF_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Breaking changes in proto/ against a git ref (default: the main branch).
AGAINST ?= main
.PHONY: breaking
breaking: setup
	$(BIN)/macp-codegen breaking --against $(AGAINST)
