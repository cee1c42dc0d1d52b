"""K-class decision regions (geomcore.regions) and the K-class Network methods (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.geometry import Network, clip_line_to_box, sigmoid, softmax
from geomcore.regions import (
    clip_polygon_to_half_plane,
    decision_regions,
    polygon_area,
    pulled_back_boundaries,
    top_two_gap,
)
from geomcore.replay import boundary_contours

BOX = (-1.5, 2.0, -1.0, 1.25)


def random_network(seed: int, classes: int, widths=(4, 2), scale: float = 2.0) -> Network:
    rng = np.random.default_rng(seed)
    sizes = (2, *widths, classes)
    kernels = tuple(rng.normal(0, scale, size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:]))
    biases = tuple(rng.normal(0, 1.0, size=b) for b in sizes[1:])
    acts = ("tanh",) * len(widths) + ("softmax",)
    names = tuple(f"hidden_{i + 1}" for i in range(len(widths))) + ("output",)
    return Network(kernels, biases, acts, names)


def viewed_logits(kernel, bias, h):
    return np.asarray(h, np.float64) @ kernel + bias


def is_box_corner(v, box=BOX):
    umin, umax, vmin, vmax = box
    return (np.isclose(v[0], umin) or np.isclose(v[0], umax)) and (
        np.isclose(v[1], vmin) or np.isclose(v[1], vmax))


def inside_convex(poly, pts):
    """Points strictly inside an anticlockwise convex polygon (by every edge's side)."""
    ok = np.ones(len(pts), dtype=bool)
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        cross = (b[0] - a[0]) * (pts[:, 1] - a[1]) - (b[1] - a[1]) * (pts[:, 0] - a[0])
        ok &= cross > 1e-9
    return ok


# -- the numpy side of a K-class network -----------------------------------------------------


def test_softmax_rows_sum_to_one_and_do_not_overflow():
    z = np.array([[0.0, 1.0, 2.0], [1000.0, 1000.0, -1000.0]])
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(p[0], e / e.sum())
    np.testing.assert_allclose(p[1], [0.5, 0.5, 0.0])


def test_k_class_network_predicts_argmax_and_scores_per_class():
    net = random_network(3, classes=4)
    x = np.random.default_rng(0).uniform(-1, 1, size=(500, 2))
    z = net.class_logits(x)
    assert net.classes == 4 and z.shape == (500, 4)
    np.testing.assert_allclose(net.class_probabilities(x), softmax(z), atol=1e-12)
    pred = net.predict(x)
    assert pred.dtype == np.int64 and np.array_equal(pred, np.argmax(z, axis=1))
    y = pred.copy()
    y[:50] = (y[:50] + 1) % 4  # 50 wrong labels
    assert net.accuracy(x, y) == pytest.approx(450 / 500)
    per = net.per_class_accuracy(x, y)
    for c in range(4):
        mine = y == c
        assert per[c] == pytest.approx(np.mean(pred[mine] == c)) if mine.any() else np.isnan(per[c])
    p = np.clip(softmax(z)[np.arange(500), y], 1e-7, 1 - 1e-7)
    loss, acc = net.loss_and_accuracy(x, y, "sparse_categorical_crossentropy")
    assert loss == pytest.approx(float(np.mean(-np.log(p))), rel=1e-12) and acc == 0.9
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        net.loss(x, y, "mse")


def test_sigmoid_network_as_two_class_logits():
    net = random_network(5, classes=1)
    net = Network(net.kernels, net.biases, net.activations[:-1] + ("sigmoid",), net.layer_names)
    x = np.random.default_rng(1).uniform(-1, 1, size=(300, 2))
    p = net.predict_proba(x)
    assert net.classes == 2
    np.testing.assert_allclose(softmax(net.class_logits(x))[:, 1], p, atol=1e-12)
    np.testing.assert_allclose(net.class_probabilities(x), np.column_stack([1 - p, p]))
    assert np.array_equal(net.predict(x), (p > 0.5).astype(np.int64))
    with pytest.raises(ValueError, match="softmax output"):
        net.loss(x, (p > 0.5).astype(int), "sparse_categorical_crossentropy")


# -- convex polygon clipping ---------------------------------------------------------------


def test_clip_square_by_half_planes():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    half = clip_polygon_to_half_plane(square, 1.0, 0.0, -0.25)  # u >= 0.25
    np.testing.assert_allclose(half, [[0.25, 0], [1, 0], [1, 1], [0.25, 1]])
    tri = clip_polygon_to_half_plane(square, -1.0, -1.0, 1.0)  # u + v <= 1
    assert polygon_area(tri) == pytest.approx(0.5)
    assert len(clip_polygon_to_half_plane(square, 1.0, 0.0, -2.0)) == 0  # u >= 2: nothing
    np.testing.assert_allclose(clip_polygon_to_half_plane(square, 0.0, 1.0, 5.0), square)


# -- regions in the viewed layer -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_random_regions_vertices_lie_on_ties_and_probes_classify(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 8))
    kernel = rng.normal(0, 2.0, size=(2, k))
    bias = rng.normal(0, 1.0, size=k)
    regions = decision_regions(kernel, bias, BOX)
    assert len(regions) == k
    box_area = (BOX[1] - BOX[0]) * (BOX[3] - BOX[2])
    areas = [polygon_area(r) for r in regions if r is not None]
    assert sum(areas) == pytest.approx(box_area, rel=1e-9)  # the cells tile the box
    probes = rng.uniform([BOX[0], BOX[2]], [BOX[1], BOX[3]], size=(4_000, 2))
    owner = np.argmax(viewed_logits(kernel, bias, probes), axis=1)
    for i, poly in enumerate(regions):
        if poly is None:
            assert not np.any(owner == i)
            continue
        z = viewed_logits(kernel, bias, poly)
        # Every vertex belongs to class i (its logit is the largest) ...
        assert np.all(z[:, i] >= z.max(axis=1) - 1e-9)
        # ... and, unless it is a corner of the view box, lies on a tie of the two largest.
        gap = top_two_gap(z)
        for v, g in zip(poly, gap):
            assert is_box_corner(v) or g <= 1e-6
        # Every probe point drawn inside the region is classified as class i.
        inside = inside_convex(poly, probes)
        assert np.all(owner[inside] == i)
        # Probes between the centroid and the vertices too.
        centre = poly.mean(axis=0)
        t = rng.uniform(0, 0.999, size=(200, 1))
        pts = centre + t * (poly[rng.integers(0, len(poly), 200)] - centre)
        zp = viewed_logits(kernel, bias, pts)
        assert np.all((np.argmax(zp, axis=1) == i) | (top_two_gap(zp) <= 1e-9))


def test_a_dominated_class_owns_no_cell():
    kernel = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    bias = np.array([0.0, 0.0, -100.0])  # class 2 is always 100 below the larger of 0, 1
    regions = decision_regions(kernel, bias, BOX)
    assert regions[2] is None
    np.testing.assert_allclose(sorted(map(tuple, regions[0])),
                               sorted([(0, -1), (2, -1), (2, 1.25), (0, 1.25)]), atol=1e-12)


def test_two_class_softmax_region_edge_is_the_sigmoid_line():
    rng = np.random.default_rng(4)
    w, c = rng.normal(size=2), 0.3
    w0, b0 = rng.normal(size=2), -0.7
    kernel = np.column_stack([w0, w0 + w])  # z_1 - z_0 = w.h + c: the sigmoid unit's logit
    bias = np.array([b0, b0 + c])
    segment = clip_line_to_box(w[0], w[1], c, BOX)
    regions = decision_regions(kernel, bias, BOX)
    for poly in regions:
        on_line = np.array([v for v in poly if not is_box_corner(v)])
        np.testing.assert_allclose(sorted(map(tuple, on_line)), sorted(map(tuple, segment)),
                                   atol=1e-12)
    # Class 1's cell is where the sigmoid is above 0.5.
    pts = rng.uniform([BOX[0], BOX[2]], [BOX[1], BOX[3]], size=(1000, 2))
    in1 = inside_convex(regions[1], pts)
    assert np.all(sigmoid(pts @ w + c)[in1] > 0.5)
    assert np.all(sigmoid(pts @ w + c)[inside_convex(regions[0], pts)] < 0.5)


def test_regions_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, K\)"):
        decision_regions(np.zeros((3, 4)), np.zeros(4), BOX)
    with pytest.raises(ValueError, match="min < max"):
        decision_regions(np.zeros((2, 3)), np.zeros(3), (1, 0, 0, 1))


