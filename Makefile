# Two commands do all the set-up on a fresh Debian machine:
#   make video   renders the lecture (media/videos/circles/...), captions and .srt
#   make test    runs the test suite (make test-fast: all but the tests marked slow, which
#                train the lecture's experiments or render long scenes; under a minute)
# Both install Debian's build libraries for Manim (apt-get, as root or through sudo),
# create .venv and install this package into it. `make video-voice` renders the lecture
# with spoken narration (espeak-ng, offline). The test set-up includes the voice so its
# test runs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := libcairo2-dev libpango1.0-dev pkg-config fonts-dejavu-core
VOICE_APT_PACKAGES := espeak-ng libespeak-ng-libespeak1 sox
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-voice video video-voice test test-fast lint bench clean

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

$(VENV)/.installed: pyproject.toml
	$(call apt_install,$(APT_PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(VENV)/.voice: pyproject.toml $(VENV)/.installed
	$(call apt_install,$(VOICE_APT_PACKAGES))
	$(BIN)/pip install -q -e '.[dev,voice]'
	touch $@

video: setup
	$(BIN)/manim render scenes/circles.py

video-voice: setup-voice
	GEOMCORE_VOICE=1 $(BIN)/manim render scenes/circles.py

# Two test processes (pytest-xdist), one a core of the 2-core reference machine.
PYTEST_WORKERS ?= 2

test: setup-voice
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test-fast: setup-voice
	$(BIN)/python -m pytest -m "not slow" -n $(PYTEST_WORKERS)

lint: setup
	$(BIN)/ruff check geomcore scenes tests bench

clean:
	rm -rf $(VENV) media data/trajectories

bench: setup
	$(BIN)/python bench/train.py
	$(BIN)/python bench/render.py
