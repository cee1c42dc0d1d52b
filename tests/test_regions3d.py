"""K-class cells and boundary faces in a 3-unit viewed layer (geomcore.regions, numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from geomcore.geometry import Network
from geomcore.regions import (
    clip_polygon_to_half_space,
    decision_cells,
    decision_faces,
    polygon_area_3d,
)

HALF = 1.0
#: (classes, seed) of the random networks: K = 2 .. 5, several seeds each.
CASES = [(k, seed) for k in range(2, 6) for seed in range(4)]


def random_layer(classes: int, seed: int, scale: float = 2.0):
    """A random output layer on a 3-unit layer: kernel (3, K), bias (K,)."""
    rng = np.random.default_rng(100 * classes + seed)
    return rng.normal(0, scale, size=(3, classes)), rng.normal(0, 0.7, size=classes)


def logits(kernel, bias, h):
    return np.asarray(h, np.float64) @ kernel + bias


def convex_combinations(vertices: np.ndarray, count: int, rng) -> np.ndarray:
    """``count`` random points of the convex hull of ``vertices`` (m, 3), shape (count, 3)."""
    weights = rng.dirichlet(np.ones(len(vertices)), size=count)
    return weights @ vertices


def in_plane_polygon(points: np.ndarray, polygon: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Whether points (n, 3) of the polygon's plane lie inside the convex polygon (m, 3)."""
    center = polygon.mean(axis=0)
    _, _, vt = np.linalg.svd(polygon - center)
    to2 = lambda p: (p - center) @ vt[:2].T  # noqa: E731  (coordinates in the plane)
    poly, pts = to2(polygon), to2(points)
    edges = np.roll(poly, -1, axis=0) - poly
    rel = pts[:, None, :] - poly[None, :, :]
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    return np.all(cross >= -tol, axis=1) | np.all(cross <= tol, axis=1)


@pytest.mark.parametrize(("classes", "seed"), CASES)
def test_every_face_vertex_is_a_tie_of_the_two_largest_logits(classes, seed):
    kernel, bias = random_layer(classes, seed)
    faces = decision_faces(kernel, bias, HALF)
    assert faces  # a random layer of scale 2 splits the cube somewhere
    assert len({pair for _, pair in faces}) == len(faces)  # one convex face per pair
    for polygon, (i, j) in faces:
        assert polygon.shape[1] == 3 and len(polygon) >= 3 and i < j
        assert np.all(np.abs(polygon) <= HALF + 1e-12)
        z = logits(kernel, bias, polygon)
        assert np.max(np.abs(z[:, i] - z[:, j])) <= 1e-6
        others = np.delete(z, [i, j], axis=1)
        if others.shape[1]:
            assert np.all(others <= np.minimum(z[:, i], z[:, j])[:, None] + 1e-6)


@pytest.mark.parametrize(("classes", "seed"), CASES)
def test_points_on_a_face_are_ties_and_every_tie_lies_on_its_face(classes, seed):
    kernel, bias = random_layer(classes, seed)
    rng = np.random.default_rng(seed)
    faces = {pair: polygon for polygon, pair in decision_faces(kernel, bias, HALF)}
    for (i, j), polygon in faces.items():
        pts = convex_combinations(polygon, 200, rng)
        z = logits(kernel, bias, pts)
        assert np.max(np.abs(z[:, i] - z[:, j])) <= 1e-9
        # No other logit is larger: (i, j) are the two largest (up to round-off).
        others = np.delete(z, [i, j], axis=1)
        if others.shape[1]:
            assert np.all(others.max(axis=1) <= z[:, i] + 1e-9)
    # The faces tile the boundary: project random cube points onto each tie plane; where the
    # projection is in the cube and the pair leads there, it lies on that pair's face.
    samples = rng.uniform(-HALF, HALF, size=(3000, 3))
    found = 0
    for i in range(classes):
        for j in range(i + 1, classes):
            normal = kernel[:, j] - kernel[:, i]
            offset = bias[j] - bias[i]
            on_plane = samples - ((samples @ normal + offset) / (normal @ normal))[:, None] * normal
            z = logits(kernel, bias, on_plane)
            leads = np.all(np.delete(z, [i, j], axis=1) < z[:, [i]] - 1e-6, axis=1)
            inside = np.all(np.abs(on_plane) < HALF - 1e-6, axis=1) & leads
            if (i, j) not in faces:
                assert not inside.any(), (i, j)
                continue
            found += int(inside.sum())
            assert np.all(in_plane_polygon(on_plane[inside], faces[(i, j)], tol=1e-7))
    assert found > 0


