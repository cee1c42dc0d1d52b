"""geomcore.extents: boxes, ranges and outlines the views draw, computed in numpy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from geomcore.errors import GeomcoreError
from geomcore.extents import (
    cube_edges,
    layer_box,
    layer_steps_box,
    log_range,
    padded_range,
    surface_wireframe,
    unit_circle_image,
)
from geomcore.geometry import Network


def _trajectory(grid: np.ndarray, probe: np.ndarray, layer: str = "h") -> SimpleNamespace:
    # layer_box reads only the arrays of a trajectory.
    return SimpleNamespace(arrays={f"grid.{layer}": grid, f"probe.{layer}": probe})


def test_layer_box_is_the_bounding_square_of_grid_and_probe_images():
    grid = np.array([[[[-1.0, 0.0], [3.0, 0.5]]]])  # (S=1, G=1, M=2, 2)
    probe = np.array([[[0.0, 1.0], [1.0, 0.2]]])  # (S=1, P=2, 2)
    box = layer_box(_trajectory(grid, probe), "h", margin=0.0)
    # x spans [-1, 3] (side 4), y spans [0, 1]: a square of side 4 about (1, 0.5).
    np.testing.assert_allclose(box, (-1.0, 3.0, -1.5, 2.5), atol=2e-6)


def test_layer_box_margin_and_non_finite_values():
    grid = np.array([[[[-1.0, -1.0], [1.0, 1.0]]], [[[np.nan, np.nan], [0.0, 0.0]]]])
    probe = np.zeros((2, 1, 2))
    box = layer_box(_trajectory(grid, probe), "h", margin=0.5)
    # Side 2, half-side 1 * 1.5; the NaN snapshot (a diverged run) is ignored.
    np.testing.assert_allclose(box, (-1.5, 1.5, -1.5, 1.5), atol=2e-6)


def test_layer_box_of_an_unrecorded_layer_is_an_error():
    traj = _trajectory(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2)))
    with pytest.raises(GeomcoreError, match="'nope'"):
        layer_box(traj, "nope")
    wide = _trajectory(np.zeros((1, 1, 2, 3)), np.zeros((1, 1, 3)))
    with pytest.raises(GeomcoreError, match="2-unit"):
        layer_box(wide, "h")


def _net(kernel: np.ndarray, bias: np.ndarray, activation: str = "tanh") -> Network:
    return Network((kernel, np.ones((2, 1))), (bias, np.zeros(1)), (activation, "sigmoid"),
                   ("h", "output"))


def test_layer_steps_box_holds_the_largest_step():
    grid = np.array([[[-1.5, 0.0], [1.5, 1.0]]])  # (G=1, M=2, 2)
    net = _net(np.diag([2.0, 0.5]), np.array([0.25, 0.0]))
    # Linear step: x = 1.5 -> 3.0; bias: 3.25; tanh brings it back inside 1.
    box = layer_steps_box(net, "h", grid, margin=0.1)
    np.testing.assert_allclose(box, (-3.575, 3.575, -3.575, 3.575))


def test_layer_steps_box_is_at_least_the_unit_square():
    grid = np.array([[[-0.2, 0.1], [0.3, 0.2]]])
    net = _net(np.eye(2), np.zeros(2))
    np.testing.assert_allclose(layer_steps_box(net, 0, grid, margin=0.1), (-1.1, 1.1, -1.1, 1.1))


def test_cube_edges():
    edges = cube_edges(0.5)
    assert edges.shape == (12, 2, 3)
    diff = np.abs(edges[:, 1] - edges[:, 0])
    # Each edge runs along one axis, length 1, between corners (all coordinates +-0.5).
    np.testing.assert_allclose(np.sort(diff, axis=1), np.tile([0.0, 0.0, 1.0], (12, 1)))
    np.testing.assert_allclose(np.abs(edges), 0.5)
    # Four edges along each axis, all twelve distinct.
    assert sorted(np.argmax(diff, axis=1).tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    assert len({tuple(np.round(e.mean(axis=0), 6)) for e in edges}) == 12
    np.testing.assert_allclose(edges[0], [[-0.5, -0.5, -0.5], [-0.5, -0.5, 0.5]])


def test_unit_circle_image_runs_from_the_circle_to_the_ellipse():
    kernel = np.array([[2.0, 0.0], [0.0, 3.0]])
    start = unit_circle_image(kernel, 0.0, samples=9)
    assert start.shape == (9, 2)
    np.testing.assert_allclose(np.hypot(*start.T), 1.0)
    end = unit_circle_image(kernel, 1.0, samples=9)
    theta = np.linspace(0, 2 * np.pi, 9)
    np.testing.assert_allclose(end, np.column_stack([2 * np.cos(theta), 3 * np.sin(theta)]),
                               atol=1e-12)
    np.testing.assert_allclose(unit_circle_image(kernel, 0.5, samples=9), 0.5 * (start + end))
    # Row vectors: (1, 0) goes to the kernel's first row.
    shear = np.array([[1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(unit_circle_image(shear, 7.0, samples=5)[0], [1.0, 1.0])


def test_unit_circle_image_of_a_non_square_kernel_is_an_error():
    with pytest.raises(GeomcoreError, match=r"\(2, 3\)"):
        unit_circle_image(np.zeros((2, 3)), 0.5)


def test_surface_wireframe_keeps_every_kth_row_and_column():
    surface = np.arange(24 * 12 * 3, dtype=float).reshape(24, 12, 3)
    lines = surface_wireframe(surface, rulings=12, across=6)
    assert len(lines) == 12 + 6
    np.testing.assert_array_equal(lines[1], surface[2])
    np.testing.assert_array_equal(lines[12 + 1], surface[:, 2])
    small = surface_wireframe(surface[:3, :2])
    assert len(small) == 3 + 2


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 0.01], (-2.0, 0.0)),
        ([0.5, 0.6], (-0.5, 0.0)),
        ([0.3], (-1.0, -0.5)),
        ([1.0, 1.0], (0.0, 0.5)),  # one value: widened to half a decade
        ([0.0, 1.0], (-12.0, 0.0)),  # zero loss counts as 1e-12
    ],
)
def test_log_range(values, expected):
    assert log_range(np.array(values)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 3.0], (-0.3, 3.3)),  # 0 is always in range
        ([-2.0, -1.0], (-2.2, 0.2)),
        ([0.0, 0.0], (-0.1, 0.1)),  # no span: pad of 1
    ],
)
def test_padded_range(values, expected):
    assert padded_range(np.array(values)) == pytest.approx(expected)
