"""Long runs: hidden images at a thinned schedule, lazy loading, files growing with weights only.

Synthetic runs (hand-set weights, :func:`helpers.synthetic_trajectory`) of 40 and 79
snapshots assembled as a recorder does, and (slow) a tiny experiment with a snapshot after
every step (13 an epoch), stand in for long runs: the cap on stored images
(``geomcore.recording.MAX_IMAGE_SNAPSHOTS``, 128) is lowered to 8 so that they are thinned.
"""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest

from geomcore import recording
from geomcore.errors import TrajectoryError
from geomcore.recording import SnapshotRows
from geomcore.replay import Replay
from geomcore.trajectory import IMAGE_PREFIXES, SCHEMA_VERSION, LazyArrays, Trajectory

CAP = 8
#: Every step a snapshot: 400 points in batches of 32 make 13 steps an epoch.
DENSE = {"recording": {"snapshot_every_steps": 1, "dense_epochs": 0}}


def _record(make_tiny, epochs: int, trainer: str = "engine") -> Trajectory:
    from geomcore.training import record_experiment

    return record_experiment(make_tiny(training={"epochs": epochs}, **DENSE), trainer=trainer)


def _thinned(t: Trajectory, max_images: int = CAP, keep: int | None = None) -> Trajectory:
    """``t``'s rows appended to :class:`SnapshotRows` and assembled as a recorder does (the
    first ``keep`` rows only, if given, as the callback leaves out an unfinished epoch)."""
    rows = SnapshotRows(max_images)
    for i in range(t.n_snapshots):
        rows.append({k: np.array(a[i]) for k, a in t.arrays.items()
                     if k not in ("probe_inputs", "probe_labels", "grid_inputs")})
    return recording.assemble_trajectory(
        rows[:keep], net=t.network(0), probe_inputs=t.probe_inputs, probe_labels=t.probe_labels,
        grid_inputs=t.grid_inputs, bounds=t.bounds, x=t.probe_inputs, y=t.probe_labels,
        experiment=t.metadata["experiment"], seed=0, loss="mse", steps_per_epoch=10,
        trainer="synthetic", diverged_at_epoch=None,
    )


@pytest.fixture(scope="module")
def long_runs(tmp_path_factory):
    """Synthetic runs of 40 and 79 snapshots, images thinned to at most 8 + 1, saved."""
    from helpers import synthetic_trajectory

    folder = tmp_path_factory.mktemp("long")
    runs = {}
    for s in (40, 79):
        t = _thinned(synthetic_trajectory(snapshots=s))
        runs[s] = (t, t.save(folder / f"synthetic-{s}.npz"))
    return runs


@pytest.fixture(scope="module")
def recorded_long_run(tmp_path_factory):
    """The dense tiny run for 3 epochs (40 snapshots) by the engine, images capped at 8."""
    from helpers import TINY, merge

    from geomcore.experiment import Experiment
    from geomcore.training import record_experiment

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(recording, "MAX_IMAGE_SNAPSHOTS", CAP)
        exp = Experiment.from_dict(merge(TINY, {"training": {"epochs": 3}, **DENSE}))
        t = record_experiment(exp)
    return t, t.save(tmp_path_factory.mktemp("recorded") / "tiny-dense.npz")


# -- the thinning schedule ----------------------------------------------------------------


def _row(i: int) -> dict[str, np.ndarray]:
    return {"step": np.int64(i), "probe.h": np.full((2, 2), i, np.float32),
            "grid.h": np.full((1, 2, 2), i, np.float32)}


@pytest.mark.parametrize("count", [1, 4, 5, 9, 20, 33, 100])
def test_snapshot_rows_keep_evenly_spaced_images_and_the_last(count):
    rows = SnapshotRows(max_images=4)
    for i in range(count):
        rows.append(_row(i))
    kept = rows.with_images()
    on_stride = list(range(0, count, rows.stride))
    assert kept == sorted(set(on_stride) | {count - 1})
    assert len(on_stride) <= 4 and len(kept) <= 5
    # The stride is the smallest power of two that fits the rows into the cap.
    assert rows.stride == 1 if count <= 4 else math.ceil(count / 4) <= rows.stride < 2 * (
        math.ceil(count / 4))
    # Rows keep everything else, and their own images untouched.
    assert [int(r["step"]) for r in rows] == list(range(count))
    assert all(float(rows[i]["grid.h"][0, 0, 0]) == i for i in kept)


def test_snapshot_rows_refuse_a_cap_below_one():
    with pytest.raises(ValueError, match="max_images must be at least 1"):
        SnapshotRows(max_images=0)


# -- recorded long runs -------------------------------------------------------------------


def _check_thinned(t: Trajectory, s: int) -> None:
    assert t.n_snapshots == s
    at = t.image_snapshots
    assert t.images_thinned and t.metadata["schema_version"] == SCHEMA_VERSION == 3
    assert at[0] == 0 and at[-1] == s - 1 and len(at) <= CAP + 1
    stride = int(at[1] - at[0])
    np.testing.assert_array_equal(at[:-1], np.arange(0, s - 1, stride)[: len(at) - 1])
    for name in t.hidden_layer_names:
        assert t.arrays[f"probe.{name}"].shape[:2] == (len(at), t.probe_inputs.shape[0])
        assert t.arrays[f"grid.{name}"].shape[0] == len(at)
    # Every snapshot's weights and metrics are kept.
    assert t.arrays["kernel.hidden_1"].shape[0] == t.arrays["loss"].shape[0] == s


