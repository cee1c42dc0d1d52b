"""geomcore.anatomy: the geometry behind the lecture's layer chapters, checked by value.

Hand-made kernels and networks give exact answers; the lecture's recorded runs (the
``lecture_runs`` fixture) are checked against independent computations written here: SVD,
determinants, central finite differences of ``Network.forward``, the sigmoid of the output.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import synthetic_trajectory

from geomcore.anatomy import (
    decision_surface,
    embed,
    fold_curves,
    kernel_determinants,
    kernel_ellipse,
    layer_steps,
    orbit_camera,
    pca_projection,
)
from geomcore.geometry import Network, sigmoid


def rotation(degrees: float) -> np.ndarray:
    """Rows ``(cos, sin)`` and ``(-sin, cos)``: ``x @ rotation(a)`` turns x by ``a``."""
    a = np.radians(degrees)
    return np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])


def fd_jacobian_det(network: Network, x: np.ndarray, upto, h: float = 1e-4) -> np.ndarray:
    """det J of ``x -> network.forward(x, upto)`` by central differences (independent)."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for e in (np.array([h, 0.0]), np.array([0.0, h])):
        cols.append((network.forward(x + e, upto) - network.forward(x - e, upto)) / (2 * h))
    dx, dy = cols
    return dx[:, 0] * dy[:, 1] - dx[:, 1] * dy[:, 0]


def output_logit_from_hidden_1(network: Network, h: np.ndarray) -> np.ndarray:
    """Output logit of a ``2 -> 3 -> 2 -> 1`` network from points of its 3-unit layer."""
    u = np.tanh(h @ network.kernels[1].astype(np.float64) + network.biases[1].astype(np.float64))
    return (u @ network.kernels[2].astype(np.float64) + network.biases[2].astype(np.float64))[:, 0]


HAND_KERNELS = {
    "rotation": rotation(35.0),
    "diagonal stretch": np.diag([3.0, 0.5]),
    "reflection": np.array([[1.0, 0.0], [0.0, -1.0]]),
    "stretch then rotate": np.diag([2.5, 0.4]) @ rotation(-70.0),
    "shear": np.array([[1.0, 1.5], [0.0, 1.0]]),
}


# -- kernel_ellipse -----------------------------------------------------------------------


def check_ellipse(kernel: np.ndarray) -> None:
    kernel = np.asarray(kernel, dtype=np.float64)
    e = kernel_ellipse(kernel)
    s = np.linalg.svd(kernel, compute_uv=False)
    np.testing.assert_allclose(e.singular_values, s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(e.axes, axis=1), s, rtol=1e-12, atol=1e-12)
    # The drawn ellipse, measured: its farthest and nearest points are the semi-axes.
    pts = e.boundary(4001)
    r = np.linalg.norm(pts, axis=1)
    assert r.max() == pytest.approx(s[0], abs=1e-3)
    assert r.min() == pytest.approx(s[1], abs=1e-3)
    # Every drawn point is the image of a unit-circle point under x -> x @ kernel.
    preimages = pts @ np.linalg.inv(kernel)
    np.testing.assert_allclose(np.linalg.norm(preimages, axis=1), 1.0, atol=1e-10)
    # ... and the images of unit-circle points lie on the drawn ellipse (same quadratic form).
    theta = np.linspace(0, 2 * np.pi, 37)
    images = np.column_stack([np.cos(theta), np.sin(theta)]) @ kernel
    q = np.linalg.inv(e.axes)  # p @ q has unit norm exactly on the drawn ellipse
    np.testing.assert_allclose(np.linalg.norm(images @ q, axis=1), 1.0, atol=1e-10)
    assert e.determinant == pytest.approx(np.linalg.det(kernel), rel=1e-12, abs=1e-12)
    assert np.sign(e.determinant) == np.sign(np.linalg.det(kernel))
    # The major axis' angle, in (-90, 90].
    assert -90 < e.rotation_degrees <= 90
    major = e.axes[0] / np.linalg.norm(e.axes[0])
    direction = np.array([np.cos(np.radians(e.rotation_degrees)),
                          np.sin(np.radians(e.rotation_degrees))])
    assert abs(major @ direction) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", sorted(HAND_KERNELS))
