"""Fast tests of geomcore.topology: winding numbers, nesting events, regions, aligned views."""

from __future__ import annotations

import copy
import itertools
from math import comb

import numpy as np
import pytest

from geomcore.anatomy import pca_projection
from geomcore.errors import GeomcoreError
from geomcore.geometry import Network
from geomcore.replay import Replay, boundary_contours
from geomcore.topology import (
    aligned_pca_projections,
    inner_region,
    linear_regions,
    mean_displacement,
    nesting_at,
    nesting_lost,
    nesting_lost_at_epoch,
    region_bound,
    ring_curves,
    winding_numbers,
)
from geomcore.trajectory import Trajectory

RINGS_DATASET = {"name": "concentric_circles",
                 "params": {"outer_radius": 1.0, "inner_radius": 0.5}}


def with_rings(traj: Trajectory) -> Trajectory:
    """``traj`` with the concentric-circles dataset recorded in its metadata."""
    meta = copy.deepcopy(traj.metadata)
    meta["experiment"]["dataset"] = RINGS_DATASET
    return Trajectory(dict(traj.arrays), meta)


def dense(kernels, biases, activation="tanh") -> Network:
    kernels = tuple(np.asarray(k, dtype=np.float64) for k in kernels)
    biases = tuple(np.asarray(b, dtype=np.float64) for b in biases)
    n = len(kernels)
    return Network(kernels, biases, (activation,) * (n - 1) + ("sigmoid",),
                   tuple(f"hidden_{i + 1}" for i in range(n - 1)) + ("output",))


def unit_circle(n: int = 400, r: float = 1.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return r * np.column_stack([np.cos(t), np.sin(t)])


# -- winding numbers -----------------------------------------------------------------------
def test_winding_numbers_of_circles_loops_and_outside_points():
    rng = np.random.default_rng(0)
    p = rng.uniform(-2, 2, (2000, 2))
    r = np.hypot(p[:, 0], p[:, 1])
    inside, outside = r < 0.99, r > 1.01
    circle = unit_circle()
    w = winding_numbers(circle, p)
    assert np.all(w[inside] == 1) and np.all(w[outside] == 0)
    assert np.all(winding_numbers(circle[::-1], p)[inside] == -1)
    # Going round twice winds twice.
    twice = unit_circle(800)[np.arange(800) * 2 % 800]
    assert np.all(winding_numbers(twice, p)[inside] == 2)
    with pytest.raises(GeomcoreError, match="closed curve"):
        winding_numbers(np.zeros((2, 2)), p)


def test_nesting_of_an_injective_layer_a_fold_and_a_collapse():
    rings = (unit_circle(512), unit_circle(512, 0.5))
    eye = np.eye(2)
    out = ([[1.0], [1.0]], [0.0])
    # Invertible kernels: tanh layers are injective, the rings stay nested (winding -1 if the
    # kernel reverses orientation).
    flip = np.array([[0.0, 1.0], [1.0, 0.0]])
    n = nesting_at(dense([2 * eye, flip, out[0]], [[0.1, -0.2], [0, 0], out[1]]), rings)
    assert n.nested and n.winding == -1 and n.enclosed == 1.0
    # abs folds the plane onto a quadrant: the outer image winds around nothing.
    fold = dense([eye, eye, out[0]], [[0, 0], [0, 0], out[1]], activation="abs")
    n = nesting_at(fold, rings)
    assert not n.nested and n.winding == 0 and n.enclosed == 0.0
    # A rank-1 kernel squashes the plane onto a line.
    flat = dense([[[1.0, 1.0], [0.0, 0.0]], eye, out[0]], [[0, 0], [0, 0], out[1]])
    assert not nesting_at(flat, rings).nested
    wide = dense([np.ones((2, 3)), np.ones((3, 2)), out[0]], [np.zeros(3), [0, 0], out[1]])
    with pytest.raises(GeomcoreError, match="3 units"):
        nesting_at(wide, rings, "hidden_1")


def test_the_inner_ring_leaves_within_one_frame(synthetic3):
    # The synthetic 2-3-2-1 run ends separating the rings.
    replay = Replay(with_rings(synthetic3))
    tol = 1 / 1200
    event = nesting_lost(replay, tolerance=tol)
    assert event.nested[0] and not event.nested[-1]
    i = int(np.flatnonzero(event.nested[:-1] & ~event.nested[1:])[0])
    assert replay.epochs[i] < event.epoch <= replay.epochs[i + 1]
    rings = ring_curves(replay.trajectory)
    assert not nesting_at(replay.network_at(event.progress), rings).nested
    assert nesting_at(replay.network_at(event.progress - tol), rings).nested
    assert event.reason == f"the inner ring leaves at epoch {event.epoch:.2f}"
    assert nesting_lost_at_epoch(replay.trajectory) == (round(event.epoch, 4), event.reason)


def test_nesting_needs_nested_rings(synthetic2):
    epoch, reason = nesting_lost_at_epoch(synthetic2)  # its metadata names no dataset
    assert epoch is None and "has no nested rings" in reason
    with pytest.raises(GeomcoreError, match="no nested rings"):
        ring_curves(synthetic2)


# -- unbounded decision regions ------------------------------------------------------------
def test_region_of_the_inner_ring_is_unbounded_for_width_2(synthetic2):
    traj = with_rings(synthetic2)
    rings = ring_curves(traj)
    for s in (0, traj.n_snapshots - 1):
        region = inner_region(traj.network(s), rings, resolution=401)
        assert region.unbounded, s
        assert region.share > 0.5


def test_region_of_the_inner_ring_is_bounded_for_a_triangle_of_width_3():
    # Three steep tanh units, one per side of a triangle of inradius 1: the logit
    # sum(h) - 2.5 is positive only inside, so the inner ring's region is the bounded triangle.
    angles = np.radians([90, 210, 330])
    normals = -np.column_stack([np.cos(angles), np.sin(angles)]).T  # (2, 3)
    net = dense([8 * normals, np.ones((3, 1))], [8 * np.ones(3), [-2.5]])
    rings = (unit_circle(256, 3.0), unit_circle(256, 0.5))
    region = inner_region(net, rings, resolution=401)
    assert region.klass == 1 and region.share == 1.0 and not region.unbounded
    cell = (20 / 400) ** 2
    area = region.mask.sum() * cell
    # Inside the triangle of inradius 1 (area 3 sqrt 3), shrunk where a unit is below 1.
    assert 0.8 * 3 * np.sqrt(3) < area < 3 * np.sqrt(3)


# -- exact linear regions ------------------------------------------------------------------
def _intersections_box(kernel: np.ndarray, bias: np.ndarray) -> tuple[float, ...]:
    """A box holding every pairwise intersection of the units' zero lines, with margin."""
    pts = [np.linalg.solve(kernel[:, [i, j]].T, -bias[[i, j]])
           for i, j in itertools.combinations(range(kernel.shape[1]), 2)]
    m = 2 * max(1.0, float(np.max(np.abs(pts)))) if pts else 1.0
    return (-m, m, -m, m)


@pytest.mark.parametrize("units", [1, 2, 3, 4, 6])
def test_one_relu_layer_reaches_the_zaslavsky_bound(units):
    rng = np.random.default_rng(units)
    kernel, bias = rng.normal(size=(2, units)), rng.normal(size=units)
    net = dense([kernel, rng.normal(size=(units, 1))], [bias, [0.1]], activation="relu")
    regions = linear_regions(net, _intersections_box(kernel, bias))
    expected = 1 + units + comb(units, 2)
    assert regions.count == expected == regions.bound
    assert len({r.pattern for r in regions.regions}) == expected


def test_region_bound_values():
    assert [region_bound([d]) for d in (2, 3, 4)] == [4, 7, 11]
    assert region_bound([2, 2]) == 16 and region_bound([]) == 1


def _random_relu(rng: np.random.Generator, widths: tuple[int, ...]) -> Network:
    sizes = (2, *widths, 1)
    kernels = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(scale=0.5, size=b) for b in sizes[1:]]
    return dense(kernels, biases, activation="relu")