def _check_forward_pass(t: Trajectory) -> None:
    grid_points = t.grid_inputs.reshape(-1, 2)
    for row, snapshot in enumerate(t.image_snapshots):
        net = t.network(int(snapshot))
        for name in t.hidden_layer_names:
            width = t.widths[t.layer_names.index(name)]
            np.testing.assert_allclose(t.arrays[f"probe.{name}"][row],
                                       net.forward(t.probe_inputs, upto=name), atol=1e-5)
            np.testing.assert_allclose(t.arrays[f"grid.{name}"][row].reshape(-1, width),
                                       net.forward(grid_points, upto=name), atol=1e-5)


def test_a_long_run_stores_images_at_a_thinned_schedule(long_runs):
    for s in (40, 79):
        _check_thinned(long_runs[s][0], s)
        _check_forward_pass(Trajectory.load(long_runs[s][1]))
    np.testing.assert_array_equal(long_runs[40][0].image_snapshots, [0, 8, 16, 24, 32, 39])


def test_the_last_rows_images_are_stored_even_when_thinned_away():
    """The callback may leave out the rows after one whose images were already dropped."""
    from helpers import synthetic_trajectory

    full = synthetic_trajectory(snapshots=20)
    t = _thinned(full, max_images=4, keep=15)  # kept rows 0, 8, 16 and 19; row 14 had none
    assert t.n_snapshots == 15
    np.testing.assert_array_equal(t.image_snapshots, [0, 8, 14])
    for name in t.hidden_layer_names:
        assert t.arrays[f"grid.{name}"].dtype == np.float32
        np.testing.assert_allclose(t.arrays[f"probe.{name}"][-1],
                                   full.arrays[f"probe.{name}"][14], atol=1e-6)
        np.testing.assert_allclose(t.arrays[f"grid.{name}"][-1],
                                   full.arrays[f"grid.{name}"][14], atol=1e-6)
        np.testing.assert_array_equal(t.arrays[f"probe.{name}"][1],
                                      full.arrays[f"probe.{name}"][8])


@pytest.mark.slow
def test_a_recorded_long_run_stores_its_images_at_a_thinned_schedule(recorded_long_run):
    t, path = recorded_long_run
    assert t.metadata["trainer"] == "engine"
    _check_thinned(t, 40)
    # What the model computed (TensorFlow, float32) at the kept snapshots: the forward pass.
    _check_forward_pass(Trajectory.load(path))
    _frames_agree(Replay(Trajectory.load(path)), Replay(Trajectory.load(path, lazy=True)))


def test_images_of_a_snapshot_come_from_the_file_or_the_weights(long_runs):
    t = long_runs[79][0]
    stored = int(t.image_snapshots[1])
    missing = stored + 1
    assert missing not in t.image_snapshots
    for snapshot in (stored, missing):
        probe, grid = t.images("hidden_2", snapshot)
        net = t.network(snapshot)
        assert probe.dtype == grid.dtype == np.float32
        assert grid.shape == (*t.grid_inputs.shape[:2], 2)
        np.testing.assert_allclose(probe, net.forward(t.probe_inputs, upto="hidden_2"),
                                   atol=1e-5)
    np.testing.assert_array_equal(t.images("hidden_2", stored)[0], t.arrays["probe.hidden_2"][1])
    with pytest.raises(ValueError, match="no hidden layer 'output'"):
        t.images("output", 0)


def _sizes(path) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: i.compress_size for i in zf.infolist()}


def test_file_size_grows_with_the_weights_only(long_runs):
    (short, short_path), (long, long_path) = long_runs[40], long_runs[79]
    # Bytes a snapshot adds: its row of every per-snapshot array that is not an image.
    per_snapshot = sum(
        a[0].nbytes for k, a in long.arrays.items()
        if not k.startswith(IMAGE_PREFIXES) and k != "image_snapshots" and a.shape[:1] == (
            long.n_snapshots,) and k not in ("probe_inputs", "probe_labels", "grid_inputs"))
    image_row = sum(long.arrays[k][0].nbytes for k in long.arrays if k.startswith(IMAGE_PREFIXES))
    assert per_snapshot < 400 < image_row  # weights and metrics are a small share
    fixed = sum(long.arrays[k].nbytes for k in ("probe_inputs", "probe_labels", "grid_inputs"))
    members = len(_sizes(long_path))
    header = 400  # zip entry and .npy header per member, at most
    for t, path in ((short, short_path), (long, long_path)):
        size = path.stat().st_size
        meta = len(json.dumps(t.metadata, sort_keys=True)) * 4  # stored as UTF-32
        images = len(t.image_snapshots) * image_row
        assert size <= fixed + meta + t.n_snapshots * per_snapshot + images + members * header
        assert size >= images
    # 39 more snapshots, images capped: the files differ by their weights and metrics only.
    grown = long_path.stat().st_size - short_path.stat().st_size
    extra_images = (len(long.image_snapshots) - len(short.image_snapshots)) * image_row
    assert grown <= (long.n_snapshots - short.n_snapshots) * per_snapshot + extra_images + 64