def test_ellipse_of_hand_made_kernels(name):
    check_ellipse(HAND_KERNELS[name])


@pytest.mark.slow
def test_ellipse_of_the_trained_width_2_first_layer(lecture_runs):
    kernel = lecture_runs["circles-2d"].trajectory.network(-1).kernels[0]
    assert kernel.shape == (2, 2)
    check_ellipse(kernel)


def test_ellipse_known_values():
    e = kernel_ellipse(np.diag([3.0, 0.5]) @ rotation(30.0))
    np.testing.assert_allclose(e.singular_values, [3.0, 0.5], atol=1e-12)
    assert e.rotation_degrees == pytest.approx(30.0, abs=1e-9)
    assert e.determinant == pytest.approx(1.5, abs=1e-12)
    # A major axis at 120 degrees is the same line as one at -60 degrees.
    assert kernel_ellipse(np.diag([3.0, 0.5]) @ rotation(120.0)).rotation_degrees == (
        pytest.approx(-60.0, abs=1e-9)
    )
    # Rotations keep the circle a circle and orientation; reflections flip orientation.
    r = kernel_ellipse(rotation(35.0))
    np.testing.assert_allclose(r.singular_values, [1.0, 1.0], atol=1e-12)
    assert r.determinant == pytest.approx(1.0, abs=1e-12)
    assert kernel_ellipse(HAND_KERNELS["reflection"]).determinant == pytest.approx(-1.0)
    # A singular kernel squashes the circle to a segment.
    flat = kernel_ellipse(np.array([[2.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(flat.singular_values, [2.0, 0.0], atol=1e-12)
    assert flat.determinant == 0.0


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2,), (1, 1), (2, 2, 1)])
def test_ellipse_rejects_a_kernel_that_is_not_2x2(shape):
    with pytest.raises(ValueError, match="2x2"):
        kernel_ellipse(np.ones(shape))


# -- layer_steps --------------------------------------------------------------------------


def test_embed_pads_with_zeros_and_cuts():
    p = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(embed(p, 3), [[1, 2, 0], [3, 4, 0]])
    np.testing.assert_array_equal(embed(np.array([[1.0, 2.0, 3.0]]), 2), [[1, 2]])


def check_layer_steps(network: Network, x: np.ndarray) -> None:
    fan_in = 2
    for i, (k, b, act) in enumerate(zip(network.kernels, network.biases, network.activations)):
        k, b = k.astype(np.float64), b.astype(np.float64)
        h = x if i == 0 else network.forward(x, upto=i - 1)
        assert h.shape[1] == fan_in
        dim = max(fan_in, k.shape[1])
        lin = h @ k
        pre = lin + b
        out = {"tanh": np.tanh, "sigmoid": sigmoid}[act](pre)
        np.testing.assert_allclose(out, network.forward(x, upto=i), atol=1e-12)
        expected = {0.0: h, 1.0: lin, 2.0: pre, 3.0: out, 1.5: (lin + pre) / 2,
                    0.25: 0.75 * embed(h, dim) + 0.25 * embed(lin, dim)}
        for t, want in expected.items():
            got = layer_steps(network, i, x, t)
            assert got.shape == (len(x), dim)
            np.testing.assert_allclose(got, embed(want, dim), atol=1e-12, err_msg=f"t={t}")
        # By name too, and t is clipped to [0, 3].
        name = network.layer_names[i]
        np.testing.assert_allclose(layer_steps(network, name, x, 3.0), embed(out, dim), atol=1e-12)
        np.testing.assert_allclose(layer_steps(network, i, x, 7.0), embed(out, dim), atol=1e-12)
        np.testing.assert_allclose(layer_steps(network, i, x, -1.0), embed(h, dim), atol=1e-12)
        fan_in = k.shape[1]


def run_trajectory(request: pytest.FixtureRequest, name: str):
    """The synthetic run ``synthetic2``/``synthetic3`` (no training) or a lecture run."""
    if name.startswith("synthetic"):
        return request.getfixturevalue(name)
    return request.getfixturevalue("lecture_runs")[name].trajectory


def lecture(name: str):
    """A lecture run's name as a parameter of the slow tests (they train it)."""
    return pytest.param(name, marks=pytest.mark.slow)


@pytest.mark.parametrize("name", ["synthetic2", "synthetic3", lecture("circles-2d"),
                                  lecture("circles-3d"), lecture("circles-4d")])
def test_layer_steps_are_the_layer_stages(request, name):
    t = run_trajectory(request, name)
    for snapshot in (0, -1):
        check_layer_steps(t.network(snapshot), t.probe_inputs[:300].astype(np.float64))


@pytest.mark.parametrize("name", ["synthetic3", lecture("circles-3d")])
def test_layer_steps_of_the_width_3_network_lift_and_flatten(request, name):
    t = run_trajectory(request, name)
    net = t.network(-1)
    x = t.probe_inputs.astype(np.float64)
    # 2 -> 3: the plane starts as the plane z = 0 in space and is lifted out of it.
    start = layer_steps(net, "hidden_1", x, 0.0)
    assert start.shape == (len(x), 3)
    np.testing.assert_array_equal(start[:, :2], x)
    np.testing.assert_array_equal(start[:, 2], 0.0)
    lifted = layer_steps(net, "hidden_1", x, 3.0)
    np.testing.assert_allclose(lifted, t.arrays["probe.hidden_1"][-1], atol=1e-5)
    assert np.ptp(lifted[:, 2]) > 0.1
    # 3 -> 2: space is flattened onto the plane z = 0, landing where the network puts it.
    first = layer_steps(net, "hidden_2", x, 0.0)
    np.testing.assert_allclose(first, lifted, atol=1e-12)
    flat = layer_steps(net, "hidden_2", x, 3.0)
    assert flat.shape == (len(x), 3)
    np.testing.assert_array_equal(flat[:, 2], 0.0)
    np.testing.assert_allclose(flat[:, :2], net.forward(x, upto="hidden_2"), atol=1e-12)
    np.testing.assert_allclose(flat[:, :2], t.arrays["probe.hidden_2"][-1], atol=1e-5)


# -- kernel_determinants ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["synthetic2", "synthetic3", lecture("circles-2d"),
                                  lecture("circles-3d"), lecture("circles-4d")])
