"""The recorder in users' own code (issue 10): any stack of Dense layers, any training loop.

Each fault of issue 10 the recorder owns (2, 3, 4, 10, 12, a user's own model, dropped
snapshots said) is here as the issue's input with its right value, and as a test of its
kind. The data: 400 points of concentric circles; batches of 32 make 13 steps an epoch.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from geomcore.datasets import make_dataset
from geomcore.errors import ExperimentError
from geomcore.geometry import ACTIVATION_FUNCTIONS
from geomcore.recording import TrajectoryRecorder
from geomcore.trajectory import Trajectory

STEPS = 13  # ceil(400 / 32)


@pytest.fixture(scope="module")
def keras():
    from geomcore.models import import_keras

    return import_keras()


@pytest.fixture(scope="module")
def tf(keras):
    import tensorflow as tf

    return tf


@pytest.fixture(scope="module")
def data():
    x, y = make_dataset("concentric_circles", seed=0, n_per_class=200)
    return x, y


def recorder(data, **options):
    """A recorder with a small probe set and grid (fast), options as given."""
    return TrajectoryRecorder(*data, probe_size=20, grid_lines_per_axis=3, grid_samples=10,
                              **options)


def fit_arrays(model, data, rec, *, epochs=2, batch_size=32, **kw):
    x, y = data
    return model.fit(x, y.astype(np.float32), batch_size=batch_size, epochs=epochs,
                     shuffle=False, verbose=0, callbacks=[rec], **kw)


def unknown_length(tf, data, kind):
    """The same 13 batches as ``fit_arrays``, as a dataset whose length Keras cannot know."""
    x, y = data
    y = y.astype(np.float32)
    if kind == "filter":  # the input
        return tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(32)
    assert kind == "generator"

    def batches():
        for i in range(0, len(x), 32):
            yield x[i : i + 32], y[i : i + 32]

    spec = (tf.TensorSpec((None, 2), tf.float32), tf.TensorSpec((None,), tf.float32))
    return tf.data.Dataset.from_generator(batches, output_signature=spec)


def assert_replays(model, t, data, atol=1e-5):
    """The last snapshot's numpy forward pass is what the model predicts; the recorded hidden
    outputs are the numpy forward pass of each snapshot's weights."""
    x, _ = data
    net = t.network(-1)
    p = model.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(net.predict_proba(x), p, atol=atol, rtol=0)
    for s in (0, t.n_snapshots - 1):
        for layer in t.hidden_layer_names:
            np.testing.assert_allclose(t.network(s).forward(t.probe_inputs, upto=layer),
                                       t.arrays[f"probe.{layer}"][s], atol=atol, rtol=1e-5)


def assert_same_trajectory(a, b):
    assert list(a.steps) == list(b.steps)
    np.testing.assert_array_equal(a.epochs, b.epochs)
    assert a.layer_names == b.layer_names
    for name in a.layer_names:
        np.testing.assert_allclose(a.arrays[f"kernel.{name}"], b.arrays[f"kernel.{name}"],
                                   atol=1e-6, rtol=0)
        np.testing.assert_allclose(a.arrays[f"bias.{name}"], b.arrays[f"bias.{name}"],
                                   atol=1e-6, rtol=0)


def functional(keras, *, bias=(True, True, True), acts=("tanh", "tanh", "sigmoid"),
               widths=(3, 2, 1)):
    inputs = keras.Input(shape=(2,), name="input")
    h = inputs
    names = [f"h{i + 1}" for i in range(len(widths) - 1)] + ["out"]
    for name, w, act, b in zip(names, widths, acts, bias, strict=True):
        h = keras.layers.Dense(w, activation=act, use_bias=b, name=name)(h)
    return keras.Model(inputs, h)


def compiled(keras, model, learning_rate=0.1, **kw):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse", **kw)
    return model


# -- fault 2: Dense layers without a bias ---------------------------------------------------


