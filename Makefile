# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
SANDBOX_PORT ?= 5001
WORKERS ?= 2
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Processes per test run (pytest-xdist). Many tests wait on servers and browsers, so
# more processes than cores pays; `make test` runs both databases at once. With
# worksteal, a process that runs out takes tests queued for a busy one, so a few
# minute-long tests do not leave the end of the run to one process.
TEST_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal --durations=20

.PHONY: run test lint test-sqlite test-postgres test-ready suite-sqlite suite-postgres \
	browsers screenshots clean translations translations-update

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Compiled catalogues (.mo) are build output; the .po files are the source.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d wizard/translations

# For developers: collect new messages into the .pot and each language's .po.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k N_ --no-location \
		--sort-output --project cc-wizard -o wizard/translations/messages.pot .
	$(BIN)/pybabel -q update -i wizard/translations/messages.pot -d wizard/translations \
		--no-fuzzy-matching --ignore-obsolete --width 88

run: $(VENV)/.installed translations
	HOST=$(HOST) PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) WORKERS=$(WORKERS) \
		scripts/run-local.sh

browsers:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-ready: $(VENV)/.installed-test translations browsers

test-sqlite: test-ready
	$(MAKE) --no-print-directory suite-sqlite

test-postgres: test-ready
	$(MAKE) --no-print-directory suite-postgres

# The whole suite on SQLite and on PostgreSQL side by side; each run's output is
# printed when it ends.
test: lint test-ready
	$(MAKE) --no-print-directory -j2 --output-sync=target suite-sqlite suite-postgres

suite-sqlite:
	$(PYTEST)

suite-postgres:
	WIZARD_TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PYTEST)

# Pictures of every page state at 1280 and 320 px, for the README (docs/screenshots).
screenshots: $(VENV)/.installed-test translations browsers
	WIZARD_SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_accessibility.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