@pytest.mark.parametrize("seed", range(6))
def test_random_relu_regions_are_exact(seed):
    rng = np.random.default_rng(100 + seed)
    widths = ((2, 2), (3, 2), (4, 3), (2, 3, 2), (5,), (3, 3))[seed]
    net = _random_relu(rng, widths)
    box = (-2.0, 2.5, -1.5, 2.0)
    regions = linear_regions(net, box)
    assert 1 <= regions.count <= region_bound(widths)
    # The pieces tile the box.
    assert sum(r.area for r in regions.regions) == pytest.approx(4.5 * 3.5, rel=1e-12)
    for r in regions.regions:
        assert r.area > 0 and len(r.edges) == len(r.vertices)
        # Every vertex satisfies the equalities of its two edges to 1e-9: a box side, or a
        # unit's pre-activation (computed by the real forward pass) equal to zero.
        for k, v in enumerate(r.vertices):
            for label in (r.edges[k - 1], r.edges[k]):
                if label[0] == "box":
                    assert abs(v[label[1] // 2] - box[label[1]]) < 1e-9
                else:
                    _, layer, unit = label
                    z = net.stages(v[None], layer).affine[0, unit]
                    assert abs(z) < 1e-9, (label, z)
        # Inside, the pattern is the real one and the logit is the region's affine form.
        inside = r.vertices.mean(axis=0)[None]
        for layer, signs in enumerate(r.pattern):
            assert tuple(net.stages(inside, layer).affine[0] > 0) == signs
        g1, g2, d = r.logit
        assert net.logit(inside)[0] == pytest.approx(g1 * inside[0, 0] + g2 * inside[0, 1] + d,
                                                     abs=1e-9)
        if r.boundary is not None:
            assert np.all(np.abs(net.logit(r.boundary)) < 1e-9)


def _distance_to_segments(points: np.ndarray, segments: list[np.ndarray]) -> np.ndarray:
    a = np.array([s[0] for s in segments])[None]
    b = np.array([s[1] for s in segments])[None]
    p = points[:, None]
    t = np.clip(np.sum((p - a) * (b - a), -1) / np.maximum(np.sum((b - a) ** 2, -1), 1e-300),
                0, 1)
    return np.min(np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1), axis=1)


@pytest.mark.parametrize("seed", range(3))
def test_exact_boundary_agrees_with_the_traced_one(seed):
    rng = np.random.default_rng(200 + seed)
    net = _random_relu(rng, (4, 3))
    box = (-2.0, 2.0, -2.0, 2.0)
    exact = linear_regions(net, box).boundary
    traced = boundary_contours(net, box, resolution=161)
    assert exact and traced
    spacing = 4.0 / 160
    traced_pts = np.concatenate(traced)
    assert np.max(_distance_to_segments(traced_pts, exact)) < spacing
    along = np.concatenate([s[0] + np.linspace(0, 1, 20)[:, None] * (s[1] - s[0])
                            for s in exact])
    # The other way, to the traced vertices: within a grid cell's diagonal.
    gaps = np.min(np.linalg.norm(along[:, None] - traced_pts[None], axis=-1), axis=1)
    assert np.max(gaps) < np.sqrt(2) * spacing


def test_linear_regions_refuse_smooth_activations():
    net = dense([np.eye(2), np.ones((2, 1))], [np.zeros(2), [0.0]])
    with pytest.raises(GeomcoreError, match="exact regions need 'relu'"):
        linear_regions(net, (-1, 1, -1, 1))


# -- aligned projections -------------------------------------------------------------------
def test_procrustes_alignment_removes_basis_flips():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(300, 4)) * [3.0, 2.0, 1.0, 0.1]
    # The points drift slowly; PCA at each snapshot alone may flip signs or swap axes.
    images = np.stack([base + 0.01 * k * rng.normal(size=base.shape) for k in range(8)])
    aligned = aligned_pca_projections(images)
    raw = [pca_projection(x) for x in images]
    flipped = [type(p)(p.mean, p.components * (-1) ** k, p.explained)
               for k, p in enumerate(raw)]
    for p, q in zip(aligned, raw):
        # Same 3-D subspace, orthonormal rows.
        assert np.allclose(p.components @ p.components.T, np.eye(3), atol=1e-12)
        assert np.allclose(p.components.T @ p.components, q.components.T @ q.components,
                           atol=1e-9)
    assert mean_displacement(images, aligned) < 0.2 * mean_displacement(images, flipped)
    assert mean_displacement(images, aligned) <= mean_displacement(images, raw) + 1e-12
    with pytest.raises(GeomcoreError, match="k >= 3"):
        aligned_pca_projections(images[..., :2])