# -- lazy loading -------------------------------------------------------------------------


def _frames_agree(a: Replay, b: Replay) -> None:
    np.testing.assert_allclose(a.change, b.change, rtol=0, atol=1e-12)
    for u in (0.0, 0.13, 0.5, 0.77, 1.0):
        fa, fb = a.frame(u), b.frame(u)
        assert abs(fa.snapshot - fb.snapshot) <= 1e-9
        np.testing.assert_allclose(fa.probe, fb.probe, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fa.grid, fb.grid, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fa.boundary, fb.boundary, rtol=0, atol=1e-6)


@pytest.mark.parametrize("thinned", [True, False], ids=["thinned", "every-snapshot"])
def test_a_lazily_loaded_file_replays_like_a_fully_loaded_one(long_runs, tiny_run, thinned):
    path = long_runs[79][1] if thinned else tiny_run.path
    full, lazy = Trajectory.load(path), Trajectory.load(path, lazy=True)
    assert isinstance(lazy.arrays, LazyArrays) and not isinstance(full.arrays, LazyArrays)
    images = [k for k in lazy.arrays if k.startswith(IMAGE_PREFIXES)]
    assert images and not any(lazy.arrays.is_loaded(k) for k in images)
    _frames_agree(Replay(full), Replay(lazy))
    # The replay streamed the stored images; it kept none of them in memory.
    assert not any(lazy.arrays.is_loaded(k) for k in images)
    # Read on first use, equal to the full load's.
    for k in images:
        np.testing.assert_array_equal(lazy.arrays[k], full.arrays[k])
        assert lazy.arrays.is_loaded(k)


def test_a_lazy_load_refuses_a_file_replaced_since(long_runs, tiny_run, tmp_path):
    path = tiny_run.trajectory.save(tmp_path / "run.npz")
    lazy = Trajectory.load(path, lazy=True)
    long_runs[40][0].save(path)
    with pytest.raises(TrajectoryError, match="changed since it was loaded lazily"):
        lazy.arrays["probe.hidden_2"]


def test_a_lazy_load_still_checks_every_header(tiny_run, tmp_path):
    arrays = {k: v for k, v in tiny_run.trajectory.arrays.items()}
    arrays["grid.hidden_2"] = arrays["grid.hidden_2"][:, :, :10]
    path = tmp_path / "bad.npz"
    with open(path, "wb") as f:
        np.savez(f, **arrays, metadata=np.array(json.dumps(tiny_run.trajectory.metadata)))
    shape = r"array 'grid.hidden_2' has shape \(\d+, 42, 10, 2\)"
    with pytest.raises(TrajectoryError, match=shape):
        Trajectory.load(path, lazy=True)


def test_image_snapshots_must_be_increasing_indices(long_runs, tmp_path):
    t = long_runs[40][0]
    arrays = dict(t.arrays)
    arrays["image_snapshots"] = arrays["image_snapshots"][::-1].copy()
    with pytest.raises(TrajectoryError, match="'image_snapshots' must hold increasing snapshot "
                       "indices 0 to 39"):
        Trajectory(arrays, dict(t.metadata))


# -- older files --------------------------------------------------------------------------


def test_a_schema_2_file_with_every_snapshots_images_still_loads(tiny_run, tmp_path):
    """What geomcore wrote before schema 3: np.savez of every array, images at every snapshot."""
    t = tiny_run.trajectory
    metadata = json.loads(json.dumps(t.metadata))
    metadata["schema_version"] = 2
    path = tmp_path / "schema2.npz"
    with open(path, "wb") as f:
        np.savez(f, **t.arrays, metadata=np.array(json.dumps(metadata)))
    for lazy in (False, True):
        old = Trajectory.load(path, lazy=lazy)
        assert old.metadata["schema_version"] == SCHEMA_VERSION
        assert not old.images_thinned
        np.testing.assert_array_equal(old.image_snapshots, np.arange(t.n_snapshots))
        for key, value in t.arrays.items():
            np.testing.assert_array_equal(old.arrays[key], value)
    np.testing.assert_array_equal(Replay(Trajectory.load(path, lazy=True)).change,
                                  Replay(t).change)


@pytest.mark.slow
def test_the_fit_trainer_thins_images_too(make_tiny, monkeypatch):
    monkeypatch.setattr(recording, "MAX_IMAGE_SNAPSHOTS", CAP)
    t = _record(make_tiny, 2, trainer="fit")
    assert t.metadata["trainer"] == "keras.fit" and t.n_snapshots == 27
    np.testing.assert_array_equal(t.image_snapshots, [0, 4, 8, 12, 16, 20, 24, 26])
    net = t.network(-1)
    np.testing.assert_allclose(t.arrays["probe.hidden_1"][-1],
                               net.forward(t.probe_inputs, upto="hidden_1"), atol=1e-5)
