# Set-up and checks, the same on a laptop, a fresh machine and CI.
#   make lab        - create .venv, install automl-nb, open JupyterLab on the quickstart notebook
#                     (LAB_FLAGS="--no-browser --port 8899" to add server options)
#   make demo       - the same search headless from the command line
#   make test       - install what the tests need (Chromium and Node from Debian's packages when
#                     missing), run them all, then the wheel test and the docs build
#   make docs       - build the documentation site into site/ (mkdocs build --strict)
#   make test-fast  - unit and scripted tests only (no TensorFlow search, no browser)
#   make labextension - rebuild the JupyterLab extension (labextension/ -> share/jupyter/labextensions/,
#                     committed) with @jupyterlab/builder from the npm registry; users need no Node
#   make wheel-test - build the wheel, install it in a fresh venv outside the tree, run a search and a replay
#   make screenshot - docs/panel.png from a real search's live panel in JupyterLab (headless Chromium)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
# JupyterLab refuses to run as root unless told to: root is the user in most containers
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
LAB_FLAGS ?=
# tests run in two processes (pytest-xdist); the browser tests stay together in one of them
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider -n $(or $(PYTEST_WORKERS),2) --dist loadgroup
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install lab demo test test-fast wheel-test docs chromium node bench clean screenshot

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench,docs]'
	@touch $(STAMP)

install: $(STAMP) lab-develop

# the editable install's JupyterLab sees the extension: its built files linked into the venv's
# share/jupyter/labextensions (a rebuild shows at the next page load), the server extension enabled
LAB_SHARE := $(VENV)/share/jupyter/labextensions
LAB_ETC   := $(VENV)/etc/jupyter/jupyter_server_config.d
lab-develop:
	@mkdir -p $(LAB_SHARE) $(LAB_ETC)
	@rm -rf $(LAB_SHARE)/automl-nb
	ln -s $(CURDIR)/share/jupyter/labextensions/automl-nb $(LAB_SHARE)/automl-nb
	cp jupyter-config/server-config/automl_nb.json $(LAB_ETC)/automl_nb.json

# TypeScript in labextension/ -> the prebuilt extension in share/jupyter/labextensions/automl-nb/ (committed).
# npm installs the build's packages under labextension/node_modules (git-ignored); the builder
# is run directly against this JupyterLab's core (its staging folder) for the shared versions.
labextension: node install
	cd labextension && npm install --no-audit --no-fund --loglevel=error
	cd labextension && npx tsc
	cd labextension && node node_modules/@jupyterlab/builder/lib/build-labextension.js \
	  --core-path "$$($(abspath $(BIN))/python -c 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))')" .

lab: install
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_FLAGS) notebooks/01_quickstart.ipynb

demo: install
	$(BIN)/python -m automl_nb search digits --oracle bayesian --trials 6 --epochs 5 --seed 0 --dir automl_runs/demo --overwrite

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# the trial table's and the Hyperband diagram's ES modules run under Node in tests/panel
node:
	@if ! command -v node >/dev/null; then \
	  echo "installing Debian's nodejs for the front-end tests"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs >/dev/null; \
	fi

test: install chromium node
	$(PYTEST)
	$(MAKE) --no-print-directory wheel-test
	$(MAKE) --no-print-directory docs

wheel-test: install
	env -u PYTHONPATH $(BIN)/python tests/wheel_check.py

# the site from docs/ and the docstrings; --strict turns a broken link or reference into a failure.
# NO_MKDOCS_2_WARNING: Material 9.7+ prints a banner about MkDocs 2.0 at every build otherwise.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# unit and scripted tests only: no TensorFlow search, no browser (seconds)
test-fast: install
	$(PYTEST) -m "not slow and not browser"

# a real digits search (a few minutes of CPU) photographed in JupyterLab by headless Chromium
screenshot: install chromium
	$(BIN)/python docs/make_screenshot.py

bench: install
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/steering.py
	$(BIN)/python bench/panel_events.py

clean:
	rm -rf $(VENV) build dist site *.egg-info automl_runs artifacts
