"""geomcore.geometry: numpy forward pass (against Keras), decision line, grid, accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geomcore.experiment import Experiment
from geomcore.geometry import (
    Network,
    clip_line_to_box,
    grid_lines,
    padded_bounds,
    sigmoid,
)


def keras_model_with_random_weights(widths, activation, seed):
    """A model from :func:`geomcore.models.build_model` with random kernels *and* biases."""
    from geomcore.models import build_model, import_keras

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    exp = Experiment.from_dict(
        {"name": "net", "model": {"hidden_widths": list(widths), "activation": activation}}
    )
    model = build_model(exp)
    rng = np.random.default_rng(seed)
    for name in [f"hidden_{i + 1}" for i in range(len(widths))] + ["output"]:
        layer = model.get_layer(name)
        k, b = layer.get_weights()
        layer.set_weights([rng.normal(0, 1.2, k.shape).astype("float32"),
                           rng.normal(0, 0.5, b.shape).astype("float32")])
    return model, keras


def network_from_model(model, activations):
    """Read every Dense layer's weights from the Keras model, by layer name."""
    names = [layer.name for layer in model.layers if layer.name != "input"]
    assert names[-1] == "output" and all(n.startswith("hidden_") for n in names[:-1])
    return Network(
        tuple(model.get_layer(n).kernel.numpy() for n in names),
        tuple(model.get_layer(n).bias.numpy() for n in names),
        tuple(activations),
        tuple(names),
    )


@pytest.mark.parametrize(
    ("widths", "activation"),
    [((2, 2), "tanh"), ((3, 2), "tanh"), ((4, 2), "tanh"), ((5, 4, 3), "tanh"),
     ((3, 2), "relu"), ((3, 2), "sigmoid"), ((3, 2), "linear"), ((4, 2), "abs")],
)
def test_numpy_forward_pass_equals_keras(widths, activation):
    model, keras = keras_model_with_random_weights(widths, activation, seed=len(widths) + 11)
    net = network_from_model(model, [activation] * len(widths) + ["sigmoid"])
    x = np.random.default_rng(1).uniform(-2, 2, size=(2_000, 2)).astype(np.float32)

    expected = keras.ops.convert_to_numpy(model(x, training=False))
    got = net.forward(x)
    assert got.shape == (2_000, 1) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    # Not a trivial comparison: the outputs vary over the inputs.
    assert expected.max() - expected.min() > 0.01

    for name in net.layer_names[:-1]:
        features = keras.Model(model.input, model.get_layer(name).output)
        hidden = keras.ops.convert_to_numpy(features(x, training=False))
        np.testing.assert_allclose(net.forward(x, upto=name), hidden, rtol=0, atol=1e-5)
    assert [net.forward(x, upto=name).shape[1] for name in net.layer_names] == [*widths, 1]
    np.testing.assert_array_equal(net.forward(x, upto=-2), net.forward(x, upto=len(widths) - 1))


def small_network(activation="tanh", seed=0):
    rng = np.random.default_rng(seed)
    widths = (3, 2, 1)
    fan_in, kernels, biases = 2, [], []
    for w in widths:
        kernels.append(rng.normal(0, 1, (fan_in, w)).astype(np.float32))
        biases.append(rng.normal(0, 0.3, (w,)).astype(np.float32))
        fan_in = w
    return Network(tuple(kernels), tuple(biases), (activation, activation, "sigmoid"),
                   ("hidden_1", "hidden_2", "output"))


def test_forward_follows_the_keras_dense_convention_by_hand():
    # h = act(x @ kernel + bias), kernel of shape (inputs, units), row vectors.
    k1 = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]], dtype=np.float32)  # (2, 3)
    b1 = np.array([0.5, 0.0, -1.0], dtype=np.float32)
    k2 = np.array([[1.0], [1.0], [1.0]], dtype=np.float32)
    b2 = np.array([0.0], dtype=np.float32)
    net = Network((k1, k2), (b1, b2), ("linear", "sigmoid"), ("hidden_1", "output"))
    x = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(net.forward(x, upto=0), [[1.5, 0.0, 5.0]])
    assert net.logit(x)[0] == pytest.approx(6.5)
    assert net.predict_proba(x)[0] == pytest.approx(1 / (1 + math.exp(-6.5)))


