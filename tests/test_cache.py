"""geomcore.cache: trajectory paths from the configuration hash; record once, then replay.

Also what survives a killed run or save, and two processes recording at once."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import REPORT_IMPORT, assert_imported_checkout, child_env

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
    # By default: ./data/trajectories of the current directory, never beside the package.
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_CACHE_DIR == Path("data", "trajectories")
    assert cache_dir() == tmp_path / "data" / "trajectories"
    assert trajectory_path(make_tiny()).parent == tmp_path / "data" / "trajectories"
    # A relative folder in the environment is taken from the current directory too.
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", "runs")
    assert cache_dir() == tmp_path / "runs"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", "")
    assert cache_dir() == tmp_path / "data" / "trajectories"
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


@pytest.mark.slow
def test_force_records_again(make_tiny, tmp_path, counted):
    exp = make_tiny()
    first, path = load_or_record(exp, directory=tmp_path, progress=False)
    forced, again = load_or_record(exp, force=True, directory=tmp_path, progress=False)
    assert counted == ["tiny", "tiny"]
    assert again == path
    assert np.array_equal(forced.arrays["kernel.output"], first.arrays["kernel.output"])
    assert np.array_equal(Trajectory.load(path).loss, forced.loss)


@pytest.mark.slow
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


@pytest.mark.slow
def test_uses_the_environments_folder_by_default(make_tiny, tmp_path, monkeypatch, counted):
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "env-cache"))
    _, path = load_or_record(make_tiny(training={"epochs": 1}), progress=False)
    assert path.parent == tmp_path / "env-cache" and path.is_file()


@pytest.mark.slow
def test_progress_bar_goes_to_stderr(make_tiny, tmp_path, capsys):
    _, path = load_or_record(make_tiny(training={"epochs": 2}), directory=tmp_path,
                             progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "recording tiny" in err and "2/2" in err


@pytest.mark.slow
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


# -- issue 7: interrupted runs and concurrent recordings ----------------------------------

# Runs ``geomcore train EXPERIMENT --force`` in a child that announces (by creating MARKER)
# that it is inside the training loop or halfway through writing the file, then hangs there
# until the test kills it with SIGKILL: no handler, no cleanup can run.
KILLED_CHILD = REPORT_IMPORT + textwrap.dedent(
    """
    import pathlib, sys, time
    import numpy as np
    from geomcore import cache, cli

    where, marker, experiment = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]

    def hang():
        marker.touch()
        time.sleep(300)

    if where == "training":
        def progress(name):
            return (lambda done, total, loss: hang()), (lambda: None)
        cache._rich_progress = progress
    else:
        def savez_halfway(file, **arrays):
            file.write(b"PK\\x03\\x04" + bytes(5000))  # the first part of a zip ...
            file.flush()
            hang()  # ... and the process dies here
        np.savez = savez_halfway
    cli.main(["train", experiment, "--force"])
    """
)


def _kill_when_marked(args: list[str], marker: Path, env: dict[str, str]) -> None:
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached the point to kill"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        child.stderr.close()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["training", "writing"])
def test_a_run_killed_midway_leaves_the_previous_file_whole(tiny_run, write_experiment,
                                                            tiny_dict, tmp_path, where):
    toml = write_experiment(tiny_dict, "tiny.toml")
    folder = tmp_path / "kill-cache"
    target = tiny_run.trajectory.save(trajectory_path(tiny_run.experiment, folder))
    before = target.read_bytes()
    script, marker = tmp_path / "child.py", tmp_path / "reached"
    script.write_text(KILLED_CHILD)

    report = tmp_path / "imported"
    _kill_when_marked([sys.executable, str(script), where, str(marker), str(toml)], marker,
                      child_env(report, GEOMCORE_CACHE_DIR=str(folder)))
    assert_imported_checkout(report)

    # The previous recording is intact under its name and still loads.
    assert target.read_bytes() == before
    assert np.array_equal(Trajectory.load(target).loss, tiny_run.trajectory.loss)
    leftovers = sorted(p.name for p in folder.iterdir()
                       if p.name not in (target.name, target.name + ".lock"))
    if where == "training":
        assert leftovers == []  # nothing was written yet
    else:
        # The killed writer's temporary file: hidden, never the target's name, never loaded.
        [tmp] = leftovers
        assert tmp.startswith(f".{target.name}.") and tmp.endswith(".tmp")
        assert (folder / tmp).stat().st_size >= 5000
    # The next recording of the experiment removes the leftovers (under its lock).
    again, path = load_or_record(tiny_run.experiment, force=True, directory=folder,
                                 progress=False)
    assert path == target
    assert sorted(p.name for p in folder.iterdir()) == [target.name, target.name + ".lock"]
    assert np.array_equal(Trajectory.load(target).loss, again.loss)


RACING_CHILD = REPORT_IMPORT + textwrap.dedent(
    """
    import os, pathlib, sys, time
    import geomcore.training as training
    from geomcore import cli

    log, me, other, experiment = (pathlib.Path(a) for a in sys.argv[1:5])
    real = training.record_experiment

    def counted(exp, **kwargs):
        with open(log, "a") as f:  # one line per recording actually made
            f.write(f"{os.getpid()}\\n")
        return real(exp, **kwargs)

    training.record_experiment = counted
    me.touch()
    deadline = time.monotonic() + 120
    while not other.exists() and time.monotonic() < deadline:  # start together
        time.sleep(0.01)
    cli.main(["train", str(experiment), "--quiet"])
    """
)


@pytest.mark.slow
def test_two_processes_recording_one_experiment_leave_one_valid_file(write_experiment,
                                                                     tiny_dict, tmp_path):
    tiny_dict["training"]["epochs"] = 2
    toml = write_experiment(tiny_dict, "tiny.toml")
    folder = tmp_path / "shared-cache"
    script, log = tmp_path / "racer.py", tmp_path / "recordings.log"
    script.write_text(RACING_CHILD)
    ready = [tmp_path / "ready-a", tmp_path / "ready-b"]
    reports = [tmp_path / "imported-a", tmp_path / "imported-b"]
    children = [
        subprocess.Popen([sys.executable, str(script), str(log), str(ready[i]),
                          str(ready[1 - i]), str(toml)],
                         env=child_env(reports[i], GEOMCORE_CACHE_DIR=str(folder)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in (0, 1)
    ]
    outputs = [child.communicate(timeout=240) for child in children]
    for child, (_out, err), report in zip(children, outputs, reports):
        assert child.returncode == 0, err
        assert_imported_checkout(report)
    paths = {out.strip() for out, _ in outputs}
    assert len(paths) == 1
    path = Path(paths.pop())
    assert len(log.read_text().splitlines()) == 1  # recorded once; the other one waited
    t = Trajectory.load(path)
    assert t.name == "tiny" and t.n_snapshots == 3
    assert sorted(p.name for p in folder.iterdir()) == [path.name, path.name + ".lock"]


@pytest.mark.slow
def test_an_experiment_on_a_csv_is_recorded_and_a_changed_csv_records_anew(tmp_path, tiny_dict,
                                                                          counted):
    from helpers import to_toml

    from geomcore.datasets import data_hash, load_csv
    from geomcore.experiment import load_experiment

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-1, 0.3, (60, 2)), rng.normal(1, 0.3, (40, 2))])
    labels = np.repeat([0, 1], [60, 40])
    csv = tmp_path / "data" / "points.csv"
    csv.parent.mkdir()
    csv.write_text("x1,x2,label\n" + "".join(f"{a:.6f},{b:.6f},{c}\n"
                                             for (a, b), c in zip(x, labels)))
    tiny_dict["dataset"] = {"name": "csv", "path": "data/points.csv"}
    tiny_dict["training"]["epochs"] = 2
    toml = tmp_path / "mine.toml"
    toml.write_text(to_toml(tiny_dict))

    first, path = load_or_record(load_experiment(toml), directory=tmp_path / "c",
                                 progress=False)
    xs, ys = load_csv(csv)
    assert first.metadata["data_hash"] == data_hash(xs, ys)
    assert first.metadata["class_counts"] == [60, 40] and first.chance_accuracy == 0.6
    assert first.probe_inputs.shape == (90, 2)  # 50 of class 0 and all 40 of class 1
    assert Trajectory.load(path).n_snapshots == 3

    csv.write_text(csv.read_text() + "0.5,0.5,1\n")
    second, other = load_or_record(load_experiment(toml), directory=tmp_path / "c",
                                   progress=False)
    assert other != path and counted == ["tiny", "tiny"]
    assert second.metadata["class_counts"] == [60, 41]
    assert Trajectory.load(path).metadata["class_counts"] == [60, 40]  # the old one kept