@pytest.mark.parametrize(("classes", "seed"), CASES)
def test_points_inside_a_cell_are_that_class_and_the_cells_cover_the_cube(classes, seed):
    kernel, bias = random_layer(classes, seed)
    rng = np.random.default_rng(seed + 7)
    cells = decision_cells(kernel, bias, HALF)
    assert len(cells) == classes
    hulls = {}
    for c, cell in enumerate(cells):
        if cell is None:
            continue
        vertices = np.unique(np.round(np.vstack(cell), 12), axis=0)
        assert np.all(np.abs(vertices) <= HALF + 1e-12)
        # Probe points drawn inside the polyhedron: the cell's class is the argmax there.
        pts = convex_combinations(vertices, 300, rng)
        z = logits(kernel, bias, pts)
        assert np.all(z[:, c] >= z.max(axis=1) - 1e-9)
        for polygon in cell:  # every bounding polygon is in the closed cell
            zp = logits(kernel, bias, polygon)
            assert np.all(zp[:, c] >= zp.max(axis=1) - 1e-9)
        hulls[c] = ConvexHull(vertices).equations  # rows (normal, offset), outward
    # Every point of the cube lies in the cell of its argmax class.
    samples = rng.uniform(-HALF, HALF, size=(2000, 3))
    owner = np.argmax(logits(kernel, bias, samples), axis=1)
    for c in range(classes):
        mine = samples[owner == c]
        if cells[c] is None:
            assert len(mine) == 0, c
        elif len(mine):
            inside = mine @ hulls[c][:, :3].T + hulls[c][:, 3] <= 1e-9
            assert np.all(inside), c


def _network(kernel: np.ndarray, bias: np.ndarray, activation: str) -> Network:
    rng = np.random.default_rng(0)
    return Network((rng.normal(size=(2, 3)), kernel), (rng.normal(size=3), bias),
                   ("tanh", activation), ("hidden_1", "output"))


@pytest.mark.parametrize("seed", range(5))
def test_sigmoid_and_two_unit_softmax_give_the_same_face(seed):
    rng = np.random.default_rng(seed)
    w, c = rng.normal(0, 2, size=(3, 1)), rng.normal(0, 0.5, size=1)
    sigmoid = _network(w, c, "sigmoid")
    # Softmax logits (r, r + w.h + c): their difference is the sigmoid's logit.
    r, rb = rng.normal(0, 2, size=(3, 1)), rng.normal(0, 0.5, size=1)
    softmax = _network(np.hstack([r, r + w]), np.concatenate([rb, rb + c]), "softmax")
    (face_s, pair_s), = decision_faces(*sigmoid.class_weights(), HALF)
    (face_m, pair_m), = decision_faces(*softmax.class_weights(), HALF)
    assert pair_s == pair_m == (0, 1)
    np.testing.assert_allclose(face_s, face_m, atol=1e-9)
    # The face is the plane w.h + c = 0 in the cube.
    assert np.max(np.abs(face_s @ w[:, 0] + c[0])) <= 1e-12
    # Its area is the plane's section of the cube, measured by sampling.
    pts = rng.uniform(-HALF, HALF, size=(200_000, 3))
    thin = np.abs(pts @ w[:, 0] + c[0]) / np.linalg.norm(w) < 0.01
    assert polygon_area_3d(face_s) == pytest.approx(thin.mean() * 8 / 0.02, rel=0.06)


def test_a_class_with_no_cell_is_none_and_has_no_face():
    kernel, bias = random_layer(3, 0)
    bias = bias.copy()
    bias[1] = -100.0  # class 1's logit is never the largest in the cube
    cells = decision_cells(kernel, bias, HALF)
    faces = decision_faces(kernel, bias, HALF)
    assert cells[1] is None and cells[0] is not None and cells[2] is not None
    assert [pair for _, pair in faces] == [(0, 2)]


def test_a_plane_that_misses_the_cube_gives_no_face_and_one_cell():
    kernel = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    bias = np.array([0.0, 5.0])  # z_1 - z_0 = h_1 + 5 > 0 in the cube
    assert decision_faces(kernel, bias, HALF) == []
    cells = decision_cells(kernel, bias, HALF)
    assert cells[0] is None and len(cells[1]) == 6  # the cube's six faces


def test_the_cube_is_cut_by_an_axis_plane_into_two_halves():
    kernel = np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    (face, pair), = decision_faces(kernel, np.zeros(2), 2.0)
    assert pair == (0, 1)
    np.testing.assert_allclose(face[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sort(np.abs(face[:, 1:]).ravel()), 2.0)
    assert polygon_area_3d(face) == pytest.approx(16.0)


def test_clipping_a_3d_polygon_keeps_the_part_on_the_positive_side():
    square = np.array([[0, 0, 0], [2, 0, 0], [2, 2, 0], [0, 2, 0]], dtype=float)
    half = clip_polygon_to_half_space(square, np.array([-1.0, 0.0, 0.0]), 1.0)  # x <= 1
    assert polygon_area_3d(half) == pytest.approx(2.0)
    assert half[:, 0].max() == pytest.approx(1.0)
    assert clip_polygon_to_half_space(square, np.array([1.0, 0, 0]), -5.0).shape == (0, 3)


@pytest.mark.parametrize(
    ("kernel", "bias", "half", "message"),
    [
        (np.zeros((2, 3)), np.zeros(3), 1.0, "shape \\(3, K\\)"),
        (np.zeros((3, 3)), np.zeros(2), 1.0, "shape \\(3, K\\)"),
        (np.zeros((3, 3)), np.zeros(3), 0.0, "half_side=0.0"),
    ],
)
def test_bad_shapes_and_cubes_are_value_errors(kernel, bias, half, message):
    with pytest.raises(ValueError, match=message):
        decision_faces(kernel, bias, half)
    with pytest.raises(ValueError, match=message):
        decision_cells(kernel, bias, half)
