# The two entry points are `make book` and `make test`; both create the virtual
# environment and install the pinned requirements on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Where the real datasets live. Unset or missing files: the chapters fall back (see README).
export RNN_BOOK_DATA_DIR ?= $(abspath ../shared/data)
# The TensorFlow settings the committed outputs were made with (also set inside each notebook).
export TF_ENABLE_ONEDNN_OPTS := 0
export ONEDNN_MAX_CPU_ISA := AVX2
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_NUM_INTRAOP_THREADS := 1
export TF_NUM_INTEROP_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# This checkout's tutorials_lib comes first, also for notebook kernels and in git worktrees.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: help book notebooks html reproduce test lint browser clean

help:
	@echo "make book   execute every chapter (papermill, on local Dask workers) and render the HTML book"
	@echo "make test   ruff, unit tests, notebook checks (pairing, nbval) and a strict book build"
	@echo "make reproduce   every chapter at its sources' settings, as Dask tasks (not a set-up command)"

$(STAMP): requirements.txt pyproject.toml
	@echo "== creating $(VENV) with $(PYTHON) and installing requirements.txt (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The chapters run side by side on local Dask workers (one per core, at most four; WORKERS=1:
# one after another), then the appendices, which read the chapters' records.
notebooks: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py $(if $(WORKERS),--workers $(WORKERS)) $(CHAPTERS)

html: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(abspath _build/html/index.html)"

book: notebooks html

# Every chapter at its sources' own settings (book/params/*_source.yaml), as Dask tasks:
# executed notebooks into _repro/notebooks, results into book/results/source (read by the
# reproduction appendix). DASK_SCHEDULER_ADDRESS=tcp://host:8786 uses an existing cluster.
reproduce: $(STAMP)
	$(BIN)/python scripts/reproduce.py --output-dir _repro --results-dir book/results/source $(CHAPTERS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check tutorials_lib tests scripts benchmarks

# The browser checks (tests/test_browser.py) need Chromium. In CI (CI set), as root, with no
# browser found, Debian's package is installed first; anywhere else nothing is installed and
# those checks skip, saying so. A failed install is reported and the checks then skip.
# the names tests/test_browser.py tries (CHROMIUM_NAMES), in its order
BROWSERS := chromium chromium-browser google-chrome google-chrome-stable
browser:
	@if [ -n "$${CI:-}" ] && [ -z "$${RNN_BOOK_CHROMIUM:-}" ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null \
		&& ! for b in $(BROWSERS); do command -v $$b >/dev/null && exit 0; done; then \
		echo "== CI without Chromium: installing Debian's chromium for the browser checks"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
			>/dev/null 2>&1 || echo "== could not install chromium: the browser checks will skip"; \
	fi

# On every core (at most 4): pytest-xdist keeps each file's tests, so each notebook, on one
# worker (conftest.py: worker_scope); ARGS="-n 0" runs in one process.
test: lint browser
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg \
		--nbval-cell-timeout 900 -n auto --maxprocesses 4 --dist loadfile $(ARGS)

clean:
	rm -rf _build
