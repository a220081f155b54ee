# pattools — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test man bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[plot]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

## demo: install and run the end-to-end edit evaluation on built-in defaults, then print its table
demo: $(STAMP)
	@echo "compiling the numba kernels (two processes; cached for later runs)..."
	@$(PY) -m pattools.warmup
	@echo "running examples/edit-eval: export, edit (heuristic, random, null), apply, replay, score..."
	@$(MAKE) -s --no-print-directory -C examples/edit-eval clean
	@$(MAKE) -s --no-print-directory -C examples/edit-eval PYTHON=$(abspath $(PY))

## test: install with test extras and run the whole suite
test: $(TEST_STAMP)
	$(PY) -m pytest -q

## man: regenerate man/*.1 and the bash/zsh completion scripts in completion/ from the argument parsers
man: $(TEST_STAMP)
	$(PY) -m pattools.cli.manpages
	$(PY) -m pattools.cli.completion

## bench: run every benchmark in bench/ in its quick mode and print one table (bench/run_all.py --full: the published figures)
bench: $(TEST_STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