@pytest.mark.slow  # fits Keras models
@pytest.mark.parametrize(
    "bias",
    [(False, True, True), (True, True, False), (False, False, False)],
    ids=["hidden (the issue's input)", "output", "every layer"],
)
def test_a_layer_without_bias_records_a_zero_bias_and_replays(keras, data, bias):
    keras.utils.set_random_seed(2)
    model = compiled(keras, functional(keras, bias=bias))
    rec = recorder(data)
    fit_arrays(model, data, rec)
    t = rec.trajectory()
    assert list(t.steps) == [0, STEPS, 2 * STEPS]
    for name, has_bias, width in zip(t.layer_names, bias, (3, 2, 1), strict=True):
        recorded = t.arrays[f"bias.{name}"]
        assert recorded.shape == (3, width) and recorded.dtype == np.float32
        if has_bias:
            np.testing.assert_array_equal(recorded[-1], model.get_layer(name).bias.numpy())
            assert np.any(recorded[-1] != 0)  # trained: a bias that moved
        else:
            np.testing.assert_array_equal(recorded, 0.0)
    assert_replays(model, t, data)


# -- fault 3: data of unknown length --------------------------------------------------------


@pytest.mark.slow  # fits Keras models
@pytest.mark.parametrize("kind", ["filter", "generator"])
def test_unknown_length_data_give_the_trajectory_arrays_give(keras, tf, data, kind):
    trajectories = []
    for source in ("arrays", kind):
        keras.utils.set_random_seed(4)
        model = compiled(keras, functional(keras))
        rec = recorder(data, every_k_steps=5)
        if source == "arrays":
            fit_arrays(model, data, rec)
        else:
            model.fit(unknown_length(tf, data, kind), epochs=2, verbose=0, callbacks=[rec])
            assert rec.params["steps"] is None  # Keras does not know the length
        trajectories.append(rec.trajectory())
    arrays, unknown = trajectories
    assert list(arrays.steps) == [0, 5, 10, 13, 15, 20, 25, 26]
    np.testing.assert_allclose(arrays.epochs, arrays.steps / STEPS, rtol=0, atol=1e-12)
    assert_same_trajectory(arrays, unknown)
    assert unknown.metadata["steps_per_epoch"] == STEPS


@pytest.mark.slow
def test_a_run_diverging_inside_epoch_one_is_placed_alike_for_both_inputs(keras, tf, data):
    results = []
    for source in ("arrays", "filter"):
        keras.utils.set_random_seed(5)
        # Adam's steps are about the learning rate whatever the gradient: a rate of 1e38
        # overflows float32 weights after 7 steps, and the loss of step 8 is not finite.
        model = functional(keras)
        model.compile(optimizer=keras.optimizers.Adam(1e38), loss="mse")
        rec = recorder(data, every_k_steps=5)
        if source == "arrays":
            fit_arrays(model, data, rec)
        else:
            model.fit(unknown_length(tf, data, "filter"), epochs=2, verbose=0, callbacks=[rec])
        results.append((rec.diverged_at_epoch, rec.trajectory()))
    (at_arrays, t_arrays), (at_filter, t_filter) = results
    assert t_arrays.diverged and t_filter.diverged
    assert at_arrays == at_filter == pytest.approx(8 / STEPS, abs=1e-12)
    assert t_filter.metadata["diverged_at_epoch"] == at_arrays
    assert t_arrays.metadata["steps_per_epoch"] == t_filter.metadata["steps_per_epoch"] == STEPS
    assert_same_trajectory(t_arrays, t_filter)
    assert list(t_filter.steps) == [0, 5]
    np.testing.assert_allclose(t_filter.epochs, [0, 5 / STEPS], rtol=0, atol=1e-12)


# -- fault 4: compiling again between fit calls ---------------------------------------------


@pytest.mark.slow  # fits Keras models
@pytest.mark.parametrize("second", ["epochs=2", "initial_epoch=2", "batch_size=50"])
def test_compiling_again_between_fits_keeps_one_clock(keras, data, tmp_path, second):
    keras.utils.set_random_seed(6)
    model = compiled(keras, functional(keras))
    rec = recorder(data)
    fit_arrays(model, data, rec, epochs=2)
    compiled(keras, model, learning_rate=0.01)  # a new optimizer: its iterations start at 0
    if second == "epochs=2":
        fit_arrays(model, data, rec, epochs=2)
        steps = [0, 13, 26, 39, 52]
    elif second == "initial_epoch=2":
        fit_arrays(model, data, rec, epochs=4, initial_epoch=2)
        steps = [0, 13, 26, 39, 52]
    else:
        fit_arrays(model, data, rec, epochs=2, batch_size=50)
        steps = [0, 13, 26, 34, 42]  # 400 / 50 = 8 steps an epoch
    t = rec.trajectory()
    assert list(t.steps) == steps
    assert list(t.epochs) == [0, 1, 2, 3, 4]
    assert t.metadata["optimizers"] == [
        {"name": "SGD", "learning_rate": 0.1, "from_epoch": 0},
        {"name": "SGD", "learning_rate": 0.01, "from_epoch": 2},
    ]
    assert "dropped_snapshots" not in t.metadata
    np.testing.assert_array_equal(t.arrays["kernel.h1"][-1], model.get_layer("h1").kernel)
    if second == "batch_size=50":
        assert t.metadata["epoch_steps"] == [13, 13, 8, 8]
    path = t.save(tmp_path / "run.npz")
    assert list(Trajectory.load(path).steps) == steps


