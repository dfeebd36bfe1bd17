# The two commands a newcomer needs: `make run` and `make test`. Both create the
# virtualenv with Python >= 3.13 when it is missing and install the project into it.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `.python-version` makes pyenv's python3.13 resolve; otherwise any python3.13/3.14 on PATH.
BASE_PYTHON ?= $(shell for p in python3.13 python3.14 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: run test lint typecheck pytest docs check-wheel bench bench-quick clean

$(STAMP): pyproject.toml
	@test -n "$(BASE_PYTHON)" || { echo "Python >= 3.13 is required (none found on PATH)"; exit 1; }
	test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/interactors run examples.pipeline:main

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Bytecode first, as an installed package has it: every actor's interpreter imports the
# package, and under PYTHONDONTWRITEBYTECODE each would otherwise compile it again.
# The suite runs as two pytest processes, one after the other, each over part of the test
# files: CPython 3.13 keeps the memory of every own-GIL interpreter it destroys (1.7 MiB
# and up each; cpython#110411), and one process making the suite's thousands of them
# grew past 11 GiB. Both parts run; the first failure's exit code is the result.
PYTEST_FIRST := tests/faults $(sort $(wildcard tests/test_[a-p]*.py))
pytest: $(STAMP)
	$(PY) -m compileall -q src
	@echo "pytest, part 1 of 2: tests/faults and tests/test_[a-p]*.py"; \
	first=0; $(PY) -m pytest $(PYTEST_FIRST) || first=$$?; \
	echo "pytest, part 2 of 2: the other tests"; \
	second=0; $(PY) -m pytest tests $(addprefix --ignore=,$(PYTEST_FIRST)) || second=$$?; \
	[ $$first -eq 0 ] || exit $$first; exit $$second

test: lint typecheck pytest

$(VENV)/.docs-installed: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $@

# The documentation site, into site/; any warning (a broken link, a docstring that does
# not resolve) fails the build.
docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Build the sdist and wheel and use the wheel as a user would, in a fresh virtualenv.
check-wheel: $(STAMP)
	@test -n "$(BASE_PYTHON)" || { echo "Python >= 3.13 is required (none found on PATH)"; exit 1; }
	BASE_PYTHON=$(BASE_PYTHON) .ci/check-wheel

$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) -m benchmarks

bench-quick: $(VENV)/.bench-installed
	$(PY) -m benchmarks --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site dist
