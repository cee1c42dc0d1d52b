# Two commands do all the set-up on a fresh Debian machine:
#   make video   renders the lecture (media/videos/circles/...), captions and .srt, its
#                chapters in parallel
#   make test    runs the test suite (make test-fast: all but the tests marked slow, which
#                train the lecture's experiments or render long scenes; under a minute)
# Both install Debian's build libraries for Manim (apt-get, as root or through sudo),
# create .venv and install this package into it. `make video-voice` renders the lecture
# with spoken narration (espeak-ng, offline). The test set-up includes the voice so its
# test runs.
# Every Python package is installed at the version pinned in constraints.txt (pip -c, and
# --build-constraint for the build backend): the environment the tests passed on. pyproject.toml
# keeps the supported ranges. `make lock` refreshes the pins: a fresh venv, an unpinned install
# of '.[dev,voice]', pip freeze; run `make clean test` before committing the new file.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints.txt
PIP_PINNED = $(BIN)/pip install -q -c $(CONSTRAINTS) --build-constraint $(CONSTRAINTS)
LOCK_VENV := .lock-venv
APT_PACKAGES := libcairo2-dev libpango1.0-dev pkg-config fonts-dejavu-core
VOICE_APT_PACKAGES := espeak-ng libespeak-ng-libespeak1 sox
# Test-only: the headless browser tests/test_explore.py drives through playwright, and npm
# (Debian's package, unless a node.js install already provides the command) to fetch reveal.js
# for the slide player.
NPM_APT_PACKAGE := $(shell command -v npm >/dev/null 2>&1 || echo npm)
TEST_APT_PACKAGES := chromium $(NPM_APT_PACKAGE)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-voice video video-voice video-serial test test-fast lint bench clean lock

# Install the Debian packages named in $(1) that are missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

setup: $(VENV)/.installed

setup-voice: setup $(VENV)/.voice

# The pinned pip first: --build-constraint needs a recent pip (25.3 or later).
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(call apt_install,$(APT_PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c $(CONSTRAINTS) --upgrade pip
	$(PIP_PINNED) -e '.[dev]'
	touch $@

$(VENV)/.voice: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(call apt_install,$(VOICE_APT_PACKAGES))
	$(PIP_PINNED) -e '.[dev,voice,slides]'
	touch $@

# The lecture's chapters render in parallel (one Dask worker a core; SCHEDULER=tcp://host:8786
# uses a running Dask cluster instead) and are joined losslessly into the one movie that
# `manim render scenes/circles.py` (video-serial) writes. RENDER_ARGS passes more options,
# e.g. RENDER_ARGS="-q h" for 1080p60 (python -m scenes.render_parallel --help).
SCHEDULER ?=
RENDER_ARGS ?=
RENDER_PARALLEL = $(BIN)/python -m scenes.render_parallel $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(RENDER_ARGS)

video: setup
	$(RENDER_PARALLEL)

video-voice: setup-voice
	GEOMCORE_VOICE=1 $(RENDER_PARALLEL)

video-serial: setup
	$(BIN)/manim render scenes/circles.py

# Two test processes (pytest-xdist), one a core of the 2-core reference machine.
PYTEST_WORKERS ?= 2

test: setup-voice
	$(call apt_install,$(TEST_APT_PACKAGES))
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test-fast: setup-voice
	$(call apt_install,$(TEST_APT_PACKAGES))
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS)

lint: setup
	$(BIN)/ruff check geomcore scenes tests bench

# The lecture as slides for a live talk (manim-slides, the `slides` extra): a stop at every
# chapter and narration cue, then one self-contained offline HTML player (reveal.js 6.0.1 is
# fetched once with npm, sha512-checked, into data/revealjs, and inlined). Open the printed
# file in a browser; arrow keys step. SLIDES_ARGS=-ql makes a quick 480p draft.
SLIDES_ARGS ?=
SLIDES_HTML := media/slides/CirclesLecture.html
.PHONY: slides

$(VENV)/.slides: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed
	$(PIP_PINNED) -e '.[dev,slides]'
	touch $@

slides: setup $(VENV)/.slides
	$(call apt_install,$(NPM_APT_PACKAGE))
	GEOMCORE_VOICE= $(BIN)/manim render $(SLIDES_ARGS) scenes/slides.py CirclesLecture
	$(BIN)/python -m geomcore.slides CirclesLecture $(SLIDES_HTML)

clean:
	rm -rf $(VENV) $(LOCK_VENV) media data/trajectories

# Refresh constraints.txt: the newest releases pyproject.toml's ranges allow, resolved in a
# fresh venv (never the working one), frozen with pip, setuptools and wheel.
lock:
	$(call apt_install,$(APT_PACKAGES) $(VOICE_APT_PACKAGES))
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(LOCK_VENV)/bin/pip install -q -e '.[dev,voice,slides]'
	{ sed -n '/^#/p' $(CONSTRAINTS); \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)
	@echo "constraints.txt refreshed; now run: make clean test"

bench: setup
	$(BIN)/python bench/train.py
	$(BIN)/python bench/render.py
