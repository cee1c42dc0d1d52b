"""geomcore.datasets: the lecture's concentric circles and the other two-class datasets."""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.datasets import (
    DATASETS,
    concentric_circles,
    data_hash,
    dataset_parameters,
    epoch_order,
    file_hash,
    gaussian_blobs,
    load_csv,
    make_dataset,
    two_moons,
    two_spirals,
    xor_quadrants,
)
from geomcore.errors import DatasetError, GeomcoreError

OTHERS = [two_moons, xor_quadrants, two_spirals, gaussian_blobs]


# -- the lecture's data -------------------------------------------------------------------


def test_concentric_circles_default_shapes_and_labels():
    x, y = concentric_circles()
    assert x.shape == (40_000, 2) and x.dtype == np.float32
    assert y.shape == (40_000,) and set(np.unique(y)) == {0, 1}
    # Outer ring (class 1) first, then the inner ring (class 0), 20,000 each.
    assert np.all(y[:20_000] == 1) and np.all(y[20_000:] == 0)


def test_concentric_circles_default_radii_within_noise():
    x, y = concentric_circles()
    r = np.hypot(x[:, 0].astype(np.float64), x[:, 1].astype(np.float64))
    for label, radius in ((1, 1.0), (0, 0.5)):
        rk = r[y == label]
        assert abs(rk.mean() - radius) < 2e-4
        # Radial spread is the per-coordinate noise, sigma = 0.005.
        assert 0.0045 < rk.std() < 0.0055
        assert np.max(np.abs(rk - radius)) < 6 * 0.005


def test_concentric_circles_default_is_the_lectures_recipe_bit_for_bit():
    # The lecture's recipe: n = 20000 per class, t = linspace(0, 2, n);
    # class 1: (sin pi t, cos pi t); class 0: 0.5 (sin pi t, cos pi t);
    # Gaussian noise sigma 0.005 on each coordinate.
    seed, n = 7, 20_000
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2, n)
    outer = np.column_stack([np.sin(np.pi * t), np.cos(np.pi * t)])
    inner = 0.5 * np.column_stack([np.sin(np.pi * t), np.cos(np.pi * t)])
    noise = rng.normal(0, 0.005, size=(2 * n, 2))
    expected = (np.concatenate([outer, inner]) + noise).astype(np.float32)

    x, y = concentric_circles(seed=seed)
    assert np.array_equal(x, expected)
    assert np.array_equal(y, np.r_[np.ones(n), np.zeros(n)].astype(y.dtype))


def test_concentric_circles_without_noise_lie_on_the_rings():
    x, y = concentric_circles(n_per_class=50, outer_radius=2.0, inner_radius=0.25, noise=0.0)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 1], 2.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 0], 0.25, atol=1e-6)
    # t runs from 0 to 2: the first point is at the top (0, r), the ring is closed.
    np.testing.assert_allclose(x[0], [0.0, 2.0], atol=1e-6)
    np.testing.assert_allclose(x[49], [0.0, 2.0], atol=1e-6)


