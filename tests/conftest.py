"""Shared fixtures: synthetic runs, the lecture's three recorded runs, tiny experiments.

Fixtures only (and the hook marking the tests named in :data:`SLOW_BY_NAME` slow); shared
helper functions and constants live in ``helpers.py``.

The synthetic runs (:func:`synthetic3`, :func:`synthetic2`) are built in numpy from hand-set
weights, without training: the replay, anatomy and view tests draw them. The three lecture
experiments (``circles-2d``, ``-3d``, ``-4d``, 40,000 points, 100 epochs) are trained once per
session into a temporary cache folder by :func:`lecture_runs`, for the tests marked ``slow``;
every other test that records uses a tiny experiment (400 points, a few epochs) that takes
about a second.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers import LECTURE, TINY, merge, synthetic_trajectory, to_toml  # noqa: E402

from geomcore.experiment import Experiment, find_experiment  # noqa: E402
from geomcore.trajectory import Trajectory  # noqa: E402

#: Fixtures that train or replay the lecture's full runs (40,000 points, 100 epochs): every
#: test that uses one is slow, whatever its file says, so ``make test-fast`` stays short.
SLOW_FIXTURES = frozenset({"lecture_runs", "cached_lecture"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that uses a fixture in :data:`SLOW_FIXTURES`."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _own_media_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Render into a folder of this test process, never the checkout's ``media/``.

    Manim caches every text as an SVG file named by a hash of its string: two test processes
    (``pytest -n 2``) writing the same file at once leave a reader an empty file.
    """
    import manim

    manim.config.media_dir = str(tmp_path_factory.mktemp("media"))


@pytest.fixture
def tiny_dict() -> dict[str, Any]:
    """The tiny experiment as plain data (a fresh copy each test)."""
    return copy.deepcopy(TINY)


@pytest.fixture
def make_tiny():
    """``make_tiny(**changes)``: the tiny experiment with nested ``changes`` merged in."""

    def make(**changes: Any) -> Experiment:
        return Experiment.from_dict(merge(TINY, changes))

    return make


@pytest.fixture
def write_experiment(tmp_path: Path):
    """``write_experiment(data, name="exp.toml")``: write plain data as a TOML file."""

    def write(data: dict[str, Any], name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(to_toml(data), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _isolated_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the repository's ``data/trajectories``."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(cache))
    return cache


@dataclass(frozen=True)
class Run:
    """A recorded run: its experiment, trajectory and the file it is saved in."""

    experiment: Experiment
    trajectory: Trajectory
    path: Path


@pytest.fixture(scope="session")
def lecture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cache folder holding the lecture's three recorded runs (see :func:`lecture_runs`)."""
    return tmp_path_factory.mktemp("lecture-trajectories")


@pytest.fixture(scope="session")
def lecture_runs(lecture_dir: Path) -> dict[str, Run]:
    """The lecture's three experiments, trained by the engine once per session.

    About 2 s each on two cores (``model.fit`` took about 30 s); every test on the real
    data shares these recordings.
    """
    from geomcore.cache import load_or_record

    runs = {}
    for name in LECTURE:
        experiment = find_experiment(name)
        trajectory, path = load_or_record(experiment, directory=lecture_dir, progress=False)
        runs[name] = Run(experiment, trajectory, path)
    return runs


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The tiny experiment recorded (by the engine) once per session and saved to a file."""
    from geomcore.training import record_experiment

    experiment = Experiment.from_dict(copy.deepcopy(TINY))
    trajectory = record_experiment(experiment)
    path = trajectory.save(tmp_path_factory.mktemp("tiny") / "tiny.npz")
    return Run(experiment, trajectory, path)


@pytest.fixture
def cached_lecture(lecture_runs, lecture_dir, monkeypatch):
    """Point the trajectory cache at the session's recorded lecture runs.

    The lecture also shows the small ReLU experiment; it is recorded into the same folder.
    The conclusion's seed sweep (64 runs) is not recorded: a synthetic summary of it is
    written there instead (:func:`sweep_helpers.write_lecture_seed_sweeps`).
    """
    from sweep_helpers import write_lecture_seed_sweeps

    from geomcore.cache import load_or_record
    from geomcore.experiment import find_experiment

    load_or_record(find_experiment("circles-relu"), directory=lecture_dir, progress=False)
    write_lecture_seed_sweeps(lecture_dir)
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(lecture_dir))
    return lecture_runs


def _saved_and_loaded(trajectory: Trajectory, folder: Path) -> Trajectory:
    """``trajectory`` through the Trajectory file API: saved, then loaded (and validated)."""
    return Trajectory.load(trajectory.save(folder / f"{trajectory.name}.npz"))


@pytest.fixture(scope="session")
def synthetic3(tmp_path_factory: pytest.TempPathFactory) -> Trajectory:
    """A 2-3-2-1 tanh run built in numpy (7 snapshots), whose end separates the two rings.

    See :func:`helpers.synthetic_trajectory`; saved to a file and loaded back.
    """
    return _saved_and_loaded(synthetic_trajectory((3, 2), seed=0),
                             tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="session")
def synthetic2(tmp_path_factory: pytest.TempPathFactory) -> Trajectory:
    """A 2-2-2-1 tanh run built in numpy (7 snapshots, seeded random weights)."""
    return _saved_and_loaded(synthetic_trajectory((2, 2), seed=1),
                             tmp_path_factory.mktemp("synthetic"))