# -- boundaries pulled back to the input plane ---------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_pulled_back_boundaries_are_ties_of_the_two_largest(seed):
    k = 3 + seed % 3
    net = random_network(seed, classes=k)
    res = 120
    curves = pulled_back_boundaries(net, BOX, res)
    assert curves  # random nets of these seeds have boundaries in the box
    # Grid step and a Lipschitz bound of each logit difference give the resolution's tolerance.
    step = max((BOX[1] - BOX[0]), (BOX[3] - BOX[2])) / (res - 1)
    xs = np.random.default_rng(0).uniform([BOX[0], BOX[2]], [BOX[1], BOX[3]], size=(2000, 2))
    eps = 1e-5
    grad = np.maximum(
        np.abs(net.class_logits(xs + [eps, 0]) - net.class_logits(xs - [eps, 0])),
        np.abs(net.class_logits(xs + [0, eps]) - net.class_logits(xs - [0, eps])),
    ) / (2 * eps)
    # A vertex sits on a grid edge whose ends have opposite signs of z_j - z_i, so there
    # |z_j - z_i| <= step * (largest slope of z_j - z_i) <= step * 2 * (largest slope of a logit).
    tol = 1.5 * step * 2 * grad.max()
    for line, (i, j) in curves:
        z = net.class_logits(line)
        assert np.all(np.abs(z[:, i] - z[:, j]) <= tol)
        others = np.delete(z, [i, j], axis=1)
        assert np.all(others <= np.minimum(z[:, i], z[:, j])[:, None])
        assert np.all(top_two_gap(z) <= tol)
    # Every pair of classes that swap the lead between two neighbouring grid samples (the two
    # largest logits the same pair at both) has a curve.
    xs_, ys_ = np.linspace(BOX[0], BOX[1], res), np.linspace(BOX[2], BOX[3], res)
    gx, gy = np.meshgrid(xs_, ys_)
    zg = net.class_logits(np.column_stack([gx.ravel(), gy.ravel()])).reshape(res, res, k)
    order = np.argsort(zg, axis=2)
    first, second = order[..., -1], order[..., -2]
    expected = set()
    for a, b in (((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
                 ((slice(0, -1), slice(None)), (slice(1, None), slice(None)))):
        swap = (first[a] == second[b]) & (second[a] == first[b])
        for p, q in zip(first[a][swap], second[a][swap]):
            expected.add((min(p, q), max(p, q)))
    assert expected and expected <= {pair for _, pair in curves}


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_pulled_back_sigmoid_boundary_equals_todays_contour(seed):
    base = random_network(seed, classes=1)
    net = Network(base.kernels, base.biases, base.activations[:-1] + ("sigmoid",),
                  base.layer_names)
    ours = pulled_back_boundaries(net, BOX, 100)
    today = boundary_contours(net, BOX, 100)
    assert len(ours) == len(today) > 0
    for (line, pair), old in zip(ours, today):
        assert pair == (0, 1)
        np.testing.assert_allclose(line, old, atol=1e-12)