@pytest.mark.slow  # fits Keras models
def test_in_epoch_snapshots_continue_the_clock_after_compiling_again(keras, data):
    keras.utils.set_random_seed(6)
    model = compiled(keras, functional(keras))
    rec = recorder(data, every_k_steps=10)
    fit_arrays(model, data, rec, epochs=1)
    compiled(keras, model, learning_rate=0.01)
    fit_arrays(model, data, rec, epochs=1)
    t = rec.trajectory()
    assert list(t.steps) == [0, 10, 13, 20, 26]
    np.testing.assert_allclose(t.epochs, [0, 10 / 13, 1, 20 / 13, 2], rtol=0, atol=1e-12)


def test_rows_that_cannot_be_placed_are_left_out_and_said(keras, tf, data, caplog):
    """trajectory() asked inside an epoch of unknown length: its rows have no epoch yet."""
    keras.utils.set_random_seed(7)
    model = compiled(keras, functional(keras))
    rec = recorder(data, every_k_steps=5)
    taken = {}

    class Peek(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 11 and "t" not in taken:
                taken["t"] = rec.trajectory()

    with caplog.at_level(logging.WARNING, logger="geomcore"):
        model.fit(unknown_length(tf, data, "filter"), epochs=1, verbose=0,
                  callbacks=[rec, Peek()])
    t = taken["t"]
    assert list(t.steps) == [0]
    assert [(d["step"], d["reason"]) for d in t.metadata["dropped_snapshots"]] == [
        (5, "inside an unfinished epoch of unknown length"),
        (10, "inside an unfinished epoch of unknown length"),
    ]
    assert any("2 snapshot(s) left out" in r.getMessage() for r in caplog.records)
    # Once the epoch has ended, the same rows are placed and kept.
    assert list(rec.trajectory().steps) == [0, 5, 10, 13]


def test_a_row_out_of_step_order_is_left_out_and_said(keras, data, caplog):
    """The safety net under the clock: a row a bookkeeping error misplaced is dropped."""
    keras.utils.set_random_seed(7)
    model = compiled(keras, functional(keras))
    rec = recorder(data)
    fit_arrays(model, data, rec, epochs=2)
    misplaced = dict(rec._records[1], step=np.int64(5))  # after step 13, before step 26
    rec._records.insert(2, misplaced)
    with caplog.at_level(logging.WARNING, logger="geomcore"):
        t = rec.trajectory()
    assert list(t.steps) == [0, 13, 26]
    assert t.metadata["dropped_snapshots"] == [
        {"step": 5, "epoch": 1.0, "reason": "out of step order"}
    ]
    assert "1 snapshot(s) left out" in caplog.text


# -- fault 10: plain Sequential models ------------------------------------------------------


@pytest.mark.parametrize("variant", ["plain", "Input first", "built"])
def test_a_sequential_model_records(keras, data, variant):
    keras.utils.set_random_seed(8)
    dense = keras.layers.Dense
    layers = [dense(3, "tanh", name="a"), dense(2, "tanh", name="b"),
              dense(1, "sigmoid", name="c")]
    if variant == "Input first":
        layers.insert(0, keras.Input((2,)))
    model = keras.Sequential(layers)
    if variant == "built":
        model.build((None, 2))
    compiled(keras, model)
    rec = recorder(data)
    fit_arrays(model, data, rec)
    t = rec.trajectory()
    assert t.layer_names == ["a", "b", "c"] and t.widths == [3, 2, 1]
    assert list(t.steps) == [0, 13, 26]
    assert t.metadata["activations"] == ["tanh", "tanh", "sigmoid"]
    assert_replays(model, t, data)
    np.testing.assert_array_equal(t.arrays["kernel.b"][-1], model.get_layer("b").kernel)


# -- a user's own model: what records, and one clear error for the rest ---------------------


@pytest.mark.parametrize("name", sorted({*ACTIVATION_FUNCTIONS, "swish"} - {"abs"}))
def test_numpy_activations_equal_keras(keras, name):
    z = np.linspace(-8.0, 8.0, 2001).astype(np.float32)
    want = keras.ops.convert_to_numpy(keras.activations.get(name)(z)).astype(np.float64)
    got = ACTIVATION_FUNCTIONS["silu" if name == "swish" else name](z.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


def test_abs_equals_keras_ops_abs(keras):
    z = np.linspace(-3.0, 3.0, 61).astype(np.float32)
    np.testing.assert_array_equal(ACTIVATION_FUNCTIONS["abs"](z), keras.ops.abs(z))


@pytest.mark.slow  # fits Keras models
def test_any_supported_activation_by_name_or_function_records(keras, data):
    keras.utils.set_random_seed(9)
    dense, acts = keras.layers.Dense, keras.activations
    model = compiled(keras, keras.Sequential([
        dense(4, "selu", name="l1"), dense(4, acts.gelu, name="l2"),
        dense(3, "swish", name="l3"), keras.layers.Dropout(0.3, name="drop"),
        dense(3, acts.leaky_relu, name="l4"), dense(2, "softplus", name="l5"),
        dense(1, acts.sigmoid, name="out"),
    ]))
    rec = recorder(data)
    fit_arrays(model, data, rec)
    t = rec.trajectory()
    assert t.layer_names == ["l1", "l2", "l3", "l4", "l5", "out"]  # Dropout is not replayed
    assert t.metadata["activations"] == ["selu", "gelu", "silu", "leaky_relu", "softplus",
                                         "sigmoid"]
    assert_replays(model, t, data)


def scale_layer(keras):
    class Scale(keras.layers.Layer):
        def call(self, x):
            return 2.0 * x

    return Scale(name="scale")


def relu(z):  # named like Keras' relu, computes something else
    from geomcore.models import import_keras

    return 2.0 * import_keras().ops.tanh(z)


REFUSED = {
    # what the model is: (layers after Input((2,)) or the input shape, the named culprit)
    "a custom layer": ("custom", "'scale' (Scale) is not a Dense layer"),
    "a normalisation layer": ("batchnorm", "'norm' (BatchNormalization) is not a Dense layer"),
    "a reshape and a Conv1D": ("conv", "'reshape' (Reshape) is not a Dense layer"),
    "a lambda activation": ("lambda", "'h1' (Dense) has activation '<lambda>'"),
    "a callable that is not Keras' relu": ("fake relu", "'h1' (Dense) computes something "
                                           "other than Dense with activation 'relu'"),
    "a 4-unit viewed layer": ("wide", "'h2' (Dense) is the viewed layer (the last hidden one) "
                              "with 4 units, expected 2 or 3"),
    "no hidden layer": ("single", "has 1 Dense layer(s)"),
    "a linear output": ("linear out", "'out' (Dense) is not the output layer Dense(1, sigmoid)"),
    "3-D inputs": ("3 inputs", "takes inputs of shape [(None, 3)]"),
}


def refused_model(keras, kind):
    dense = keras.layers.Dense
    inputs = keras.Input((3,) if kind == "3 inputs" else (2,))
    h = inputs
    if kind == "conv":
        h = keras.layers.Reshape((2, 1), name="reshape")(h)
        h = keras.layers.Conv1D(2, 1, name="conv")(h)
        h = keras.layers.Flatten(name="flat")(h)
    act = {"lambda": lambda z: z, "fake relu": relu}.get(kind, "tanh")
    if kind != "single":
        h = dense(3, act, name="h1")(h)
    if kind == "custom":
        h = scale_layer(keras)(h)
    if kind == "batchnorm":
        h = keras.layers.BatchNormalization(name="norm")(h)
    if kind != "single":
        h = dense(4 if kind == "wide" else 2, "tanh", name="h2")(h)
    out = dense(1, "linear" if kind == "linear out" else "sigmoid", name="out")(h)
    return keras.Model(inputs, out)


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_model_the_recorder_cannot_replay_is_one_error_before_any_step(keras, data, case):
    kind, says = REFUSED[case]
    keras.utils.set_random_seed(10)
    model = compiled(keras, refused_model(keras, kind))
    before = [w.copy() for w in model.get_weights()]
    x, y = data
    if kind == "3 inputs":
        x = np.c_[x, x[:, :1]]
    with pytest.raises(ExperimentError) as info:
        model.fit(x, y.astype(np.float32), batch_size=32, epochs=1, verbose=0,
                  callbacks=[recorder(data)])
    message = str(info.value)
    assert says in message and "\n" not in message
    assert "the recorder replays a stack of Dense layers" in message
    assert "ending in Dense(1, sigmoid)" in message and "gelu" in message
    assert int(model.optimizer.iterations) == 0  # before any step
    for w, w0 in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(w, w0)


def test_a_recorder_refuses_a_second_model(keras, data):
    keras.utils.set_random_seed(11)
    rec = recorder(data)
    fit_arrays(compiled(keras, functional(keras)), data, rec, epochs=1)
    other = compiled(keras, functional(keras, widths=(4, 2, 1)))
    with pytest.raises(ExperimentError, match="expected the same model in every fit call"):
        fit_arrays(other, data, rec, epochs=1)
    assert list(rec.trajectory().steps) == [0, 13]


# -- dropped snapshots are said ---------------------------------------------------------


def test_snapshots_steps_per_execution_skips_are_said_once(keras, data, caplog):
    keras.utils.set_random_seed(12)
    model = compiled(keras, functional(keras), steps_per_execution=4)
    rec = recorder(data, every_k_steps=2)
    with caplog.at_level(logging.WARNING, logger="geomcore"):
        fit_arrays(model, data, rec, epochs=1)  # executions end at steps 4, 8, 12, 13
    t = rec.trajectory()
    assert list(t.steps) == [0, 4, 8, 12, 13]
    np.testing.assert_allclose(t.epochs, [0, 4 / 13, 8 / 13, 12 / 13, 1], rtol=0, atol=1e-12)
    assert t.metadata["skipped_snapshot_steps"] == [2, 6, 10]
    said = [r for r in caplog.records if r.name == "geomcore" and r.levelno == logging.WARNING]
    assert len(said) == 1
    assert "steps_per_execution=4" in said[0].getMessage()
    assert "steps [2, 6, 10]" in said[0].getMessage()
    assert "kept at steps [4, 8, 12]" in said[0].getMessage()


def test_nothing_is_said_when_no_snapshot_is_skipped(keras, data, caplog):
    keras.utils.set_random_seed(12)
    model = compiled(keras, functional(keras), steps_per_execution=2)
    rec = recorder(data, every_k_steps=4)
    with caplog.at_level(logging.WARNING, logger="geomcore"):
        fit_arrays(model, data, rec, epochs=1)
    assert list(rec.trajectory().steps) == [0, 4, 8, 12, 13]
    assert not [r for r in caplog.records if r.name == "geomcore"]
    assert "skipped_snapshot_steps" not in rec.trajectory().metadata


# -- fault 12: geomcore inspect on a user's trajectory --------------------------------------


@pytest.mark.slow  # fits Keras models
def test_inspect_says_what_a_users_recording_holds(keras, data, tmp_path):
    import json

    from click.testing import CliRunner

    from geomcore.cli import main

    keras.utils.set_random_seed(13)
    model = compiled(keras, keras.Sequential([
        keras.layers.Dense(4, "relu"), keras.layers.Dense(2, "tanh"),
        keras.layers.Dense(1, "sigmoid"),
    ]))
    rec = recorder(data)
    fit_arrays(model, data, rec, epochs=1)
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="mse")
    fit_arrays(model, data, rec, epochs=1)
    path = rec.trajectory().save(tmp_path / "mine.npz")

    out = CliRunner().invoke(main, ["inspect", str(path)])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0] == "experiment      none: recorded by user code (keras.fit)"
    assert lines[1] == "network         2-4-2-1  (relu, tanh, sigmoid)"
    assert lines[2] == "loss            mse"
    assert lines[3] == ("optimizer       SGD, learning rate 0.1; "
                        "from epoch 1: Adam, learning rate 0.005")
    assert "epochs          2  (3 snapshots, 26 steps)" in lines
    summary = json.loads(CliRunner().invoke(main, ["inspect", str(path), "--json"]).stdout)
    assert summary["experiment"] is None
    assert summary["activations"] == ["relu", "tanh", "sigmoid"]
    assert summary["loss"] == "mse"
    assert summary["optimizers"] == [
        {"name": "SGD", "learning_rate": 0.1, "from_epoch": 0},
        {"name": "Adam", "learning_rate": 0.005, "from_epoch": 1},
    ]
