"""geomcore.cache: trajectory paths from the configuration hash; record once, then replay."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

import geomcore.cache as cache
import geomcore.training as training
from geomcore.cache import DEFAULT_CACHE_DIR, cache_dir, load_or_record, trajectory_path
from geomcore.experiment import Experiment, find_experiment
from geomcore.trajectory import SCHEMA_VERSION, Trajectory


def test_trajectory_path_is_name_and_hash_of_config_and_schema(make_tiny, tmp_path):
    exp = make_tiny()
    path = trajectory_path(exp, tmp_path)
    digest = hashlib.sha256(f"{exp.config_hash()}:schema{SCHEMA_VERSION}".encode()).hexdigest()
    assert path == tmp_path / f"tiny-{digest[:12]}.npz"
    assert re.fullmatch(r"tiny-[0-9a-f]{12}\.npz", path.name)


def test_trajectory_path_changes_with_the_config_only(make_tiny, tmp_path, write_experiment,
                                                      tiny_dict):
    base = trajectory_path(make_tiny(), tmp_path)
    from geomcore.experiment import load_experiment

    # Same configuration read from a file elsewhere: same path.
    assert trajectory_path(load_experiment(write_experiment(tiny_dict, "other.toml")),
                           tmp_path) == base
    for change in ({"seed": 4}, {"training": {"epochs": 4}}, {"grid": {"lines": 11}},
                   {"dataset": {"noise": 0.01}}, {"model": {"hidden_widths": [4, 2]}}):
        assert trajectory_path(make_tiny(**change), tmp_path) != base, change


def test_trajectory_path_changes_with_the_schema_version(make_tiny, tmp_path, monkeypatch):
    before = trajectory_path(make_tiny(), tmp_path)
    monkeypatch.setattr(cache, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    after = trajectory_path(make_tiny(), tmp_path)
    assert after != before and after.parent == before.parent


def test_cache_dir_from_the_environment(tmp_path, monkeypatch, make_tiny):
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"
    assert trajectory_path(make_tiny()).parent == tmp_path / "elsewhere"
    monkeypatch.delenv("GEOMCORE_CACHE_DIR")
    assert cache_dir() == DEFAULT_CACHE_DIR
    assert DEFAULT_CACHE_DIR.parts[-2:] == ("data", "trajectories")
    # The lecture's runs live there by default, one file per configuration.
    names = {trajectory_path(find_experiment(n)).name for n in ("circles-2d", "circles-3d")}
    assert len(names) == 2


@pytest.fixture
def counted(monkeypatch):
    """Count the calls to the real ``record_experiment``."""
    calls: list[str] = []
    real = training.record_experiment

    def record(experiment: Experiment, **kwargs):
        calls.append(experiment.name)
        return real(experiment, **kwargs)

    monkeypatch.setattr(training, "record_experiment", record)
    return calls


def forbid_recording(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("record_experiment called although the trajectory is cached")

    monkeypatch.setattr(training, "record_experiment", fail)


def test_records_once_then_loads(make_tiny, tmp_path, counted, monkeypatch):
    exp = make_tiny()
    first, path = load_or_record(exp, directory=tmp_path, progress=False)
    assert counted == ["tiny"]
    assert path == trajectory_path(exp, tmp_path) and path.is_file()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))

    forbid_recording(monkeypatch)
    second, again = load_or_record(exp, directory=tmp_path, progress=False)
    assert again == path
    for name, a in first.arrays.items():
        assert np.array_equal(second.arrays[name], a), name
    assert second.metadata["created"] == first.metadata["created"]


def test_force_records_again(make_tiny, tmp_path, counted):
    exp = make_tiny()
    first, path = load_or_record(exp, directory=tmp_path, progress=False)
    forced, again = load_or_record(exp, force=True, directory=tmp_path, progress=False)
    assert counted == ["tiny", "tiny"]
    assert again == path
    assert np.array_equal(forced.arrays["kernel.output"], first.arrays["kernel.output"])
    assert np.array_equal(Trajectory.load(path).loss, forced.loss)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_cached_file_is_recorded_again(make_tiny, tmp_path, counted, damage):
    exp = make_tiny()
    original, path = load_or_record(exp, directory=tmp_path, progress=False)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not a zip",
                      "empty": b""}[damage])
    with pytest.raises(Exception):  # noqa: B017 - any error: the file is damaged
        Trajectory.load(path)

    repaired, again = load_or_record(exp, directory=tmp_path, progress=False)
    assert counted == ["tiny", "tiny"]
    assert again == path
    assert np.array_equal(Trajectory.load(path).arrays["grid.hidden_2"],
                          original.arrays["grid.hidden_2"])
    assert np.array_equal(repaired.loss, original.loss)


def test_uses_the_environments_folder_by_default(make_tiny, tmp_path, monkeypatch, counted):
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "env-cache"))
    _, path = load_or_record(make_tiny(training={"epochs": 1}), progress=False)
    assert path.parent == tmp_path / "env-cache" and path.is_file()


def test_progress_bar_goes_to_stderr(make_tiny, tmp_path, capsys):
    _, path = load_or_record(make_tiny(training={"epochs": 2}), directory=tmp_path,
                             progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "recording tiny" in err and "2/2" in err


def test_records_with_the_engine_by_default_and_fit_on_request(make_tiny, tmp_path, counted,
                                                               monkeypatch):
    exp = make_tiny(training={"epochs": 1})
    by_engine, path = load_or_record(exp, directory=tmp_path, progress=False)
    assert by_engine.metadata["trainer"] == "engine"
    # A fit recording is asked for: the engine's file does not serve it, fit records again.
    by_fit, again = load_or_record(exp, directory=tmp_path, progress=False, trainer="fit")
    assert again == path and counted == ["tiny", "tiny"]
    assert by_fit.metadata["trainer"] == "keras.fit"
    np.testing.assert_allclose(by_fit.arrays["kernel.hidden_1"],
                               by_engine.arrays["kernel.hidden_1"], atol=1e-5)
    # Either trainer's file serves the engine (they record the same trajectory).
    forbid_recording(monkeypatch)
    cached, _ = load_or_record(exp, directory=tmp_path, progress=False)
    assert cached.metadata["trainer"] == "keras.fit"
    cached, _ = load_or_record(exp, directory=tmp_path, progress=False, trainer="fit")
    assert cached.metadata["trainer"] == "keras.fit"
