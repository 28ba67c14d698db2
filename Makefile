# Set-up and checks, the same on a laptop, a fresh machine and CI.
#   make lab   - create .venv, install automl-nb, open JupyterLab on the quickstart notebook
#   make demo  - the same search headless from the command line
#   make test  - install what the tests need (Chromium from Debian's packages when missing) and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install lab demo test test-fast chromium bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab notebooks/01_quickstart.ipynb

demo: install
	$(BIN)/python -m automl_nb search digits --oracle bayesian --trials 6 --epochs 5 --seed 0 --dir automl_runs/demo --overwrite

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

test: install chromium
	$(BIN)/python -m pytest -p no:cacheprovider

# unit and scripted tests only: no TensorFlow search, no browser (seconds)
test-fast: install
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow and not browser"

bench: install
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/steering.py
	$(BIN)/python bench/panel_events.py

clean:
	rm -rf $(VENV) build dist *.egg-info automl_runs artifacts
