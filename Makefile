# Two commands do all the set-up on a fresh Debian machine:
#   make video   renders the lecture (media/videos/circles/...)
#   make test    runs the test suite
# Both install Debian's build libraries for Manim (apt-get, as root or through sudo),
# create .venv and install this package into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
APT_PACKAGES := libcairo2-dev libpango1.0-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system video test lint bench clean

setup: system $(VENV)/.installed

system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

video: setup
	$(BIN)/manim render scenes/circles.py

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check geomcore scenes tests bench

clean:
	rm -rf $(VENV) media data/trajectories