def test_kernel_determinants_of_the_2x2_layers(request, name):
    t = run_trajectory(request, name)
    dets = kernel_determinants(t)
    square = [n for n in t.layer_names if t.arrays[f"kernel.{n}"].shape[1:] == (2, 2)]
    assert sorted(dets) == sorted(square)
    # circles-2d: 2->2, 2->2 (then 2->1); wider runs: 2->w, w->2, 2->1: no plane-to-plane map.
    assert sorted(dets) == (["hidden_1", "hidden_2"] if t.widths[0] == 2 else [])
    for layer, d in dets.items():
        assert d.shape == (t.n_snapshots,)
        for s in range(t.n_snapshots):
            k = t.network(s).kernels[t.layer_names.index(layer)].astype(np.float64)
            assert d[s] == pytest.approx(np.linalg.det(k), rel=1e-9, abs=1e-12)


@pytest.mark.slow
def test_width_2_layers_stay_invertible_along_training(lecture_runs):
    """The lecture's homeomorphism claim: det(kernel) of each 2->2 layer never nears zero."""
    t = lecture_runs["circles-2d"].trajectory
    dets = kernel_determinants(t)
    for layer in ("hidden_1", "hidden_2"):
        d = dets[layer]
        assert np.min(np.abs(d)) > 0.05, layer
        # Never crosses zero: the orientation is kept for the whole run.
        assert np.all(np.sign(d) == np.sign(d[0])), layer


def test_kernel_determinants_of_a_2_3_2_1_run(synthetic3):
    # 2 -> 3 -> 2 -> 1: no 2x2 kernel anywhere.
    assert kernel_determinants(synthetic3) == {}


# -- fold_curves --------------------------------------------------------------------------


