"""geomcore.models: Functional Keras models with named layers, and their optimizers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from geomcore.models import (
    OUTPUT_LAYER,
    build_model,
    hidden_layer_names,
    import_keras,
    make_optimizer,
)


@pytest.fixture
def keras():
    return import_keras()


def test_layers_are_named_with_their_units_and_activations(make_tiny, keras):
    model = build_model(make_tiny(model={"hidden_widths": [4, 3, 2], "activation": "relu"}))
    assert model.name == "tiny"
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["hidden_1", "hidden_2", "hidden_3", OUTPUT_LAYER]
    assert [layer.units for layer in dense] == [4, 3, 2, 1]
    assert [layer.activation.__name__ for layer in dense] == ["relu", "relu", "relu", "sigmoid"]
    assert tuple(model.input.shape) == (None, 2) and tuple(model.output.shape) == (None, 1)
    assert dense[0].kernel.shape == (2, 4)  # (inputs, units)
    assert hidden_layer_names([5, 5]) == ["hidden_1", "hidden_2"]


def test_initial_weights_follow_the_seed(make_tiny, keras):
    def kernels(seed):
        keras.utils.set_random_seed(seed)
        model = build_model(make_tiny())
        return [model.get_layer(n).kernel.numpy() for n in ("hidden_1", "hidden_2", "output")]

    a, b, c = kernels(1), kernels(1), kernels(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    # Glorot uniform: |w| <= sqrt(6 / (fan_in + fan_out)).
    assert np.max(np.abs(a[0])) <= np.sqrt(6 / (2 + 3))


def test_abs_activation_folds(make_tiny, keras):
    model = build_model(make_tiny(model={"activation": "abs"}))
    layer = model.get_layer("hidden_1")
    layer.set_weights([np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], "float32"),
                       np.zeros(3, "float32")])
    out = keras.ops.convert_to_numpy(keras.Model(model.input, layer.output)(
        np.array([[-2.0, 3.0]], "float32")))
    np.testing.assert_array_equal(out, [[2.0, 2.0, 3.0]])


@pytest.mark.parametrize(("training", "kind", "momentum"), [
    ({"optimizer": "sgd", "learning_rate": 0.005}, "SGD", 0.0),
    ({"optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.9}, "SGD", 0.9),
    ({"optimizer": "adam", "learning_rate": 0.002}, "Adam", None),
])
def test_make_optimizer(make_tiny, keras, training, kind, momentum):
    opt = make_optimizer(make_tiny(training=training))
    assert type(opt).__name__ == kind
    assert float(keras.ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(
        training["learning_rate"])
    if momentum is not None:
        assert opt.momentum == momentum


def test_importing_models_does_not_import_tensorflow():
    code = ("import sys, geomcore.models; "
            "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
