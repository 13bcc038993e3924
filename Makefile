# `make run` starts the chat UI on the bundled corpus; `make test` runs the test suite;
# `make docs` builds the documentation site into site/ (`make docs-serve` previews it).
# Each creates .venv when it is missing. torch is pinned to the local CPU build (constraints.txt).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test index test-all lint docs docs-serve dist clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

index: $(STAMP)
	$(VENV)/bin/rag index

run: index
	$(VENV)/bin/rag serve

test: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

test-all: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

docs-serve: $(STAMP)
	$(VENV)/bin/mkdocs serve

dist: $(STAMP)
	rm -rf dist
	$(PY) -m build

lint: $(STAMP)
	$(VENV)/bin/ruff check rag ui tests

clean:
	rm -rf $(VENV) site dist index/CURRENT index/gen-* index/.tmp-* index/.lock
