"""geomcore.training: record_experiment trains as the brief says and is reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.datasets import data_hash, epoch_order, make_dataset
from geomcore.geometry import ACTIVATION_FUNCTIONS
from geomcore.training import record_experiment
from geomcore.trajectory import Trajectory

# -- the lecture's claims on the real data ------------------------------------------------


@pytest.mark.slow
def test_width_two_cannot_separate_the_circles(lecture_runs):
    t = lecture_runs["circles-2d"].trajectory
    assert not t.diverged and t.n_snapshots == 101
    assert t.accuracy[-1] < 0.95


@pytest.mark.slow
@pytest.mark.parametrize("name", ["circles-3d", "circles-4d"])
def test_width_three_and_four_separate_the_circles(lecture_runs, name):
    t = lecture_runs[name].trajectory
    assert not t.diverged and t.n_snapshots == 101
    assert t.accuracy[-1] >= 0.99
    assert t.accuracy[0] < 0.9  # it is training that separates them
    assert t.loss[-1] < t.loss[0]


# -- reproducibility ----------------------------------------------------------------------


@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_same_seed_gives_an_identical_trajectory(make_tiny, tiny_run, trainer):
    """Each trainer is deterministic (the cached tiny run was recorded by the engine)."""
    first = tiny_run.trajectory if trainer == "engine" else record_experiment(
        make_tiny(), trainer="fit")
    again = record_experiment(make_tiny(), trainer=trainer)
    assert set(again.arrays) == set(first.arrays)
    for name, a in first.arrays.items():
        assert a.dtype == again.arrays[name].dtype, name
        assert np.array_equal(a, again.arrays[name]), name
    strip = lambda md: {k: v for k, v in md.items() if k != "created"}  # noqa: E731
    assert strip(again.metadata) == strip(first.metadata)


@pytest.mark.slow
def test_another_seed_gives_another_trajectory(make_tiny, tiny_run):
    other = record_experiment(make_tiny(seed=4))
    first = tiny_run.trajectory
    assert other.metadata["data_hash"] != first.metadata["data_hash"]
    for name in ("kernel.hidden_1", "kernel.output", "loss", "probe.hidden_2", "grid.hidden_2"):
        assert not np.array_equal(other.arrays[name][0], first.arrays[name][0]), name
        assert not np.array_equal(other.arrays[name][-1], first.arrays[name][-1]), name


# -- what training does -------------------------------------------------------------------


def numpy_sgd_epoch(kernels, biases, activations, x, y, order, lr, batch_size):
    """One epoch of plain SGD on the mean squared error, by hand, in float64."""
    kernels = [k.astype(np.float64) for k in kernels]
    biases = [b.astype(np.float64) for b in biases]
    for start in range(0, len(order), batch_size):
        batch = order[start: start + batch_size]
        hs = [x[batch].astype(np.float64)]
        for k, b, act in zip(kernels, biases, activations, strict=True):
            hs.append(ACTIVATION_FUNCTIONS[act](hs[-1] @ k + b))
        p = hs[-1]
        # Keras "mse": mean over the batch of (p - y)^2.
        grad = 2.0 * (p - y[batch, None]) / len(batch)
        for i in reversed(range(len(kernels))):
            h = hs[i + 1]
            dz = grad * (h * (1 - h) if activations[i] == "sigmoid" else 1 - h**2)
            grad = dz @ kernels[i].T
            kernels[i] = kernels[i] - lr * (hs[i].T @ dz)
            biases[i] = biases[i] - lr * dz.sum(axis=0)
    return kernels, biases


def test_training_is_plain_sgd_on_mse_in_the_seeded_order(tiny_run):
    """Replaying two epochs by hand from snapshot 0 gives the recorded weights."""
    exp, t = tiny_run.experiment, tiny_run.trajectory
    x, y = make_dataset(exp.dataset.name, seed=exp.seed, **exp.dataset.params)
    kernels, biases = t.weights(0)
    acts = t.metadata["activations"]
    assert acts == ["tanh", "tanh", "sigmoid"]
    for epoch in range(1, 3):
        order = epoch_order(len(x), exp.seed, epoch - 1)
        kernels, biases = numpy_sgd_epoch(kernels, biases, acts, x, y.astype(np.float64), order,
                                          exp.training.learning_rate, exp.training.batch_size)
        want_k, want_b = t.weights(epoch)
        for got, want in zip(kernels + biases, want_k + want_b, strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    # The check has teeth: another order gives other weights.
    wrong, _ = numpy_sgd_epoch(*t.weights(0), acts, x, y.astype(np.float64),
                               np.arange(len(x)), exp.training.learning_rate, 32)
    assert np.max(np.abs(wrong[0] - t.weights(1)[0][0])) > 1e-4


def test_record_experiment_snapshots_and_metadata(tiny_run):
    exp, t = tiny_run.experiment, tiny_run.trajectory
    assert list(t.epochs) == [0, 1, 2, 3]
    assert list(t.steps) == [0, 13, 26, 39]  # 400 points in batches of 32
    assert t.metadata["steps_per_epoch"] == 13
    assert t.metadata["experiment"] == exp.to_dict()
    x, y = make_dataset(exp.dataset.name, seed=exp.seed, **exp.dataset.params)
    assert t.metadata["data_hash"] == data_hash(x, y.astype(np.int64))
    assert t.probe_inputs.shape == (100, 2) and t.grid_inputs.shape == (42, 200, 2)


@pytest.mark.slow
def test_progress_is_reported_after_every_epoch(make_tiny):
    reports = []
    t = record_experiment(make_tiny(training={"epochs": 2}), progress=lambda *a: reports.append(a))
    assert [r[:2] for r in reports] == [(1, 2), (2, 2)]
    assert all(np.isfinite(r[2]) and 0 < r[2] < 1 for r in reports)
    assert t.n_snapshots == 3


@pytest.mark.slow
def test_data_argument_replaces_the_dataset(make_tiny):
    x, y = make_dataset("gaussian_blobs", seed=0, n_per_class=100, distance=3.0)
    t = record_experiment(make_tiny(training={"epochs": 2, "learning_rate": 0.5}), data=(x, y))
    assert t.metadata["data_hash"] == data_hash(x, y)
    assert t.accuracy[-1] == t.network(-1).accuracy(x, y)
    assert t.accuracy[-1] > 0.95  # two distant blobs are easy


@pytest.mark.parametrize("trainer", ["engine", "fit"])
@pytest.mark.parametrize(("k", "dense", "steps"), [
    (5, 0, [0, 5, 10, 13, 15, 20, 25, 26]),
    (5, 1, [0, 5, 10, 13, 26]),
    (13, 0, [0, 13, 26]),
])
@pytest.mark.slow
def test_snapshots_every_k_steps(make_tiny, k, dense, steps, trainer):
    t = record_experiment(make_tiny(
        training={"epochs": 2},
        recording={"snapshot_every_steps": k, "dense_epochs": dense},
    ), trainer=trainer)
    assert t.metadata["trainer"] == {"engine": "engine", "fit": "keras.fit"}[trainer]
    assert list(t.steps) == steps
    np.testing.assert_allclose(t.epochs, np.array(steps) / 13)
    assert t.summary()["accuracy_by_epoch"] == [t.accuracy[i] for i in (0, steps.index(13), -1)]
    net = t.network(1)
    np.testing.assert_allclose(net.forward(t.probe_inputs, upto=-2),
                               t.arrays["probe.hidden_2"][1], atol=1e-5)


@pytest.mark.parametrize("training", [
    {"loss": "binary_crossentropy"},
    {"optimizer": "adam", "learning_rate": 0.01},
    {"momentum": 0.9},
])
@pytest.mark.slow
@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_other_losses_and_optimizers(make_tiny, training, trainer):
    exp = make_tiny(training={"epochs": 2, **training})
    t = record_experiment(exp, trainer=trainer)
    x, y = make_dataset(exp.dataset.name, seed=exp.seed, **exp.dataset.params)
    assert t.metadata["loss"] == exp.training.loss
    assert t.loss[-1] == pytest.approx(t.network(-1).loss(x, y, exp.training.loss), rel=1e-12)
    assert not np.array_equal(t.arrays["kernel.hidden_1"][0], t.arrays["kernel.hidden_1"][-1])


@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_divergence_stops_training_and_keeps_the_snapshots_before_it(make_tiny, tmp_path,
                                                                     trainer):
    exp = make_tiny(model={"activation": "linear"},
                    training={"loss": "binary_crossentropy", "learning_rate": 1000.0})
    t = record_experiment(exp, trainer=trainer)
    assert t.diverged
    assert 1 <= t.n_snapshots < exp.training.epochs + 1
    assert t.metadata["diverged_at_epoch"] is not None
    assert t.metadata["diverged_at_epoch"] >= t.epochs[-1]
    for name, a in t.arrays.items():
        if a.dtype.kind == "f":
            assert np.all(np.isfinite(a)), name
    loaded = Trajectory.load(t.save(tmp_path / "diverged.npz"))
    assert loaded.diverged and loaded.summary()["diverged_at_epoch"] == t.metadata[
        "diverged_at_epoch"]


@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_a_snapshot_whose_hidden_images_overflow_is_not_kept(make_tiny, trainer):
    # Dense snapshots of a blowing-up linear network: the last step before the loss turns
    # non-finite has finite float64 weights and loss but float32 hidden images of inf.
    exp = make_tiny(model={"activation": "linear"},
                    training={"loss": "binary_crossentropy", "learning_rate": 10.0},
                    recording={"snapshot_every_steps": 1})
    t = record_experiment(exp, trainer=trainer)
    assert t.diverged and t.n_snapshots == 8
    assert t.epochs[-1] < t.metadata["diverged_at_epoch"] <= 9 / 13
    for name, a in t.arrays.items():
        if a.dtype.kind == "f":
            assert np.all(np.isfinite(a)), name