@pytest.mark.parametrize("layer", [0, 1, 2, "hidden_2", -1])
def test_stages_compose_to_the_forward_pass(layer):
    net = small_network()
    x = np.random.default_rng(2).normal(size=(50, 2))
    i = net.layer_index(layer)
    s = net.stages(x, layer)
    before = x if i == 0 else net.forward(x, upto=i - 1)
    np.testing.assert_array_equal(s.inputs, before)
    np.testing.assert_allclose(s.linear, before @ net.kernels[i].astype(np.float64), atol=1e-15)
    np.testing.assert_allclose(s.affine, s.linear + net.biases[i], atol=1e-15)
    np.testing.assert_allclose(s.outputs, net.forward(x, upto=i), atol=1e-15)
    # The stages chain: each layer's inputs are the previous layer's outputs.
    for j in range(1, net.n_layers):
        np.testing.assert_array_equal(net.stages(x, j).inputs, net.stages(x, j - 1).outputs)
    np.testing.assert_allclose(net.stages(x, -1).outputs, net.forward(x), atol=1e-15)


def test_logit_is_the_output_pre_activation():
    net = small_network()
    x = np.random.default_rng(3).normal(size=(40, 2))
    np.testing.assert_allclose(sigmoid(net.logit(x)), net.predict_proba(x), atol=1e-15)
    np.testing.assert_allclose(net.logit(x), net.stages(x, "output").affine[:, 0], atol=1e-15)


def test_layer_index_and_validation():
    net = small_network()
    assert net.widths == (3, 2, 1) and net.n_layers == 3
    assert net.layer_index("output") == 2 and net.layer_index(-3) == 0
    with pytest.raises(ValueError, match="'hidden_9'"):
        net.layer_index("hidden_9")
    with pytest.raises(ValueError, match="out of range"):
        net.layer_index(3)
    with pytest.raises(ValueError, match="hidden_2"):
        Network(net.kernels[:1] + (np.zeros((4, 2)),) + net.kernels[2:], net.biases,
                net.activations, net.layer_names)
    with pytest.raises(ValueError, match="'swish'"):
        Network(net.kernels, net.biases, ("swish", "tanh", "sigmoid"), net.layer_names)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        net.forward(np.zeros((4, 3)))


def test_sigmoid_is_stable_for_large_arguments():
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    p = sigmoid(z)  # no overflow warning (warnings are errors here)
    np.testing.assert_allclose(p, [0.0, 1 / (1 + math.exp(30)), 0.5, 1 / (1 + math.exp(-30)), 1.0])


# -- accuracy and loss from weights -------------------------------------------------------


def test_accuracy_and_loss_from_weights_by_hand():
    # hidden_1 = identity (linear); output p = sigmoid(2 h1 - h2 + 0.5).
    net = Network(
        (np.eye(2, dtype=np.float32), np.array([[2.0], [-1.0]], dtype=np.float32)),
        (np.zeros(2, dtype=np.float32), np.array([0.5], dtype=np.float32)),
        ("linear", "sigmoid"),
        ("hidden_1", "output"),
    )
    x = np.array([[1.0, 0.0], [0.0, 3.0], [-1.0, -1.0], [0.0, 0.5], [-0.25, 0.0]])
    y = np.array([1, 1, 0, 0, 1])
    z = [2.5, -2.5, -0.5, 0.0, 0.0]
    p = [1 / (1 + math.exp(-v)) for v in z]
    # Predicted class 1 where p > 0.5 (strictly, as Keras' binary accuracy): 1, 0, 0, 0, 0.
    assert net.accuracy(x, y) == pytest.approx(3 / 5)
    mse = sum((pi - yi) ** 2 for pi, yi in zip(p, y, strict=True)) / 5
    assert net.loss(x, y) == pytest.approx(mse)
    bce = -sum(math.log(pi) if yi else math.log(1 - pi) for pi, yi in zip(p, y, strict=True)) / 5
    assert net.loss(x, y, "binary_crossentropy") == pytest.approx(bce)
    with pytest.raises(ValueError, match="'hinge'"):
        net.loss(x, y, "hinge")
    np.testing.assert_array_equal(net.boundary_coefficients(), [2.0, -1.0, 0.5])
    # One forward pass for both gives exactly the same numbers.
    for kind in ("mse", "binary_crossentropy"):
        assert net.loss_and_accuracy(x, y, kind) == (net.loss(x, y, kind), net.accuracy(x, y))
    with pytest.raises(ValueError, match="'hinge'"):
        net.loss_and_accuracy(x, y, "hinge")


