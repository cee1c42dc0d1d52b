"""geomcore.datasets with K >= 2 classes: blobs, spirals, the curve family, K-class CSV."""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.datasets import (
    CURVES,
    above_curve,
    blobs,
    dataset_parameters,
    load_csv,
    make_dataset,
    spirals,
    two_spirals,
)
from geomcore.errors import DatasetError

# -- blobs --------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 4, 8])
def test_blobs_shape_balance_and_centres(k):
    x, y = blobs(classes=k, n_per_class=3_000, radius=2.0, std=0.1, seed=1)
    assert x.shape == (3_000 * k, 2) and x.dtype == np.float32
    assert y.shape == (3_000 * k,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [3_000] * k
    for c in range(k):
        a = np.pi / 2 + 2 * np.pi * c / k
        pts = x[y == c].astype(np.float64)
        np.testing.assert_allclose(pts.mean(axis=0), [2 * np.cos(a), 2 * np.sin(a)], atol=0.01)
        np.testing.assert_allclose(pts.std(axis=0), [0.1, 0.1], rtol=0.05)


def test_blobs_seeded_and_class_zero_on_top():
    a = blobs(classes=4, n_per_class=50, seed=3)
    b = blobs(classes=4, n_per_class=50, seed=3)
    c = blobs(classes=4, n_per_class=50, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    x, y = blobs(classes=4, n_per_class=1, std=0.0)
    np.testing.assert_allclose(x, [[0, 1], [-1, 0], [0, -1], [1, 0]], atol=1e-6)
    assert y.tolist() == [0, 1, 2, 3]


# -- spirals ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spirals_shape_balance_and_arms(k):
    x, y = spirals(classes=k, n_per_class=400, turns=1.25, noise=0.0, seed=0)
    assert x.shape == (400 * k, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [400] * k
    s = np.linspace(0, 1, 400)
    for arm in range(k):
        pts = x[y == arm].astype(np.float64)
        np.testing.assert_allclose(np.hypot(pts[:, 0], pts[:, 1]), 0.1 + 0.9 * s, atol=1e-6)
        t = 2 * np.pi * (1.25 * s + arm / k)
        np.testing.assert_allclose(pts[:, 0], (0.1 + 0.9 * s) * np.cos(t), atol=1e-6)
        np.testing.assert_allclose(pts[:, 1], (0.1 + 0.9 * s) * np.sin(t), atol=1e-6)


def test_two_arm_spirals_without_noise_match_two_spirals():
    x, y = spirals(classes=2, n_per_class=200, turns=1.5, noise=0.0)
    x2, y2 = two_spirals(n_per_class=200, turns=1.5, noise=0.0)
    np.testing.assert_allclose(x, x2, atol=1e-6)
    assert np.array_equal(y, y2)


def test_spirals_seeded_noise():
    a = spirals(classes=3, n_per_class=100, noise=0.05, seed=7)
    b = spirals(classes=3, n_per_class=100, noise=0.05, seed=7)
    c = spirals(classes=3, n_per_class=100, noise=0.05, seed=8)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])
    clean = spirals(classes=3, n_per_class=100, noise=0.0)[0]
    assert 0.04 < float(np.std(a[0] - clean)) < 0.06


@pytest.mark.parametrize(("gen", "kwargs", "fragment"), [
    (blobs, {"classes": 1}, "classes must be an integer from 2 to 8"),
    (blobs, {"classes": 9}, "classes=9"),
    (blobs, {"classes": 2.0}, "classes=2.0"),
    (blobs, {"classes": True}, "classes=True"),
    (blobs, {"std": -1.0}, "std must be finite and >= 0"),
    (spirals, {"classes": 0}, "from 2 to 8"),
    (spirals, {"n_per_class": 0}, "n_per_class must be a positive integer"),
    (spirals, {"turns": -1.0}, "turns"),
    (above_curve, {"curve": "tan"}, "unknown curve 'tan'"),
    (above_curve, {"noise": -0.1}, "noise"),
])
def test_bad_parameters_name_what_was_wrong(gen, kwargs, fragment):
    with pytest.raises(DatasetError) as info:
        gen(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)


# -- the curve family y > f(x) ------------------------------------------------------------


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_above_curve_balance_shape_and_side(curve):
    x, y = above_curve(curve=curve, n_per_class=2_500, noise=0.0, seed=2)
    assert x.shape == (5_000, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [2_500, 2_500]
    assert np.all(np.abs(x) <= 1.0)
    f = CURVES[curve](x[:, 0].astype(np.float64))
    assert np.all(x[y == 1, 1] > f[y == 1]) and np.all(x[y == 0, 1] <= f[y == 0])
    # Uniform in the square: both halves of x are used by each class.
    for c in (0, 1):
        assert 0.2 < np.mean(x[y == c, 0] < 0) < 0.8


def test_above_curve_formulas_and_noise():
    xs = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(CURVES["sine"](xs), [0, -0.5, 0, 0.5, 0], atol=1e-12)
    np.testing.assert_allclose(CURVES["cubic"](xs), [-1, -0.125, 0, 0.125, 1])
    np.testing.assert_allclose(CURVES["abs"](xs), [0.5, 0, -0.5, 0, 0.5])
    np.testing.assert_allclose(CURVES["step"](xs), [-0.5, -0.5, 0.5, 0.5, 0.5])
    clean = above_curve(curve="sine", n_per_class=4_000, noise=0.0, seed=5)
    noisy = above_curve(curve="sine", n_per_class=4_000, noise=0.1, seed=5)
    assert np.array_equal(noisy[1], clean[1])
    assert 0.09 < float(np.std(noisy[0] - clean[0])) < 0.11
    # Some noisy points crossed the curve; the clean ones never do.
    f = CURVES["sine"](noisy[0][:, 0].astype(np.float64))
    crossed = np.mean((noisy[0][:, 1] > f) != (noisy[1] == 1))
    assert 0.01 < crossed < 0.2
    again = above_curve(curve="sine", n_per_class=4_000, noise=0.1, seed=5)
    assert np.array_equal(again[0], noisy[0])
    assert not np.array_equal(above_curve(curve="sine", n_per_class=100, seed=6)[0],
                              above_curve(curve="sine", n_per_class=100, seed=5)[0])


def test_new_datasets_are_registered_with_their_keywords():
    assert dataset_parameters("blobs") == {
        "classes": 3, "n_per_class": 1_000, "radius": 1.0, "std": 0.2}
    assert dataset_parameters("spirals") == {
        "classes": 3, "n_per_class": 1_000, "turns": 1.0, "noise": 0.02}
    assert dataset_parameters("above_curve") == {
        "curve": "sine", "n_per_class": 2_000, "noise": 0.0}
    x, y = make_dataset("spirals", classes=4, n_per_class=10, seed=1)
    assert x.shape == (40, 2) and np.bincount(y).tolist() == [10] * 4
    with pytest.raises(TypeError):
        blobs(3)  # keyword-only


# -- CSV with K classes -------------------------------------------------------------------


def test_csv_reads_labels_zero_to_k_minus_one(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n0,0,0\n1,0,2\n0,1,1\n1,1,3\n2,2,2.0\n", encoding="utf-8")
    x, y = load_csv(path, classes=4)
    assert y.tolist() == [0, 2, 1, 3, 2] and x.shape == (5, 2)
    assert make_dataset("csv", path=str(path), classes=4)[1].tolist() == [0, 2, 1, 3, 2]
    # The default stays two classes, with today's message.
    with pytest.raises(DatasetError, match="must be 0 or 1"):
        load_csv(path)


@pytest.mark.parametrize(("text", "fragments"), [
    ("x1,x2,label\n0,0,0\n1,1,1\n2,2,3\n",
     ["line 4", "'3' is not a class", "labels must be integers 0 to 2 (3 classes)"]),
    ("x1,x2,label\n0,0,0\n1,1,-1\n", ["line 3", "'-1' is not a class"]),
    ("x1,x2,label\n0,0,0\n1,1,1.5\n", ["line 3", "'1.5' is not a class"]),
    ("x1,x2,label\n0,0,0\n1,1,2\n", ["no point has label 1", "every class 0 to 2"]),
    ("x1,x2,label\n0,0,2\n1,1,2\n", ["every point has label 2", "every class 0 to 2"]),
    ("x1,x2,label\n", ["no data rows", "every class 0 to 2"]),
])
def test_bad_k_class_csv_names_the_file_line_and_rule(tmp_path, text, fragments):
    path = tmp_path / "points.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_csv(path, classes=3)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_csv_classes_must_be_two_to_eight(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n0,0,0\n1,1,1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="classes must be an integer from 2 to 8"):
        load_csv(path, classes=1)
