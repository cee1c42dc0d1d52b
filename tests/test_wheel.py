"""Installable like a library: a built wheel, in a fresh virtual environment, from an empty folder.

The wheel must carry its package data (the shipped experiments, the lecture's narration) and
record into the current directory, not beside the installed package. To stay offline and
quick, the fresh environment borrows the dependencies (TensorFlow, Manim, ...) of the
environment running the tests through a ``.pth`` line naming its site-packages; a ``.pth``
line only adds a folder to ``sys.path``, so the editable-install finder of the checkout that
lives there is never run, and the child is shown to import geomcore from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import click
import pytest

from geomcore.cache import trajectory_path
from geomcore.experiment import find_experiment, list_experiments

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_EXPERIMENTS = ["blobs-4", "circles-2d", "circles-3d", "circles-4d", "circles-relu",
                       "sine-2", "spirals-3"]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{args}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the checkout's wheel and install it alone into a fresh virtual environment."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so setuptools' build/ and .egg-info never land in the checkout.
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("geomcore", "scenes"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "GEOMCORE_CACHE_DIR", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", tmp / "dist", src], tmp, env)
    [wheel] = (tmp / "dist").glob("geomcore-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env)
    python = venv / "bin" / "python"
    # Install with this environment's pip driving the new interpreter, before the new one
    # can see this environment's packages (so pip finds no geomcore to compare against).
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
          "--no-index", "-q", wheel], tmp, env)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     tmp, env).stdout.strip())
    # This environment's dependencies, as a plain path line: no .pth file of theirs runs.
    borrowed = Path(click.__file__).resolve().parent.parent
    assert borrowed == Path(sysconfig.get_path("purelib")).resolve()
    (site / "zz_borrowed_dependencies.pth").write_text(f"{borrowed}\n")

    empty = tmp / "empty"
    empty.mkdir()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"wheel": wheel, "venv": venv, "python": python, "site": site, "empty": empty,
            "env": env}  # type: ignore[dict-item]


def test_the_wheel_carries_the_experiments_and_the_narration(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for name in SHIPPED_EXPERIMENTS:
        assert f"geomcore/data/experiments/{name}.toml" in names
    assert "scenes/narration/circles.toml" in names
    assert not any(n.startswith(("tests/", "data/", "bench/")) for n in names)


@pytest.mark.slow
def test_the_installed_wheel_lists_trains_and_inspects_from_an_empty_folder(installed):
    env, empty, site = installed["env"], installed["empty"], installed["site"]
    geomcore = installed["venv"] / "bin" / "geomcore"
    assert geomcore.read_text().splitlines()[0] == f"#!{installed['python']}"

    # The child imports geomcore (and scenes) from the wheel, and finds its package data.
    probe = _run([installed["python"], "-c", (
        "import json, geomcore, scenes, importlib.resources as r\n"
        "from geomcore.experiment import EXPERIMENTS_DIR\n"
        "narration = r.files('scenes').joinpath('narration', 'circles.toml')\n"
        "print(json.dumps([geomcore.__file__, str(EXPERIMENTS_DIR), narration.read_text()]))"
    )], empty, env)
    module, experiments_dir, narration = json.loads(probe.stdout)
    assert Path(module) == site / "geomcore" / "__init__.py"
    assert Path(experiments_dir) == site / "geomcore" / "data" / "experiments"
    assert narration == (ROOT / "scenes" / "narration" / "circles.toml").read_text()
    assert "data" in tomllib.loads(narration)

    listed = _run([geomcore, "list"], empty, env)
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [row[0] for row in rows] == SHIPPED_EXPERIMENTS == list_experiments()
    assert all("not recorded" in line for line in listed.stdout.splitlines())
    assert rows[2][:3] == ["circles-3d", "widths", "2-3-2-1"]

    trained = _run([geomcore, "train", "circles-3d", "--quiet"], empty, env)
    path = Path(trained.stdout.strip())
    # Recorded into the current directory, named by the configuration hash as in the checkout.
    expected = empty / "data" / "trajectories" / trajectory_path(find_experiment("circles-3d")).name
    assert path == expected and path.is_file()
    assert [p.name for p in empty.iterdir()] == ["data"]
    assert not (site / "data").exists() and not (site.parent / "data").exists()

    summary = json.loads(_run([geomcore, "inspect", path, "--json"], empty, env).stdout)
    assert summary["experiment"] == "circles-3d"
    assert summary["epochs"] == 100 and len(summary["accuracy_by_epoch"]) == 101
    assert summary["final_accuracy"] >= 0.99
    assert summary["diverged"] is False and summary["no_learning"] is False

    again = _run([geomcore, "list"], empty, env).stdout.splitlines()
    assert "  recorded" in again[2] and "not recorded" in again[1]
