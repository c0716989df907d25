# The two commands of the README:
#   make run    set everything up and open loggbok on the demo mailbox
#   make test   set everything up and run every check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps lint typecheck pytest bench-imap bench-graph bench-ews bench-tui bench-scale man clean

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

# Tests run on TEST_WORKERS pytest-xdist workers (each with its own Dovecot and
# PostgreSQL): most of their time is spent waiting on a daemon or a server, so
# more workers than cores pays. TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 3
pytest: setup system-deps
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

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

# reads at CRM scale: MESSAGES=200000 for a smaller store (built once, cached);
# STORE=postgres (a private cluster the bench starts) or STORE=both
MESSAGES ?= 1000000
STORE ?= sqlite
bench-scale: setup
	$(BIN)/python -m bench.scale --messages $(MESSAGES) --store $(STORE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