def abs_fold_network(w: np.ndarray, c: float) -> Network:
    """2 -> 2 (abs) -> 2 (linear) -> 1: unit 1 is ``|x @ w + c|``; unit 2 never reaches zero.

    The map folds exactly along the line ``x @ w + c = 0``.
    """
    k1 = np.column_stack([w, [0.3, 1.0]])
    b1 = np.array([c, 10.0])
    return Network(
        (k1, np.eye(2), np.ones((2, 1))),
        (b1, np.zeros(2), np.zeros(1)),
        ("abs", "linear", "sigmoid"),
        ("fold", "mix", "output"),
    )


def test_abs_network_folds_along_the_line_where_the_pre_activation_vanishes():
    w = np.array([1.0, 2.0]) / np.sqrt(5.0)
    c = -0.25
    net = abs_fold_network(w, c)
    box = (-1.0, 1.0, -1.5, 1.0)
    resolution = 120
    curves = fold_curves(net, box, resolution=resolution)
    assert len(curves) == 1
    curve = curves[0]
    assert curve.ndim == 2 and curve.shape[1] == 2 and len(curve) > 50
    cell = max((box[1] - box[0]), (box[3] - box[2])) / (resolution - 1)
    # On the known line (to within a grid cell)...
    distance = np.abs(curve @ w + c)  # |w| = 1
    assert distance.max() < cell
    # ... and across the whole box: the curve reaches the box's edges at both ends.
    ends = curve[[0, -1]]
    on_edge = (np.isclose(ends[:, 0], box[0]) | np.isclose(ends[:, 0], box[1])
               | np.isclose(ends[:, 1], box[2]) | np.isclose(ends[:, 1], box[3]))
    assert on_edge.all()
    line_length = np.linalg.norm(ends[1] - ends[0])
    assert line_length > 2.0
    # The fold is real: the independent Jacobian determinant flips sign across it.
    normal = w
    mid = curve[len(curve) // 2]
    d = fd_jacobian_det(net, np.array([mid + 0.05 * normal, mid - 0.05 * normal]), "mix")
    assert d[0] * d[1] < 0
    assert abs(abs(d[0]) - abs(np.linalg.det(net.kernels[0]))) < 1e-6


def test_abs_fold_on_a_coordinate_axis_is_found_at_the_exact_line():
    # Unit 1 is |x - 0.3|: the fold is the vertical line x = 0.3.
    net = abs_fold_network(np.array([1.0, 0.0]), -0.3)
    curves = fold_curves(net, (-1.0, 1.0, -1.0, 1.0), resolution=80)
    assert len(curves) == 1
    cell = 2.0 / 79
    assert np.abs(curves[0][:, 0] - 0.3).max() < cell
    assert curves[0][:, 1].min() == pytest.approx(-1.0)
    assert curves[0][:, 1].max() == pytest.approx(1.0)


def test_a_2x2_tanh_network_with_invertible_kernels_has_no_fold():
    net = Network(
        (np.diag([2.0, 0.7]) @ rotation(40.0), np.array([[1.0, 0.4], [-0.3, 1.2]]),
         np.ones((2, 1))),
        (np.array([0.1, -0.2]), np.array([0.3, 0.0]), np.zeros(1)),
        ("tanh", "tanh", "sigmoid"),
        ("hidden_1", "hidden_2", "output"),
    )
    assert fold_curves(net, (-3.0, 3.0, -3.0, 3.0)) == []


def test_fold_curves_of_a_constant_map_are_empty():
    net = Network((np.zeros((2, 2)), np.ones((2, 1))), (np.ones(2), np.zeros(1)),
                  ("tanh", "sigmoid"), ("hidden", "output"))
    assert fold_curves(net, (-1.0, 1.0, -1.0, 1.0), resolution=20) == []


def test_fold_curves_need_a_2_unit_layer(synthetic3):
    net = synthetic3.network(-1)
    with pytest.raises(ValueError, match="not 2"):
        fold_curves(net, (-1.0, 1.0, -1.0, 1.0), upto="hidden_1", resolution=20)


@pytest.mark.slow
def test_the_trained_width_2_network_does_not_fold(lecture_runs):
    t = lecture_runs["circles-2d"].trajectory
    for snapshot in (0, t.n_snapshots // 2, -1):
        net = t.network(snapshot)
        assert fold_curves(net, t.bounds) == []
        assert fold_curves(net, t.bounds, upto="hidden_1") == []
    # Independently: the determinant keeps one sign over the whole box.
    xs = np.linspace(t.bounds[0], t.bounds[1], 61)
    ys = np.linspace(t.bounds[2], t.bounds[3], 61)
    pts = np.column_stack([a.ravel() for a in np.meshgrid(xs, ys)])
    d = fd_jacobian_det(t.network(-1), pts, "hidden_2")
    assert np.all(d > 0) or np.all(d < 0)


@pytest.mark.parametrize("name", ["synthetic3", lecture("circles-3d")])
def test_fold_curves_of_the_width_3_network_are_the_zero_set_of_det_j(request, name):
    t = run_trajectory(request, name)
    net = t.network(-1)
    box = t.bounds
    resolution = 160
    curves = fold_curves(net, box, resolution=resolution)
    assert len(curves) >= 1
    cell = max(box[1] - box[0], box[3] - box[2]) / (resolution - 1)
    pts = np.concatenate(curves)
    assert len(pts) > 20
    # 1. Every returned point is within a grid cell of the true zero set: the first-order
    #    distance |det| / |grad det| from independent central differences.
    d = fd_jacobian_det(net, pts, "hidden_2")
    g = 1e-3
    grad = np.column_stack([
        (fd_jacobian_det(net, pts + [g, 0.0], "hidden_2")
         - fd_jacobian_det(net, pts - [g, 0.0], "hidden_2")) / (2 * g),
        (fd_jacobian_det(net, pts + [0.0, g], "hidden_2")
         - fd_jacobian_det(net, pts - [0.0, g], "hidden_2")) / (2 * g),
    ])
    grad_norm = np.linalg.norm(grad, axis=1)
    assert np.all(grad_norm > 0)
    assert np.max(np.abs(d) / grad_norm) < cell
    # 2. det J changes sign across the curve: one cell each way along the gradient.
    unit = grad / grad_norm[:, None]
    plus = fd_jacobian_det(net, pts + cell * unit, "hidden_2")
    minus = fd_jacobian_det(net, pts - cell * unit, "hidden_2")
    assert np.mean(plus * minus < 0) >= 0.99
    # 3. Conversely, every sign change of the independent det J on a finer, shifted grid lies
    #    within a cell of a returned curve: the curves miss no part of the zero set.
    n = 211
    xs = np.linspace(box[0], box[1], n) + 0.3 * cell
    ys = np.linspace(box[2], box[3], n) - 0.2 * cell
    gx, gy = np.meshgrid(xs, ys)
    det = fd_jacobian_det(net, np.column_stack([gx.ravel(), gy.ravel()]), "hidden_2")
    det = det.reshape(gx.shape)
    change_x = np.sign(det[:, 1:]) != np.sign(det[:, :-1])
    change_y = np.sign(det[1:, :]) != np.sign(det[:-1, :])
    crossings = np.concatenate([
        np.column_stack([(gx[:, 1:] + gx[:, :-1])[change_x] / 2, gy[:, 1:][change_x]]),
        np.column_stack([gx[1:, :][change_y], (gy[1:, :] + gy[:-1, :])[change_y] / 2]),
    ])
    assert len(crossings) > 20
    inside = ((crossings[:, 0] > box[0] + cell) & (crossings[:, 0] < box[1] - cell)
              & (crossings[:, 1] > box[2] + cell) & (crossings[:, 1] < box[3] - cell))
    crossings = crossings[inside]
    nearest = np.min(np.linalg.norm(crossings[:, None, :] - pts[None, :, :], axis=2), axis=1)
    assert nearest.max() < 1.5 * cell


# -- decision_surface ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "snapshot"), [
    ("synthetic3", 5), ("synthetic3", -1),
    *(pytest.param("circles-3d", k, marks=pytest.mark.slow) for k in (0, 10, -1)),
])
def test_decision_surface_vertices_map_to_one_half(request, name, snapshot):
    net = run_trajectory(request, name).network(snapshot)
    surface = decision_surface(net, samples=30)
    assert surface is not None
    assert surface.shape == (30, 30, 3)
    h = surface.reshape(-1, 3)
    assert np.all(np.abs(h) <= 1.0 + 1e-9)
    p = sigmoid(output_logit_from_hidden_1(net, h))
    assert np.max(np.abs(p - 0.5)) <= 1e-3
    # A surface, not a curve: it extends both along the decision line and along the rulings.
    assert np.linalg.norm(surface[-1, 0] - surface[0, 0]) > 0.1
    assert np.min(np.linalg.norm(surface[:, -1] - surface[:, 0], axis=1)) > 0.1


