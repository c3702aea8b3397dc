# The two commands a newcomer needs: `make run` and `make test`. Both set up
# the virtual environment with pinned dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup generate check run test lint typecheck bench clean wheel-test compat compat-reference docs docs-build

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[codegen,dev,docs]'
	$(BIN)/python -m macp_codegen.output_path
	@touch $(STAMP)

generate: setup
	$(BIN)/macp-codegen generate

check: setup
	$(BIN)/macp-codegen check

run: generate
	$(BIN)/python examples/run_demo.py

lint: setup
	$(BIN)/ruff check generator core local_runtime tests examples generated compat bench
	$(BIN)/ruff format --check generator core local_runtime compat bench

typecheck: setup
	$(BIN)/mypy generator/macp_codegen core/macp_core local_runtime/macp_local_runtime generated

test: setup lint docs-build
	$(BIN)/python -m pytest

# The documentation site: `make docs` serves it on http://127.0.0.1:8000 and rebuilds on change;
# `make docs-build` builds it with --strict (a broken link or API reference fails), in `make test`.
# Not --quiet: it hides the warnings that --strict counts, and the build would pass anyway.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

docs-build: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir .cache/site

# Build the wheel, install it (with the codegen extra) in a fresh venv outside the tree and
# generate + run an SDK from it. Also part of `make test` (about 20 s with a warm pip cache).
wheel-test: setup
	$(BIN)/python -m pytest -m wheel

# The three published clients of macp-sdk-python 0.22.0's API (langgraph-macp, claude-agent-sdk-macp,
# macp-mcp) on this project's SDK, each in its own venv under .cache/compat/ (the first run installs
# about 700 MB, mostly claude-agent-sdk's bundled CLI). Not part of `make test`; see compat/README.md.
compat: setup
	$(BIN)/python compat/run.py --sdk ours

# The same flows on macp-sdk-python 0.22.0 itself: what "passing" looks like.
compat-reference: setup
	$(BIN)/python compat/run.py --sdk anchor

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
