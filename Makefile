# The two commands a newcomer needs: `make run` serves the site, `make test` runs the tests.
# Each does its own set-up: virtualenv in .venv/, pinned install, translations, static files,
# migrations and, on an empty database, the default content.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

-include .env
# Fixed here for every process: honcho gives each process its own PORT, and links in e-mails
# (built by the worker) must point at the web server.
SITE_URL ?= http://127.0.0.1:$(PORT)
export

.PHONY: run setup build test test-unit test-browser test-deploy lint format messages lock clean

run: setup
	$(BIN)/honcho -f Procfile start --port $(PORT)

setup: $(VENV)/.runtime build
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py createcachetable -v0
	$(BIN)/python manage.py load_content content/default --if-empty

# Build artefacts that are not kept in git: compiled catalogues and collected static files.
build: $(VENV)/.runtime
	$(BIN)/pybabel -q compile -d locale -D django
	$(BIN)/python manage.py collectstatic --noinput -v0

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

test: $(VENV)/.dev build lint test-unit

test-unit: $(VENV)/.dev build
	$(BIN)/pytest -m "not browser and not nginx" $(PYTEST_ARGS)

# Drives Debian's Chromium (/usr/bin/chromium) with Playwright; never downloads a browser.
test-browser: $(VENV)/.dev build
	$(BIN)/pytest -m browser $(PYTEST_ARGS)

# The shipped nginx configuration (deploy/) in front of the web server: sign, confirm, withdraw.
test-deploy: $(VENV)/.dev build
	$(BIN)/pytest -m nginx $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Developers only: refresh the .po catalogues after changing marked strings (needs GNU gettext).
messages: $(VENV)/.dev
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=var

# Maintainers: re-resolve requirements*.lock from pyproject.toml in a clean virtualenv.
lock:
	rm -rf /tmp/releasenow-lock && $(PYTHON) -m venv /tmp/releasenow-lock
	/tmp/releasenow-lock/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['dependencies']))" > /tmp/releasenow-lock/runtime.in
	$(PYTHON) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(d['project']['optional-dependencies']['dev']))" > /tmp/releasenow-lock/dev.in
	/tmp/releasenow-lock/bin/python -m pip install --quiet -r /tmp/releasenow-lock/runtime.in
	(echo "# Runtime dependencies, exact versions, resolved from pyproject.toml by \`make lock\`."; \
	  /tmp/releasenow-lock/bin/python -m pip freeze | sort -f) > requirements.lock
	/tmp/releasenow-lock/bin/python -m pip install --quiet -r /tmp/releasenow-lock/dev.in
	(echo "# Test and tool dependencies on top of the runtime ones, resolved by \`make lock\`."; \
	  echo "-r requirements.lock"; \
	  /tmp/releasenow-lock/bin/python -m pip freeze | sort -f | grep -v -x -F -f requirements.lock) > requirements-dev.lock

clean:
	rm -rf $(VENV) staticfiles
