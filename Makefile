# The two commands of the quick start: `make demo` and `make test` (which also builds the docs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs fuzz bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ray,tensorboard,docs]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf runs/demo
	$(BIN)/evogan train --preset demo --out runs/demo
	$(BIN)/evogan sample runs/demo -n 64 -o runs/demo/final-samples.png
	$(BIN)/evogan evaluate runs/demo -n 1000

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q
	$(MAKE) docs

# The docs site (mkdocs.yml), into site/; --strict makes a broken link or page an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Bad input, fuzzed: over a thousand random damaged files, configs, sizes and output paths
# (make test runs a few derandomised examples of each).
fuzz: $(STAMP)
	EVOGAN_FUZZ=1 $(BIN)/pytest -q tests/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs site .pytest_cache .mypy_cache .ruff_cache