def test_binary_crossentropy_clips_like_keras():
    net = Network((np.eye(2, dtype=np.float32), np.array([[100.0], [0.0]], dtype=np.float32)),
                  (np.zeros(2, dtype=np.float32), np.zeros(1, dtype=np.float32)),
                  ("linear", "sigmoid"), ("hidden_1", "output"))
    # p = 1 for a class-0 point: the loss is -log(1e-7), finite.
    assert net.loss(np.array([[5.0, 0.0]]), np.array([0]), "binary_crossentropy") == (
        pytest.approx(-math.log(1e-7), rel=1e-6))


def test_boundary_coefficients_are_the_output_kernel_and_bias():
    net = small_network(seed=5)
    coef = net.boundary_coefficients()
    assert coef.shape == (3,)
    np.testing.assert_array_equal(coef[:2], net.kernels[-1][:, 0])
    np.testing.assert_array_equal(coef[2:], net.biases[-1])


def test_jacobian_determinant_of_a_linear_layer_is_its_kernels():
    k = np.array([[2.0, 1.0], [0.5, 3.0]], dtype=np.float32)
    net = Network((k, np.ones((2, 1), dtype=np.float32)),
                  (np.array([0.3, -0.2], dtype=np.float32), np.zeros(1, dtype=np.float32)),
                  ("linear", "sigmoid"), ("hidden_1", "output"))
    x = np.random.default_rng(0).normal(size=(10, 2))
    np.testing.assert_allclose(net.jacobian_determinant(x), np.linalg.det(k), rtol=1e-6)
    with pytest.raises(ValueError, match="not 2"):
        small_network().jacobian_determinant(x, upto="hidden_1")


# -- the decision line --------------------------------------------------------------------

BOX = (-1.0, 1.0, -1.0, 1.0)


def as_set(segment):
    """End points as a sorted list of tuples, so the order of the ends does not matter."""
    return sorted(tuple(np.round(p, 12)) for p in segment)


def test_general_line():
    seg = clip_line_to_box(1.0, 1.0, 0.0, BOX)  # u + v = 0
    assert seg.shape == (2, 2)
    assert as_set(seg) == [(-1.0, 1.0), (1.0, -1.0)]
    seg = clip_line_to_box(1.0, -2.0, 0.5, (0.0, 4.0, 0.0, 4.0))  # v = (u + 0.5) / 2
    assert as_set(seg) == [(0.0, 0.25), (4.0, 2.25)]


def test_vertical_line():
    seg = clip_line_to_box(2.0, 0.0, -0.5, BOX)  # u = 0.25, b = 0
    assert as_set(seg) == [(0.25, -1.0), (0.25, 1.0)]


def test_horizontal_line():
    seg = clip_line_to_box(0.0, -4.0, 2.0, BOX)  # v = 0.5
    assert as_set(seg) == [(-1.0, 0.5), (1.0, 0.5)]


def test_no_line_when_a_and_b_are_zero():
    assert clip_line_to_box(0.0, 0.0, 1.0, BOX) is None
    assert clip_line_to_box(0.0, 0.0, 0.0, BOX) is None
    assert clip_line_to_box(1e-20, -1e-20, 3.0, BOX) is None


def test_line_missing_the_box():
    assert clip_line_to_box(1.0, 1.0, -5.0, BOX) is None  # u + v = 5
    assert clip_line_to_box(1.0, 0.0, -2.0, BOX) is None  # vertical u = 2
    assert clip_line_to_box(0.0, 1.0, 1.5, BOX) is None  # horizontal v = -1.5
    assert clip_line_to_box(float("nan"), 1.0, 0.0, BOX) is None