@pytest.mark.parametrize("name", ["synthetic3", lecture("circles-3d")])
def test_decision_surface_in_a_smaller_cube(request, name):
    net = run_trajectory(request, name).network(-1)
    surface = decision_surface(net, cube=0.6)
    assert surface is not None
    h = surface.reshape(-1, 3)
    assert np.all(np.abs(h) <= 0.6 + 1e-9)
    assert np.max(np.abs(h)) == pytest.approx(0.6, abs=1e-9)  # rulings end on the cube
    assert np.max(np.abs(sigmoid(output_logit_from_hidden_1(net, h)) - 0.5)) <= 1e-3


@pytest.mark.parametrize("name", ["synthetic3", lecture("circles-3d")])
def test_decision_surface_separates_the_rings_at_the_end_of_training(request, name):
    t = run_trajectory(request, name)
    net = t.network(-1)
    h = t.arrays["probe.hidden_1"][-1].astype(np.float64)
    labels = t.probe_labels
    side = np.sign(output_logit_from_hidden_1(net, h))
    inner, outer = side[labels == 0], side[labels == 1]
    assert len(inner) >= 50 and len(outer) >= 50
    inner_sign = np.sign(np.sum(inner))
    assert np.mean(inner == inner_sign) >= 0.99
    assert np.mean(outer == -inner_sign) >= 0.99
    # The surface itself passes between them: its vertices have logit 0 while the rings'
    # logits are bounded away from 0 on opposite sides.
    surface = decision_surface(net).reshape(-1, 3)
    assert np.max(np.abs(output_logit_from_hidden_1(net, surface))) < 4e-3


