# The two commands of the README: `make run` and `make test`. Everything else is a helper target.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages the app needs at run time: fonts with wide coverage for PDFs, Pango for WeasyPrint,
# HarfBuzz subsetting (faster PDF writing), Cairo for cairosvg (the drawings' print rasters). The Dockerfile's runtime stage installs the same list
# (tests/test_deploy.py compares them).
DEB_RUNTIME := fonts-dejavu-core fonts-noto-core fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2
# Extra Debian packages for the tests: a real browser, PDF-to-text/PNG tools, openssl for the
# SMTP TLS certificates and redis-server for the private Redis the worker tests stop and start.
DEB_TEST := chromium poppler-utils openssl redis-server zbar-tools

# Python packages come only from the lock files (exact versions with hashes), through the same
# script the Dockerfile uses; `make lock` regenerates them from pyproject.toml.
INSTALL := PYTHON=$(PYTHON) ./.ci/install-python

.PHONY: run test install install-test deps-test system-deps system-deps-test lint lock lock-check \
	image-steps bench bench-quick

run: system-deps install
	$(BIN)/trainer-app db upgrade
	$(BIN)/trainer-app demo
	$(BIN)/trainer-app serve --host $(HOST) --port $(PORT)

# pytest exits 5 when it collected no test: that must never pass as green.
test: system-deps system-deps-test install-test
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# ruff; hadolint on the Dockerfile; Caddy's own check of the Caddyfile (format and config, with
# its local CA written to a temporary folder); the lock files against pyproject.toml first.
lint: lock-check install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	@$(BIN)/caddy fmt --diff Caddyfile >/dev/null 2>&1 || { $(BIN)/caddy fmt --diff Caddyfile; exit 1; }
	@tmp=$$(mktemp -d) && out=$$(XDG_DATA_HOME=$$tmp XDG_CONFIG_HOME=$$tmp \
		$(BIN)/caddy validate --adapter caddyfile --config Caddyfile 2>&1); rc=$$?; rm -rf "$$tmp"; \
	if [ $$rc -ne 0 ]; then echo "$$out" >&2; exit $$rc; fi; echo "Caddyfile: valid"

install:
	$(INSTALL) deps $(VENV) requirements/runtime.txt
	$(INSTALL) app $(VENV) .

install-test: deps-test
	$(INSTALL) app $(VENV) .

deps-test:
	$(INSTALL) deps $(VENV) requirements/test.txt

# Regenerate requirements/*.txt after changing dependencies in pyproject.toml (or after a merge
# that conflicts in them). ARGS=--upgrade moves every pin; ARGS="--upgrade-package NAME" one.
lock: $(BIN)/uv
	$(BIN)/python .ci/lock.py $(ARGS)

lock-check: $(BIN)/uv
	$(BIN)/python .ci/lock.py --check

$(BIN)/uv:
	$(INSTALL) deps $(VENV) requirements/test.txt

# The Dockerfile's steps outside Docker (root: installs Debian packages, runs as the image's user).
image-steps:
	$(PYTHON) .ci/image_steps.py

# Every benchmark, one table of ratios against their targets (needs PostgreSQL on 127.0.0.1:5432
# and redis-server; each benchmark starts and stops its own services).
bench: install-test
	$(BIN)/python benchmarks/run_all.py $(ARGS)

bench-quick: install-test
	$(BIN)/python benchmarks/run_all.py --quick $(ARGS)

# Installs missing Debian packages (needs root or sudo); does nothing when all are present.
system-deps:
	@./.ci/apt-install $(DEB_RUNTIME)

system-deps-test:
	@./.ci/apt-install $(DEB_TEST)
