# The two commands of the README: `make run` and `make test`. Everything else is a helper target.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the app needs at run time: fonts with wide coverage for PDFs, Pango for WeasyPrint,
# HarfBuzz subsetting (faster PDF writing).
DEB_RUNTIME := fonts-dejavu-core fonts-noto-core fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
# Extra Debian packages for the tests: a real browser, PDF-to-text/PNG tools, openssl for the
# SMTP TLS certificates and redis-server for the private Redis the worker tests stop and start.
DEB_TEST := chromium poppler-utils openssl redis-server zbar-tools

.PHONY: run test install install-test system-deps system-deps-test lint

run: system-deps install
	$(BIN)/trainer-app db upgrade
	$(BIN)/trainer-app demo
	$(BIN)/trainer-app serve --host $(HOST) --port $(PORT)

# pytest exits 5 when it collected no test: that must never pass as green.
test: system-deps system-deps-test install-test
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

# Installs missing Debian packages (needs root or sudo); does nothing when all are present.
system-deps:
	@./.ci/apt-install $(DEB_RUNTIME)

system-deps-test:
	@./.ci/apt-install $(DEB_TEST)