def test_decision_surface_is_none_without_a_decision_line(synthetic3):
    net = synthetic3.network(-1)
    flat = Network(net.kernels[:-1] + (np.zeros((2, 1)),), net.biases,
                   net.activations, net.layer_names)
    assert decision_surface(flat) is None
    # A line that misses the square (-1, 1)^2: u1 + u2 + 5 = 0.
    far = Network(net.kernels[:-1] + (np.ones((2, 1)),), net.biases[:-1] + (np.array([5.0]),),
                  net.activations, net.layer_names)
    assert decision_surface(far) is None


def test_decision_surface_needs_a_3_then_2_tanh_pair(synthetic2, synthetic3):
    with pytest.raises(ValueError, match="3 units -> 2 units"):
        decision_surface(synthetic2.network(-1))
    with pytest.raises(ValueError, match="3 units -> 2 units"):
        decision_surface(synthetic_trajectory((4, 2)).network(-1))
    net = synthetic3.network(-1)
    relu = Network(net.kernels, net.biases, ("tanh", "relu", "sigmoid"), net.layer_names)
    with pytest.raises(ValueError, match="tanh"):
        decision_surface(relu)


def test_decision_surface_of_a_hand_made_network():
    # 3 -> 2 tanh layer reading units 1 and 2; unit 3 is ignored, so the rulings are vertical
    # and the surface is the cylinder over the decision curve; decision line u1 = u2.
    net = Network(
        (np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
         np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.array([[1.0], [-1.0]])),
        (np.zeros(3), np.array([0.2, -0.1]), np.zeros(1)),
        ("tanh", "tanh", "sigmoid"),
        ("hidden_1", "hidden_2", "output"),
    )
    surface = decision_surface(net, samples=25)
    assert surface.shape == (25, 25, 3)
    h = surface.reshape(-1, 3)
    # tanh(h1 + 0.2) = tanh(h2 - 0.1) <=> h2 = h1 + 0.3
    np.testing.assert_allclose(h[:, 1], h[:, 0] + 0.3, atol=1e-9)
    assert np.all(np.abs(h) <= 1.0 + 1e-9)
    # Each ruling spans the cube's height.
    np.testing.assert_allclose(np.abs(surface[:, [0, -1], 2]), 1.0, atol=1e-9)