def test_concentric_circles_seeded():
    a = concentric_circles(n_per_class=100, seed=1)
    b = concentric_circles(n_per_class=100, seed=1)
    c = concentric_circles(n_per_class=100, seed=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    # Only the noise depends on the seed.
    assert np.max(np.abs(a[0] - c[0])) < 10 * 0.005


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        concentric_circles(100)  # type: ignore[misc]


# -- the other datasets -------------------------------------------------------------------


@pytest.mark.parametrize("generate", OTHERS, ids=lambda f: f.__name__)
def test_shapes_dtypes_and_balanced_labels(generate):
    x, y = generate(n_per_class=150, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.count_nonzero(y == 1) == 150
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("generate", OTHERS + [concentric_circles], ids=lambda f: f.__name__)
def test_seed_reproduces_and_another_seed_differs(generate):
    x1, y1 = generate(n_per_class=64, seed=5)
    x2, y2 = generate(n_per_class=64, seed=5)
    x3, _ = generate(n_per_class=64, seed=6)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_two_moons_without_noise_lie_on_their_half_circles():
    x, y = two_moons(n_per_class=40, noise=0.0)
    upper, lower = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)


def test_xor_quadrants_label_is_sign_of_product_and_margin_is_kept():
    x, y = xor_quadrants(n_per_class=500, margin=0.1, seed=2)
    assert np.array_equal(y, (x[:, 0] * x[:, 1] > 0).astype(np.int64))
    assert np.all(np.abs(x) >= 0.1 - 1e-7) and np.all(np.abs(x) <= 1.0)


def test_two_spirals_without_noise_are_point_reflections():
    x, y = two_spirals(n_per_class=60, noise=0.0)
    first, second = x[y == 0], x[y == 1]
    np.testing.assert_array_equal(second, -first)
    r = np.hypot(first[:, 0], first[:, 1])
    np.testing.assert_allclose([r.min(), r.max()], [0.1, 1.0], atol=1e-6)


def test_gaussian_blobs_centres_and_spread():
    x, y = gaussian_blobs(n_per_class=4_000, distance=3.0, std=0.2, seed=1)
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-1.5, 0.0], atol=0.02)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [1.5, 0.0], atol=0.02)
    np.testing.assert_allclose(x[y == 1].std(axis=0), [0.2, 0.2], atol=0.01)


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("generate", "kwargs", "param"),
    [
        (concentric_circles, {"n_per_class": 0}, "n_per_class"),
        (concentric_circles, {"n_per_class": 2.5}, "n_per_class"),
        (concentric_circles, {"n_per_class": True}, "n_per_class"),
        (concentric_circles, {"noise": -0.1}, "noise"),
        (concentric_circles, {"noise": float("nan")}, "noise"),
        (concentric_circles, {"outer_radius": -1.0}, "outer_radius"),
        (concentric_circles, {"inner_radius": 1.5}, "inner_radius"),
        (concentric_circles, {"inner_radius": "0.5"}, "inner_radius"),
        (two_moons, {"noise": -1.0}, "noise"),
        (two_moons, {"n_per_class": -3}, "n_per_class"),
        (xor_quadrants, {"margin": 0.5}, "margin"),
        (xor_quadrants, {"margin": -0.01}, "margin"),
        (two_spirals, {"turns": -1.0}, "turns"),
        (two_spirals, {"noise": float("inf")}, "noise"),
        (gaussian_blobs, {"std": -0.2}, "std"),
        (gaussian_blobs, {"distance": None}, "distance"),
    ],
)
def test_bad_parameters_raise_dataset_error_naming_the_parameter(generate, kwargs, param):
    with pytest.raises(DatasetError) as info:
        generate(**kwargs)
    message = str(info.value)
    assert param in message
    assert f"{param}={kwargs[param]!r}" in message  # the value received
    assert isinstance(info.value, GeomcoreError) and isinstance(info.value, ValueError)


def test_make_dataset_matches_the_generator_and_checks_names():
    x, y = make_dataset("two_moons", seed=4, n_per_class=30, noise=0.1)
    ex, ey = two_moons(n_per_class=30, noise=0.1, seed=4)
    assert np.array_equal(x, ex) and np.array_equal(y, ey)

    with pytest.raises(DatasetError, match="'spiral'"):
        make_dataset("spiral")
    with pytest.raises(DatasetError, match="'radius'") as info:
        make_dataset("concentric_circles", radius=2.0)
    assert "outer_radius" in str(info.value)  # what was expected


def test_dataset_parameters_list_keywords_and_defaults():
    assert set(DATASETS) == {
        "concentric_circles", "two_moons", "xor_quadrants", "two_spirals", "gaussian_blobs",
        "blobs", "spirals", "above_curve", "csv",
    }
    assert dataset_parameters("csv") == {"path": "", "classes": 2}
    assert dataset_parameters("concentric_circles") == {
        "n_per_class": 20_000, "outer_radius": 1.0, "inner_radius": 0.5, "noise": 0.005,
    }
    with pytest.raises(DatasetError, match="'nope'"):
        dataset_parameters("nope")


def test_data_hash_depends_on_values_dtype_and_labels():
    x, y = concentric_circles(n_per_class=20)
    h = data_hash(x, y)
    assert h == data_hash(x.copy(), y.copy()) and len(h) == 64
    x2 = x.copy()
    x2[3, 1] = np.nextafter(x2[3, 1], np.float32(2))
    assert data_hash(x2, y) != h
    assert data_hash(x.astype(np.float64), y) != h
    assert data_hash(x, 1 - y) != h


# -- shuffling ----------------------------------------------------------------------------


def test_epoch_order_is_a_seeded_permutation():
    order = epoch_order(1_000, seed=3, epoch=0)
    assert order.dtype == np.int64 and order.shape == (1_000,)
    assert np.array_equal(np.sort(order), np.arange(1_000))
    assert not np.array_equal(order, np.arange(1_000))
    assert np.array_equal(order, epoch_order(1_000, seed=3, epoch=0))
    assert not np.array_equal(order, epoch_order(1_000, seed=3, epoch=1))
    assert not np.array_equal(order, epoch_order(1_000, seed=4, epoch=0))
    # The documented source: default_rng([seed, epoch]).
    expected = np.random.default_rng([3, 2]).permutation(1_000)
    assert np.array_equal(epoch_order(1_000, seed=3, epoch=2), expected)


