"""geomcore.recording: what the recorder stores equals what the recorded network computes.

The first group checks the lecture's three real runs (recorded once per session by the
``lecture_runs`` fixture); the second uses the recorder in a hand-written ``model.fit``.
"""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.datasets import data_hash, make_dataset
from geomcore.errors import ExperimentError
from geomcore.geometry import clip_line_to_box, grid_lines, padded_bounds, sigmoid
from geomcore.recording import TrajectoryRecorder, library_versions, probe_subset

LECTURE = ["circles-2d", "circles-3d", "circles-4d"]
WIDTH = {"circles-2d": 2, "circles-3d": 3, "circles-4d": 4}


def dataset_of(experiment):
    return make_dataset(experiment.dataset.name, seed=experiment.seed, **experiment.dataset.params)


# -- the lecture's recorded runs ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_recorded_hidden_outputs_equal_the_numpy_forward_pass(lecture_runs, name):
    t = lecture_runs[name].trajectory
    grid_points = t.grid_inputs.reshape(-1, 2)
    worst = 0.0
    for s in range(t.n_snapshots):
        net = t.network(s)
        for layer in t.hidden_layer_names:
            h = net.forward(t.probe_inputs, upto=layer)
            worst = max(worst, float(np.max(np.abs(h - t.arrays[f"probe.{layer}"][s]))))
            h = net.forward(grid_points, upto=layer)
            recorded = t.arrays[f"grid.{layer}"][s].reshape(len(grid_points), -1)
            worst = max(worst, float(np.max(np.abs(h - recorded))))
    assert worst <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_shapes_of_the_recorded_run(lecture_runs, name):
    t = lecture_runs[name].trajectory
    w = WIDTH[name]
    assert t.layer_names == ["hidden_1", "hidden_2", "output"]
    assert t.widths == [w, 2, 1]
    assert t.arrays["kernel.hidden_1"].shape == (101, 2, w)
    assert t.arrays["probe.hidden_1"].shape == (101, 2_000, w)
    assert t.arrays["probe.hidden_2"].shape == (101, 2_000, 2)
    assert t.arrays["grid.hidden_2"].shape == (101, 42, 200, 2)
    assert t.arrays["boundary"].shape == (101, 3)


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_boundary_coefficients_are_the_output_kernel_and_bias(lecture_runs, name):
    t = lecture_runs[name].trajectory
    kernel, bias = t.arrays["kernel.output"], t.arrays["bias.output"]
    np.testing.assert_array_equal(t.arrays["boundary"][:, :2], kernel[:, :, 0])
    np.testing.assert_array_equal(t.arrays["boundary"][:, 2], bias[:, 0])


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_points_on_the_clipped_decision_line_give_one_half(lecture_runs, name):
    t = lecture_runs[name].trajectory
    probe_h = t.arrays["probe.hidden_2"]
    crossings = 0
    for s in range(t.n_snapshots):
        box = padded_bounds(probe_h[s], 0.1)
        segment = clip_line_to_box(*t.arrays["boundary"][s], box)
        kernel = t.arrays["kernel.output"][s].astype(np.float64)  # (2, 1)
        bias = t.arrays["bias.output"][s].astype(np.float64)  # (1,)
        logits = probe_h[s].astype(np.float64) @ kernel[:, 0] + bias[0]
        if segment is None:
            # No line in the box: every probe image lies on one side of it.
            assert np.all(logits > 0) or np.all(logits < 0), s
            continue
        crossings += 1
        u = np.linspace(0.0, 1.0, 101)[:, None]
        points = segment[0] + u * (segment[1] - segment[0])
        assert np.all(points[:, 0] >= box[0] - 1e-9) and np.all(points[:, 0] <= box[1] + 1e-9)
        assert np.all(points[:, 1] >= box[2] - 1e-9) and np.all(points[:, 1] <= box[3] + 1e-9)
        a, b, c = kernel[0, 0], kernel[1, 0], bias[0]
        p = sigmoid(a * points[:, 0] + b * points[:, 1] + c)
        assert np.max(np.abs(p - 0.5)) <= 1e-6, s
    # A classifier that works has its line through the data's image.
    assert crossings >= t.n_snapshots // 2
    assert clip_line_to_box(*t.arrays["boundary"][-1], padded_bounds(probe_h[-1])) is not None


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_epoch_zero_is_recorded_before_any_update(lecture_runs, name):
    from geomcore.models import build_model, import_keras

    run = lecture_runs[name]
    t = run.trajectory
    assert list(t.epochs) == list(range(101))
    assert list(t.steps) == [1_250 * e for e in range(101)]  # 40,000 / 32 steps an epoch
    assert t.steps[0] == 0 and t.epochs[0] == 0
    # Snapshot 0 holds Keras' initial weights for the seed: Glorot kernels, zero biases.
    keras = import_keras()
    keras.utils.set_random_seed(run.experiment.seed)
    model = build_model(run.experiment)
    for layer in t.layer_names:
        np.testing.assert_array_equal(t.arrays[f"kernel.{layer}"][0], model.get_layer(layer).kernel)
        np.testing.assert_array_equal(t.arrays[f"bias.{layer}"][0], 0.0)
        assert not np.array_equal(t.arrays[f"kernel.{layer}"][0], t.arrays[f"kernel.{layer}"][1])


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_recorded_loss_and_accuracy_are_on_the_whole_dataset(lecture_runs, name):
    from geomcore.models import build_model, import_keras

    run = lecture_runs[name]
    t = run.trajectory
    x, y = dataset_of(run.experiment)
    for s in (0, 1, 50, 100):
        net = t.network(s)
        assert t.accuracy[s] == net.accuracy(x, y)
        assert t.loss[s] == pytest.approx(net.loss(x, y, "mse"), rel=1e-12)
    # And Keras agrees on the final weights.
    keras = import_keras()
    model = build_model(run.experiment)
    for layer in t.layer_names:
        model.get_layer(layer).set_weights(
            [t.arrays[f"kernel.{layer}"][-1], t.arrays[f"bias.{layer}"][-1]]
        )
    p = keras.ops.convert_to_numpy(model(x, training=False))[:, 0]
    assert abs(float(np.mean((p > 0.5) == (y == 1))) - t.accuracy[-1]) <= 2 / len(x)
    assert float(np.mean((p - y) ** 2)) == pytest.approx(t.loss[-1], abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_probe_set_is_2000_dataset_points_half_of_each_class(lecture_runs, name):
    run = lecture_runs[name]
    t = run.trajectory
    x, y = dataset_of(run.experiment)
    assert t.probe_inputs.shape == (2_000, 2) and t.probe_inputs.dtype == np.float32
    assert np.count_nonzero(t.probe_labels == 0) == 1_000
    assert np.count_nonzero(t.probe_labels == 1) == 1_000
    label_of = {row.tobytes(): label for row, label in zip(x, y, strict=True)}
    assert len({row.tobytes() for row in t.probe_inputs}) == 2_000  # distinct points
    pairs = zip(t.probe_inputs, t.probe_labels, strict=True)
    assert all(label_of[row.tobytes()] == label for row, label in pairs)
    # The same seeded subset the recorder documents.
    idx = probe_subset(y, 2_000, run.experiment.seed)
    assert np.array_equal(t.probe_inputs, x[idx])


@pytest.mark.slow
@pytest.mark.parametrize("name", LECTURE)
def test_grid_and_metadata_describe_the_data(lecture_runs, name):
    run = lecture_runs[name]
    t = run.trajectory
    x, y = dataset_of(run.experiment)
    bounds = padded_bounds(x, 0.1)
    assert t.bounds == pytest.approx(bounds)
    assert np.array_equal(t.grid_inputs, grid_lines(bounds, 21, 200))
    assert t.metadata["data_hash"] == data_hash(x, y)
    assert t.metadata["experiment"] == run.experiment.to_dict()
    assert t.metadata["seed"] == run.experiment.seed
    assert t.metadata["loss"] == "mse" and t.metadata["steps_per_epoch"] == 1_250
    assert t.metadata["trainer"] == "engine" and t.metadata["diverged"] is False
    assert t.metadata["versions"] == library_versions()


# -- the recorder in a user's own fit -----------------------------------------------------


def small_model(keras, output_activation="sigmoid"):
    inputs = keras.Input(shape=(2,), name="input")
    h = keras.layers.Dense(3, activation="tanh", name="a")(inputs)
    h = keras.layers.Dense(2, activation="tanh", name="b")(h)
    out = keras.layers.Dense(1, activation=output_activation, name="out")(h)
    return keras.Model(inputs, out)


@pytest.fixture
def keras():
    from geomcore.models import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    return keras


@pytest.fixture
def circles():
    return make_dataset("concentric_circles", seed=0, n_per_class=100)


def test_recorder_in_a_users_fit_spanning_two_calls(keras, circles):
    x, y = circles
    model = small_model(keras)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    initial = [layer.get_weights() for layer in model.layers[1:]]
    recorder = TrajectoryRecorder(x, y, probe_size=20, grid_lines_per_axis=5, grid_samples=200,
                                  seed=1)
    model.fit(x, y, batch_size=50, epochs=2, verbose=0, callbacks=[recorder])
    model.fit(x, y, batch_size=50, epochs=1, verbose=0, callbacks=[recorder])
    t = recorder.trajectory()

    assert list(t.epochs) == [0, 1, 2, 3]
    assert list(t.steps) == [0, 4, 8, 12]  # 200 points, batches of 50
    assert t.layer_names == ["a", "b", "out"] and t.widths == [3, 2, 1]
    for (kernel, bias), name in zip(initial, t.layer_names, strict=True):
        np.testing.assert_array_equal(t.arrays[f"kernel.{name}"][0], kernel)
        np.testing.assert_array_equal(t.arrays[f"bias.{name}"][0], bias)
    final = model.get_layer("b").get_weights()
    np.testing.assert_array_equal(t.arrays["kernel.b"][-1], final[0])
    assert t.probe_inputs.shape == (20, 2) and np.count_nonzero(t.probe_labels) == 10
    assert t.grid_inputs.shape == (10, 200, 2)
    assert t.arrays["grid.b"].shape == (4, 10, 200, 2)
    net = t.network(2)
    np.testing.assert_allclose(net.forward(t.probe_inputs, upto="a"), t.arrays["probe.a"][2],
                               atol=1e-5)


def test_snapshots_every_k_steps_in_a_users_fit(keras, circles):
    x, y = circles
    model = small_model(keras)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    recorder = TrajectoryRecorder(x, y, probe_size=10, every_k_steps=3, dense_epochs=1)
    model.fit(x, y, batch_size=25, epochs=2, verbose=0, callbacks=[recorder])  # 8 steps/epoch
    t = recorder.trajectory()
    assert list(t.steps) == [0, 3, 6, 8, 16]
    np.testing.assert_allclose(t.epochs, [0, 3 / 8, 6 / 8, 1, 2])


def test_recorder_refuses_a_model_it_cannot_read(keras, circles):
    x, y = circles
    model = small_model(keras, output_activation="linear")
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ExperimentError, match="Dense\\(1, sigmoid\\)"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[TrajectoryRecorder(x, y, probe_size=10)])

    inputs = keras.Input(shape=(2,))
    h = keras.layers.Dense(2, activation="tanh", name="dense_h")(inputs)
    h = keras.layers.BatchNormalization(name="norm")(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ExperimentError, match="'norm'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[TrajectoryRecorder(x, y, probe_size=10)])


def test_trajectory_before_training_is_an_error(circles):
    with pytest.raises(RuntimeError, match="no snapshots"):
        TrajectoryRecorder(*circles, probe_size=10).trajectory()


def test_probe_subset_is_seeded_and_balanced():
    y = np.r_[np.zeros(300, dtype=np.int64), np.ones(100, dtype=np.int64)]
    idx = probe_subset(y, 50, seed=4)
    assert idx.dtype == np.int64 and idx.shape == (50,)
    assert len(set(idx.tolist())) == 50
    assert np.count_nonzero(y[idx] == 0) == 25 and np.all(y[idx[:25]] == 0)
    assert np.all(np.diff(idx[:25]) > 0) and np.all(np.diff(idx[25:]) > 0)  # sorted per class
    assert np.array_equal(idx, probe_subset(y, 50, seed=4))
    assert not np.array_equal(idx, probe_subset(y, 50, seed=5))
    # A class smaller than its half gives all it has.
    assert np.count_nonzero(y[probe_subset(y, 300, seed=0)] == 1) == 100