# -- pca_projection -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["synthetic4", lecture("circles-4d")])
def test_pca_of_the_width_4_layer(request, name):
    t = (synthetic_trajectory((4, 2)) if name == "synthetic4"
         else run_trajectory(request, name))
    h = t.arrays["probe.hidden_1"][-1].astype(np.float64)
    proj = pca_projection(h)
    assert proj.components.shape == (3, 4)
    assert proj.explained.shape == (3,)
    np.testing.assert_allclose(proj.components @ proj.components.T, np.eye(3), atol=1e-12)
    assert np.all(np.diff(proj.explained) <= 0)
    assert np.all(proj.explained >= 0)
    assert proj.explained.sum() <= 1.0 + 1e-12
    np.testing.assert_allclose(proj.mean, h.mean(axis=0), atol=1e-12)
    # The projection keeps the share of the variance it reports, and that is the most any
    # 3-D orthogonal projection keeps (compare with projecting out each single unit).
    total = np.sum((h - h.mean(axis=0)) ** 2)
    projected = proj(h)
    assert projected.shape == (len(h), 3)
    np.testing.assert_allclose(projected.mean(axis=0), 0.0, atol=1e-10)
    kept = np.sum(projected**2) / total
    assert kept == pytest.approx(proj.explained.sum(), rel=1e-9)
    np.testing.assert_allclose(np.sum(projected**2, axis=0) / total, proj.explained, rtol=1e-9)
    for drop in range(4):
        keep = [i for i in range(4) if i != drop]
        units = np.sum((h[:, keep] - h[:, keep].mean(axis=0)) ** 2) / total
        assert kept >= units - 1e-12
    # The eigenvalues of the covariance, independently.
    eig = np.sort(np.linalg.eigvalsh(np.cov(h.T, bias=True)))[::-1]
    np.testing.assert_allclose(proj.explained, eig[:3] / eig.sum(), rtol=1e-9)
    # Batched points project the same as flat ones.
    np.testing.assert_allclose(proj(h.reshape(-1, 10, 4)).reshape(-1, 3), projected, atol=1e-12)


def test_pca_of_points_in_a_3d_subspace_keeps_everything():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(5, 3)))[0].T  # (3, 5), orthonormal rows
    coords = rng.normal(size=(500, 3)) * [3.0, 2.0, 0.5]
    pts = coords @ basis + 7.0
    proj = pca_projection(pts)
    assert proj.explained.sum() == pytest.approx(1.0, abs=1e-12)
    # Distances in the subspace are kept exactly.
    d_in = np.linalg.norm(pts[:50, None] - pts[None, :50], axis=2)
    q = proj(pts[:50])
    np.testing.assert_allclose(np.linalg.norm(q[:, None] - q[None, :], axis=2), d_in, atol=1e-9)


@pytest.mark.parametrize("shape", [(10, 2), (10,), (10, 3, 2)])
def test_pca_rejects_points_of_fewer_than_3_dimensions(shape):
    with pytest.raises(ValueError, match="k >= 3"):
        pca_projection(np.ones(shape))


# -- orbit_camera -------------------------------------------------------------------------


def test_camera_at_azimuth_0_elevation_0_looks_along_the_first_axis():
    rng = np.random.default_rng(1)
    yz = rng.normal(size=(20, 2))
    pts = np.column_stack([np.zeros(20), yz])
    screen, depth = orbit_camera(pts, 0.0, 0.0)
    np.testing.assert_allclose(screen, yz, atol=1e-15)
    np.testing.assert_allclose(depth, 0.0, atol=1e-15)
    # Toward the camera (+x) is nearer; the screen position ignores x.
    s2, d2 = orbit_camera(pts + [2.5, 0.0, 0.0], 0.0, 0.0)
    np.testing.assert_allclose(s2, yz, atol=1e-15)
    np.testing.assert_allclose(d2, 2.5, atol=1e-15)


