"""Shared fixtures: the lecture's three recorded runs (once per session), tiny experiments.

The three lecture experiments (``circles-2d``, ``-3d``, ``-4d``, 40,000 points, 100 epochs) are
trained once per session into a temporary cache folder by :func:`lecture_runs`; every other
test that records uses a tiny experiment (400 points, a few epochs) that takes about a second.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from geomcore.experiment import Experiment, find_experiment  # noqa: E402
from geomcore.trajectory import Trajectory  # noqa: E402

#: The lecture's experiments: first hidden width and learning rate.
LECTURE = {"circles-2d": (2, 0.001), "circles-3d": (3, 0.005), "circles-4d": (4, 0.005)}

#: A tiny experiment: 2 x 200 points, a 2-3-2-1 tanh network, 3 epochs of 13 steps.
TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 3,
    "description": "a tiny run for tests",
    "dataset": {"name": "concentric_circles", "n_per_class": 200},
    "model": {"hidden_widths": [3, 2], "activation": "tanh"},
    "training": {"loss": "mse", "optimizer": "sgd", "learning_rate": 0.05, "batch_size": 32,
                 "epochs": 3},
    "recording": {"probe_size": 100},
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``changes`` merged in (nested dicts merged key by key)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """TOML text for nested plain data: top-level values, then one ``[table]`` per dict."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for section, table in data.items():
        if isinstance(table, dict):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


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
    """
    from geomcore.cache import load_or_record
    from geomcore.experiment import find_experiment

    load_or_record(find_experiment("circles-relu"), directory=lecture_dir, progress=False)
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(lecture_dir))
    return lecture_runs


def crafted(trajectory: Trajectory, edit: Any = None, **metadata: Any) -> Trajectory:
    """A copy of ``trajectory`` with hand-made weights, every recorded image recomputed.

    ``edit(arrays)`` changes the ``kernel.*`` / ``bias.*`` arrays in place; the probe and
    grid images of every hidden layer and the boundary coefficients are then recomputed from
    the new weights, snapshot by snapshot, so the file is what a recording of such a network
    would hold. ``metadata`` entries replace the metadata's.
    """

    from geomcore.geometry import Network

    arrays = {k: v.copy() for k, v in trajectory.arrays.items()}
    meta = {**json.loads(json.dumps(trajectory.metadata)), **metadata}
    if edit is not None:
        edit(arrays)
    names = trajectory.layer_names
    grid_in = arrays["grid_inputs"]
    for s in range(arrays["epoch"].shape[0]):
        net = Network(tuple(arrays[f"kernel.{n}"][s] for n in names),
                      tuple(arrays[f"bias.{n}"][s] for n in names),
                      tuple(meta["activations"]), tuple(names))
        probe = [net.forward(arrays["probe_inputs"], upto=n) for n in names[:-1]]
        grid = [net.forward(grid_in.reshape(-1, 2), upto=n) for n in names[:-1]]
        for n, p, g in zip(names[:-1], probe, grid):
            arrays[f"probe.{n}"][s] = p
            arrays[f"grid.{n}"][s] = g.reshape(*grid_in.shape[:2], -1)
        arrays["boundary"][s] = net.boundary_coefficients()
    return Trajectory(arrays, meta)