def test_random_lines_against_the_corner_test():
    """The line meets the box iff a u + b v + c changes sign over its corners."""
    rng = np.random.default_rng(0)
    box = (-2.0, 3.0, -0.5, 1.5)
    corners = np.array([[u, v] for u in box[:2] for v in box[2:]])
    hits = 0
    for _ in range(2_000):
        a, b = rng.normal(size=2) * rng.choice([1.0, 0.0, 1e3], size=2)
        c = rng.normal() * 3
        seg = clip_line_to_box(a, b, c, box)
        if a == 0 and b == 0:
            assert seg is None
            continue
        values = corners @ [a, b] + c
        crosses = values.min() <= 0 <= values.max()
        assert (seg is not None) == crosses, (a, b, c)
        if seg is None:
            continue
        hits += 1
        # Both ends lie on the line ...
        np.testing.assert_allclose(seg @ [a, b] + c, 0.0, atol=1e-9 * max(1, abs(a), abs(b)))
        # ... inside the box and on its boundary.
        for u, v in seg:
            assert box[0] - 1e-9 <= u <= box[1] + 1e-9 and box[2] - 1e-9 <= v <= box[3] + 1e-9
            on_edge = min(abs(u - box[0]), abs(u - box[1]), abs(v - box[2]), abs(v - box[3]))
            assert on_edge < 1e-9
    assert hits > 500


def test_boundary_coefficients_clipped_give_the_decision_line():
    # Output unit 0 h1 + 2 h2 - 1: the decision line p = 0.5 is h2 = 0.5.
    net = Network((np.eye(2), np.array([[0.0], [2.0]])), (np.zeros(2), np.array([-1.0])),
                  ("linear", "sigmoid"), ("h", "output"))
    np.testing.assert_array_equal(net.boundary_coefficients(), [0.0, 2.0, -1.0])
    seg = clip_line_to_box(*net.boundary_coefficients(), BOX)
    assert as_set(seg) == [(-1.0, 0.5), (1.0, 0.5)]
    np.testing.assert_allclose(net.predict_proba(seg), 0.5, rtol=0, atol=1e-12)


# -- grid and bounds ----------------------------------------------------------------------


def test_grid_lines_vertical_first():
    bounds = (-2.0, 3.0, -1.0, 0.5)
    g = grid_lines(bounds, lines=5, samples=7)
    assert g.shape == (10, 7, 2) and g.dtype == np.float64
    xs, ys = np.linspace(-2, 3, 5), np.linspace(-1, 0.5, 5)
    for i in range(5):
        # Vertical line i: constant x, y rising over the box.
        np.testing.assert_array_equal(g[i, :, 0], xs[i])
        np.testing.assert_array_equal(g[i, :, 1], np.linspace(-1, 0.5, 7))
        # Horizontal line i: constant y, x rising over the box.
        np.testing.assert_array_equal(g[5 + i, :, 1], ys[i])
        np.testing.assert_array_equal(g[5 + i, :, 0], np.linspace(-2, 3, 7))


def test_grid_lines_default_size():
    assert grid_lines((0, 1, 0, 1)).shape == (42, 200, 2)


def test_padded_bounds():
    x = np.array([[0.0, 0.0], [4.0, 1.0], [2.0, 0.5]])
    # Larger side 4, padding 0.1 -> 0.4 on every edge.
    assert padded_bounds(x, 0.1) == pytest.approx((-0.4, 4.4, -0.4, 1.4))
    assert padded_bounds(x, 0.0) == (0.0, 4.0, 0.0, 1.0)
    assert padded_bounds(x, 0.5) == pytest.approx((-2.0, 6.0, -2.0, 3.0))
    # A single point still gives a box of positive size.
    xmin, xmax, ymin, ymax = padded_bounds(np.array([[1.0, 2.0]]))
    assert xmin < 1.0 < xmax and ymin < 2.0 < ymax