@pytest.mark.parametrize(("azimuth", "elevation"), [(0, 0), (30, 20), (-75, 60), (200, -40)])
def test_camera_depth_grows_toward_the_camera(azimuth, elevation):
    az, el = np.radians(azimuth), np.radians(elevation)
    camera = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    p = np.array([[0.3, -0.2, 0.1]])
    _, d0 = orbit_camera(p, azimuth, elevation)
    s1, d1 = orbit_camera(p + 0.7 * camera, azimuth, elevation)
    assert d1[0] - d0[0] == pytest.approx(0.7, abs=1e-12)
    # Moving along the line of sight does not move the point on screen.
    np.testing.assert_allclose(s1, orbit_camera(p, azimuth, elevation)[0], atol=1e-12)
    # Screen up has a positive share of the third axis (the world is not upside down).
    up = orbit_camera(np.array([0.0, 0.0, 1.0]), azimuth, elevation)[0]
    assert up[1] == pytest.approx(np.cos(el), abs=1e-12)


@pytest.mark.parametrize(("azimuth", "elevation"), [(0, 0), (30, 20), (-75, 60), (200, -40)])
def test_turning_the_camera_90_degrees_equals_turning_the_points_back(azimuth, elevation):
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(30, 3))
    screen, depth = orbit_camera(pts, azimuth + 90, elevation)
    # Rotating the points by -90 degrees about the third axis: (x, y, z) -> (y, -x, z).
    turned = np.column_stack([pts[:, 1], -pts[:, 0], pts[:, 2]])
    s_ref, d_ref = orbit_camera(turned, azimuth, elevation)
    np.testing.assert_allclose(screen, s_ref, atol=1e-12)
    np.testing.assert_allclose(depth, d_ref, atol=1e-12)


def test_azimuth_90_known_values():
    # From +y: screen right is -x, screen up is z, depth is y.
    screen, depth = orbit_camera(np.array([[1.0, 2.0, 3.0]]), 90.0, 0.0)
    np.testing.assert_allclose(screen, [[-1.0, 3.0]], atol=1e-15)
    np.testing.assert_allclose(depth, [2.0], atol=1e-15)
    # In the plane z = 0 seen from above, a 90 degree turn rotates the screen by 90 degrees.
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, -0.8, 0.0]])
    s0, _ = orbit_camera(p, 10.0, 90.0)
    s90, _ = orbit_camera(p, 100.0, 90.0)
    quarter = np.array([[0.0, 1.0], [-1.0, 0.0]])  # rows: x @ quarter turns x by -90 degrees
    np.testing.assert_allclose(s90, s0 @ quarter.T, atol=1e-12)
    assert np.allclose(np.linalg.norm(s90, axis=1), np.linalg.norm(s0, axis=1))


@pytest.mark.parametrize(("azimuth", "elevation"), [(0, 0), (30, 20), (-75, 60), (200, -40)])
def test_camera_is_an_isometry(azimuth, elevation):
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(40, 3))
    screen, depth = orbit_camera(pts, azimuth, elevation)
    assert screen.shape == (40, 2) and depth.shape == (40,)
    full = np.column_stack([screen, depth])
    np.testing.assert_allclose(np.linalg.norm(full, axis=1), np.linalg.norm(pts, axis=1),
                               rtol=1e-12)
    # Points in the image plane (depth 0) keep their distances on screen.
    az, el = np.radians(azimuth), np.radians(elevation)
    toward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    in_plane = pts - np.outer(pts @ toward, toward)
    s, d = orbit_camera(in_plane, azimuth, elevation)
    np.testing.assert_allclose(d, 0.0, atol=1e-12)
    dist3 = np.linalg.norm(in_plane[:, None] - in_plane[None], axis=2)
    dist2 = np.linalg.norm(s[:, None] - s[None], axis=2)
    np.testing.assert_allclose(dist2, dist3, atol=1e-12)
    # Batched input keeps its leading shape.
    s_b, d_b = orbit_camera(pts.reshape(4, 10, 3), azimuth, elevation)
    assert s_b.shape == (4, 10, 2) and d_b.shape == (4, 10)
    np.testing.assert_allclose(s_b.reshape(-1, 2), screen, atol=1e-15)