# -- the user's own points: csv -----------------------------------------------------------


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_points_and_labels_in_file_order(tmp_path):
    path = write_csv(tmp_path / "points.csv",
                     "x1,x2,label\n0.5,-1,0\n\n 2 , 3e-1 , 1\n-4.25,0,1.0\n")
    x, y = load_csv(path)
    assert x.dtype == np.float32 and x.shape == (3, 2)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(x, np.array([[0.5, -1], [2, 0.3], [-4.25, 0]], np.float32))
    # Columns in any order, extra columns ignored, a byte-order mark tolerated.
    other = tmp_path / "other.csv"
    other.write_bytes("\ufefflabel,id,X2,x1\n0,a,-1,0.5\n1,b,0.3,2\n".encode())
    x2, y2 = load_csv(other)
    np.testing.assert_array_equal(x2, x[:2])
    np.testing.assert_array_equal(y2, y[:2])
    assert make_dataset("csv", path=str(path))[1].tolist() == [0, 1, 1]


@pytest.mark.parametrize("header", [
    "label,x1,x2", "x1,label,x2", "x2,label,x1", "label,x2,x1", "x2,x1,label", "x1,x2,label",
])
def test_load_csv_reads_each_column_by_its_name(tmp_path, header):
    # Every order of the three columns: each value lands in the column its header names.
    # Labels 1, 0, 0 (not symmetric) and points whose coordinates differ from every label.
    points = [(0.5, -1.5), (2.0, 0.25), (-4.25, 3.0)]
    labels = [1, 0, 0]
    names = header.split(",")
    rows = []
    for (x1, x2), label in zip(points, labels):
        value = {"x1": repr(x1), "x2": repr(x2), "label": str(label)}
        rows.append(",".join(value[n] for n in names))
    path = write_csv(tmp_path / "points.csv", header + "\n" + "\n".join(rows) + "\n")
    x, y = load_csv(path)
    np.testing.assert_array_equal(x, np.array(points, np.float32))
    np.testing.assert_array_equal(y, np.array(labels, np.int64))


@pytest.mark.parametrize(("text", "fragments"), [
    ("", ["empty", "expected a header line x1,x2,label"]),
    ("x1,x2\n0,0\n", ["line 1", "missing column(s) ['label']", "x1,x2,label"]),
    ("0.1,0.2,1\n0.3,0.4,0\n", ["line 1", "missing column(s) ['x1', 'x2', 'label']"]),
    ("x1,x2,label\n", ["no data rows", "both classes"]),
    ("x1,x2,label\n0,0,0\n1,1\n", ["line 3", "2 field(s)", "expected 3"]),
    ("x1,x2,label\n0,0,0\n1,abc,1\n", ["line 3", "column 'x2'", "'abc' is not a number"]),
    ("x1,x2,label\n0,0,0\nnan,1,1\n", ["line 3", "column 'x1'", "'nan' is not finite"]),
    ("x1,x2,label\n0,0,0\n1,-inf,1\n", ["line 3", "column 'x2'", "'-inf' is not finite"]),
    ("x1,x2,label\n0,0,1\n1,1,yes\n", ["line 3", "column 'label'", "'yes' is not a number"]),
    ("x1,x2,label\n0,0,0\n1,1,1\n2,2,2\n",
     ["line 4", "column 'label'", "'2' is not a class", "must be 0 or 1"]),
    ("x1,x2,label\n0,0,0\n1,1,0.5\n", ["line 3", "'0.5' is not a class"]),
    ("x1,x2,label\n0,0,1\n1,1,1\n", ["every point has label 1", "both classes 0 and 1"]),
    ("x1,x2,label\n1e39,0,0\n1,1,1\n", ["too large for float32"]),
])
def test_bad_csv_names_the_file_line_and_column(tmp_path, text, fragments):
    path = write_csv(tmp_path / "points.csv", text)
    before = path.read_bytes()
    with pytest.raises(DatasetError) as info:
        load_csv(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert path.read_bytes() == before  # the user's file is never touched


def test_missing_unreadable_or_binary_csv(tmp_path):
    with pytest.raises(DatasetError, match="no such CSV file") as info:
        load_csv(tmp_path / "nope.csv")
    assert str(tmp_path / "nope.csv") in str(info.value)
    with pytest.raises(DatasetError, match="no such CSV file"):
        load_csv(tmp_path)  # a directory
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"x1,x2,label\n\xff\xfe\x00\x01")
    with pytest.raises(DatasetError, match="not a UTF-8 text file"):
        load_csv(binary)
    with pytest.raises(DatasetError, match="needs a file"):
        make_dataset("csv")
    assert isinstance(info.value, GeomcoreError)


def test_file_hash_is_the_sha256_of_the_bytes(tmp_path):
    import hashlib

    path = write_csv(tmp_path / "points.csv", "x1,x2,label\n0,0,0\n1,1,1\n")
    assert file_hash(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DatasetError, match="cannot read file"):
        file_hash(tmp_path / "gone.csv")
