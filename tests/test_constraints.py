"""constraints.txt: `make video` and `make test` install pinned, tested versions (issue 10).

The pins cover every package that geomcore[dev,voice,slides] needs, directly or through another
package, plus pip and the build backend; each pin lies inside pyproject.toml's range; the
environment these tests run in is the pinned one; and every pip install the set-up runs
passes the file.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import subprocess
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = ("dev", "voice", "slides")  # what `make test` installs


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line)
        assert match, f"constraints.txt, line {number}: {line!r} is not an exact pin name==version"
        name = canonicalize_name(match[1])
        assert name not in pins, f"constraints.txt, line {number}: {name} pinned twice"
        pins[name] = match[2]
    return pins


PINS = _pins()


def _top_level() -> list[Requirement]:
    project = PYPROJECT["project"]
    names = [*project["dependencies"]]
    for extra in EXTRAS:
        names += project["optional-dependencies"][extra]
    return [Requirement(r) for r in names]


def _closure() -> dict[str, set[str]]:
    """Every distribution geomcore[dev,voice,slides] needs here: name -> who asked for it."""
    needed: dict[str, set[str]] = {}
    walked: set[tuple[str, frozenset[str]]] = set()
    todo = [(req, "pyproject.toml") for req in _top_level()]
    while todo:
        req, parent = todo.pop()
        name = canonicalize_name(req.name)
        needed.setdefault(name, set()).add(parent)
        if req.marker and not req.marker.evaluate({"extra": ""}):
            needed[name].discard(parent)  # not for this platform or Python
            if not needed[name]:
                del needed[name]
            continue
        key = (name, frozenset(req.extras))
        if key in walked:
            continue
        walked.add(key)
        extras = {"", *req.extras}
        for text in metadata.requires(req.name) or []:
            child = Requirement(text)
            if child.marker and not any(child.marker.evaluate({"extra": e}) for e in extras):
                continue
            child.marker = None  # evaluated here, with the parent's extras
            todo.append((child, name))
    return needed


def test_every_pin_is_exact_and_pip_and_the_build_backend_are_pinned():
    assert len(PINS) > 50
    build = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    for req in [*build, Requirement("pip")]:
        pinned = PINS.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is not pinned"
        assert req.specifier.contains(pinned, prereleases=True), (req, pinned)


def test_every_pyproject_requirement_is_pinned_inside_its_range():
    for req in _top_level():
        pinned = PINS.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req} (pyproject.toml) is not pinned; run make lock"
        assert req.specifier.contains(pinned, prereleases=True), (
            f"constraints.txt pins {req.name}=={pinned}, outside pyproject.toml's {req}"
        )


def test_the_environment_the_tests_run_in_is_the_pinned_one():
    # Every package geomcore[dev,voice,slides] pulls in, however deep, is pinned, and installed at
    # that version here: the pins are what these tests pass on.
    needed = _closure()
    assert {"tensorflow-cpu", "manim", "keras", "numpy", "pytest", "pyttsx3"} <= set(needed)
    unpinned = sorted(n for n in needed if n not in PINS)
    assert not unpinned, f"not in constraints.txt (run make lock): {unpinned}"
    differs = {n: (metadata.version(n), PINS[n]) for n in needed
               if metadata.version(n) != PINS[n]}
    assert not differs, f"installed vs pinned: {differs}"


def test_every_pip_install_of_the_set_up_passes_the_constraints(tmp_path):
    out = subprocess.run(
        ["make", "-n", "-B", "setup-voice", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    installs = [line for line in out.stdout.splitlines() if "pip install" in line]
    assert len(installs) == 3, out.stdout  # pip itself, '.[dev]', '.[dev,voice,slides]'
    for line in installs:
        assert "-c constraints.txt" in line, line
    for extras in ("'.[dev]'", "'.[dev,voice,slides]'"):
        (line,) = [i for i in installs if i.endswith(extras)]
        assert "--build-constraint constraints.txt" in line, line
