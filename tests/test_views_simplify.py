"""The warped grids' line simplification (views.primitives.simplify_polylines)."""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.views import simplify_polylines


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Distance of each of ``points`` (n, 2) to the polyline ``line`` (m, 2)."""
    a, b = line[:-1], line[1:]
    chord = b - a
    d = points[:, None, :] - a[None]
    t = np.clip(np.einsum("nsk,sk->ns", d, chord) / np.einsum("sk,sk->s", chord, chord),
                0.0, 1.0)
    return np.linalg.norm(d - t[..., None] * chord[None], axis=2).min(axis=1)


def test_collinear_samples_become_one_segment_and_a_sine_keeps_its_shape():
    x = np.linspace(-3.0, 3.0, 200)
    straight = np.column_stack([x, 0.5 * x + 1.0, np.full_like(x, 0.25)])
    wave = np.column_stack([x, np.sin(2 * x), np.full_like(x, 0.25)])
    tolerance = 0.01
    [line, curve] = simplify_polylines(np.stack([straight, wave]), tolerance)
    np.testing.assert_array_equal(line, straight[[0, -1]])
    # Kept points are samples, in order, with both ends; z is carried along.
    kept = [int(np.flatnonzero(np.all(wave == p, axis=1))[0]) for p in curve]
    assert kept == sorted(kept) and kept[0] == 0 and kept[-1] == 199
    assert 10 < len(kept) < 100
    assert np.all(curve[:, 2] == 0.25)
    assert _distance_to_polyline(wave[:, :2], curve[:, :2]).max() <= tolerance
    # A tenth of the tolerance keeps more points, still within it.
    [finer] = simplify_polylines(wave[None], tolerance / 10)
    assert len(finer) > len(curve)
    assert _distance_to_polyline(wave[:, :2], finer[:, :2]).max() <= tolerance / 10


def test_a_line_squeezed_to_one_point_keeps_its_two_ends_and_shapes_are_checked():
    squeezed = np.tile([[0.7, -0.2, 0.0]], (50, 1))
    [kept] = simplify_polylines(squeezed[None], 0.01)
    np.testing.assert_array_equal(kept, squeezed[:2])
    assert simplify_polylines(np.zeros((0, 5, 3)), 0.1) == []
    with pytest.raises(ValueError, match=r"expected polylines of shape \(L, M >= 2, 3\)"):
        simplify_polylines(np.zeros((3, 5, 2)), 0.1)
