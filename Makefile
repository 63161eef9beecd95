# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Every target installs what it needs; nothing is assumed to be there but python3.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help demo test lint format bench bench-quick load migrate install dev-install system-deps test-system-deps test-clocks clean plotly-js messages

help:
	@echo "make demo    - install, load the code catalog and a sample fleet, run web + worker + beat"
	@echo "make test    - install test dependencies and run the whole suite (ruff, pytest, browser)"
	@echo "make bench   - every benchmark on SQLite and PostgreSQL, one table (bench/results/)"
	@echo "make lint    - ruff check and format check"
	@echo "make plotly-js - re-fetch the vendored plotly.js bundle from npm (checksums checked)"
	@echo "make messages - refresh locale/fr/LC_MESSAGES/django.po from the sources and compile it"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamps keep re-runs fast and re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev-install: $(VENV)/.installed-dev

system-deps:
	@scripts/ensure_debian_packages.sh redis-server:redis-server /usr/bin/msgfmt:gettext

test-system-deps:
	@scripts/ensure_debian_packages.sh redis-server:redis-server /usr/bin/chromium:chromium \
		/usr/share/mingw-w64/include/wuerror.h:mingw-w64-common \
		/usr/share/fonts/truetype/liberation:fonts-liberation \
		/usr/sbin/nginx:nginx /usr/bin/envsubst:gettext-base /usr/bin/msgfmt:gettext

demo: install system-deps
	@PORT=$(PORT) scripts/demo.sh

test: dev-install test-system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# The tests that build dated data at five awkward moments, under libfaketime (README).
test-clocks: dev-install test-system-deps
	@scripts/test_clocks.sh

lint: dev-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: dev-install system-deps
	@scripts/bench.sh

bench-quick: dev-install system-deps
	@scripts/bench.sh --quick

# A bounded load test on loopback (bench/load_test.py; result in docs/reliability.md).
DURATION ?= 180
load: dev-install system-deps
	$(BIN)/python bench/load_test.py --duration $(DURATION)

# The vendored plotly.js (dashboards/static/vendor/): pinned version, checksums in the script.
plotly-js:
	scripts/fetch_plotly_js.sh

# The French catalog (docs/i18n.md): new strings appear with an empty msgstr to translate;
# tests/test_translations.py fails until every one is translated and the .mo recompiled.
MESSAGES_IGNORE := --ignore=.venv --ignore=tests --ignore=bench --ignore=scripts --ignore=agent --ignore=var
messages: dev-install system-deps
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages -l fr $(MESSAGES_IGNORE)

migrate: install
	$(BIN)/python manage.py migrate

clean:
	rm -rf $(VENV) var/*.sqlite3* var/static var/celerybeat* test-artifacts