def test_aligned_projection_interpolates_between_snapshots():
    from geomcore.topology import AlignedProjection

    rng = np.random.default_rng(4)
    images = np.stack([rng.normal(size=(200, 4)) * [3, 2, 1, 0.2] + k for k in range(3)])
    projections = aligned_pca_projections(images)
    aligned = AlignedProjection(tuple(projections))
    assert aligned.at(1.0) is projections[1] and aligned.at(9.0) is projections[2]
    half = aligned.at(0.5)
    np.testing.assert_allclose(half.components @ half.components.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(half.mean, 0.5 * (projections[0].mean + projections[1].mean))
    # Close to both neighbours' bases, which are close to each other after alignment.
    for p in projections[:2]:
        assert np.linalg.norm(half.components - p.components) <= np.linalg.norm(
            projections[0].components - projections[1].components) + 1e-12


def test_ring_radii_default_to_the_generator_s(synthetic2):
    meta = copy.deepcopy(synthetic2.metadata)
    meta["experiment"]["dataset"] = {"name": "concentric_circles", "params": {"inner_radius": 0.3}}
    outer, inner = ring_curves(Trajectory(dict(synthetic2.arrays), meta), samples=8)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(inner[:, 0], inner[:, 1]), 0.3)


def test_inspect_json_reports_the_nesting_event_of_the_tiny_run(tiny_run):
    import json

    from click.testing import CliRunner

    from geomcore.cli import main

    result = CliRunner().invoke(main, ["inspect", str(tiny_run.path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    epoch, reason = nesting_lost_at_epoch(tiny_run.trajectory)
    assert summary["nesting_lost_at_epoch"] == epoch
    assert summary["nesting_lost_reason"] == reason


def test_a_run_without_an_experiment_has_no_rings(synthetic2):
    meta = copy.deepcopy(synthetic2.metadata)
    meta["experiment"] = {}
    epoch, reason = nesting_lost_at_epoch(Trajectory(dict(synthetic2.arrays), meta))
    assert epoch is None and reason == "dataset None has no nested rings; expected " \
        "'concentric_circles'"
