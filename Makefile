# The two commands of the README: `make serve` and `make test`. Both set everything up first.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup serve test services clean

# esbuild strips TypeScript's types (plugins/typescript_runner); the npm registry's package ships
# the native binary, installed into the virtualenv where the runner looks for it.
ESBUILD_VERSION = 0.28.2

setup: $(VENV)/.installed $(VENV)/.esbuild-$(ESBUILD_VERSION)

$(VENV)/.installed: setup.cfg pyproject.toml examples/livecode-lua/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	# A third-party plugin package, installed after livecode as a stranger's would be.
	$(BIN)/python -m pip install --quiet -e examples/livecode-lua
	touch $@

$(VENV)/.esbuild-$(ESBUILD_VERSION): $(VENV)/.installed
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (scripts/ensure-services does, as root)"; exit 1; }
	npm install --prefix $(VENV) --no-save --no-audit --no-fund --loglevel=error esbuild@$(ESBUILD_VERSION)
	touch $@

serve: setup
	$(BIN)/livecode serve

services:
	bash scripts/ensure-services

test: services setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
