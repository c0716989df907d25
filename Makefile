# The two commands of the README:
#   make run    set everything up and open loggbok on the demo mailbox
#   make test   set everything up and run every check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps lint typecheck pytest bench-imap bench-graph bench-ews bench-tui man clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	.ci/install-system-deps

run: setup
	$(BIN)/loggbok demo

lint: setup
	$(BIN)/ruff check daemon tui protocol tests bench tools
	$(BIN)/ruff format --check daemon tui protocol

# mypy cannot see through the editable install's package-dir mapping: give it a
# tree of symlinks that spells the installed names (loggbok.daemon, ...).
typecheck: setup
	mkdir -p build/typecheck/loggbok
	for d in daemon tui protocol; do ln -sfn ../../../$$d build/typecheck/loggbok/$$d; done
	MYPYPATH=build/typecheck $(BIN)/mypy -p loggbok.protocol -p loggbok.daemon -p loggbok.tui

pytest: setup system-deps
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

# the man pages from the parsers of loggbok and loggbokd (docs/man/, installed with the package)
man: setup
	$(BIN)/python -m tools.manpages

bench-imap: setup system-deps
	$(BIN)/python -m bench.imap_sync

bench-graph: setup system-deps
	$(BIN)/python -m bench.graph_sync

bench-ews: setup system-deps
	$(BIN)/python -m bench.ews_sync

bench-tui: setup
	$(BIN)/python -m bench.tui_timeline

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
