"""The replay's faster drawing paths draw the same pixels as the slow ones (issue 15).

Point clouds of one colour are blended by a look-up table, many-curve paths reach Cairo from
a list of floats and the boundary's sample grid is made once per box: each test compares
the fast path with a reference (Manim's own path, or the formula written out here) pixel
for pixel or value for value.
"""

from __future__ import annotations

import contourpy
import manim as mn
import numpy as np
import pytest
from helpers import synthetic_trajectory

from geomcore.replay import Replay, boundary_contours
from geomcore.views import GlyphText, GridLines, Polylines, ReplayPanel, primitives

CONFIG = {"pixel_width": 480, "pixel_height": 270, "frame_rate": 15}


def _reference_cloud(camera: mn.Camera, pmobject: mn.PMobject, points: np.ndarray,
                     rgbas: np.ndarray, thickness: float, pixel_array: np.ndarray) -> None:
    """The "over" formula per pixel, written out: colour ``a c + (1 - a) u`` rounded, every
    pixel read before any is written, the last point drawn winning (Manim's layout)."""
    coords = camera.thickened_coordinates(camera.points_to_pixel_coords(pmobject, points),
                                          thickness)
    colours = np.tile(rgbas, (len(coords) // len(rgbas), 1))
    keep = camera.on_screen_pixels(coords)
    coords, colours = coords[keep], colours[keep]
    under = pixel_array[coords[:, 1], coords[:, 0]].astype(np.float64) / 255
    a = colours[:, 3:4]
    out = np.concatenate([a * colours[:, :3] + (1 - a) * under[:, :3],
                          a + (1 - a) * under[:, 3:]], axis=1)
    pixel_array[coords[:, 1], coords[:, 0]] = np.round(out * 255).astype(np.uint8)


@pytest.mark.parametrize("mixed", [False, True], ids=["one colour", "colour per point"])
def test_blended_cloud_equals_the_formula(mixed):
    rng = np.random.default_rng(3)
    with mn.tempconfig(CONFIG):
        camera = mn.Camera()
        # Half the points off screen on one side: the cut to the frame is exercised too.
        xy = rng.uniform([-9.0, -3.5], [5.0, 3.5], (700, 2))
        cloud = primitives.ClassPoints(np.column_stack([xy, np.zeros(len(xy))]),
                                       "#3fa7d6", size=9.0, opacity=0.55)
        if mixed:
            cloud.rgbas[:, :3] = rng.uniform(0.0, 1.0, (len(xy), 3))
            cloud.rgbas[::7, 3] = 0.2
        background = rng.integers(0, 256, camera.pixel_array.shape, dtype=np.uint8)
        thickness = camera.adjusted_thickness(cloud.stroke_width)
        fast, slow = background.copy(), background.copy()
        primitives._display_point_cloud_blended(camera, cloud, cloud.points, cloud.rgbas,
                                                thickness, fast)
        _reference_cloud(camera, cloud, cloud.points, cloud.rgbas, thickness, slow)
    changed = np.any(fast != background, axis=-1)
    assert changed.sum() > 1000  # the cloud was drawn
    np.testing.assert_array_equal(fast, slow)


def test_blend_table_is_the_formula_for_every_value():
    rgba = np.array([0.25, 0.5, 0.75, 0.4])
    table = primitives._blend_table(rgba, 4)
    u = np.arange(256) / 255
    expected_red = np.round((0.4 * 0.25 + 0.6 * u) * 255)
    expected_alpha = np.round((0.4 + 0.6 * u) * 255)
    assert table.shape == (256, 4) and table.dtype == np.uint8
    np.testing.assert_array_equal(table[:, 0], expected_red)
    np.testing.assert_array_equal(table[:, 3], expected_alpha)
    assert table[0, 2] == 77 and table[255, 2] == 230  # round(0.3 * 255), round(0.9 * 255)


def _draw(mobjects: list[mn.VMobject], listed: bool) -> np.ndarray:
    camera = mn.Camera()
    saved = mn.Camera.set_cairo_context_path
    if not listed:
        mn.Camera.set_cairo_context_path = primitives._manim_context_path
    try:
        camera.capture_mobjects(mobjects)
    finally:
        mn.Camera.set_cairo_context_path = saved
    return camera.pixel_array.copy()


def test_listed_paths_draw_what_manim_draws():
    with mn.tempconfig(CONFIG):
        t = np.linspace(0.0, 2 * np.pi, 60)
        loop = np.column_stack([2 * np.cos(t), 1.5 * np.sin(3 * t), np.zeros_like(t)])
        wave = np.column_stack([np.linspace(-6, 6, 80), np.sin(np.linspace(0, 9, 80)),
                                np.zeros(80)])
        # The next line starts where the wave ends: Manim joins them into one sub-path.
        tail = np.array([wave[-1], [6.5, -2.0, 0.0], [5.0, -3.0, 0.0]])
        lines = Polylines("#e0e0e0", stroke_width=3.0, smooth=True)
        lines.set_polylines([loop, wave, tail])
        # A closed triangle, thick: closing the path joins its first corner, not two caps.
        triangle = np.array([[-5.0, -3.0, 0.0], [-2.0, -3.0, 0.0], [-3.5, -0.5, 0.0],
                             [-5.0, -3.0, 0.0]])
        straight = Polylines("#ff8040", stroke_width=16.0).set_polylines([triangle])
        text = GlyphText(12, anchor=(-6.0, 3.0, 0.0)).set_text("loss  0.0123")
        curved = [lines, text]
        listed, manim = _draw(curved, listed=True), _draw(curved, listed=False)
        # Straight polylines are drawn with line_to: the same path as Manim's straight
        # cubics, which Cairo flattens first; only anti-aliasing of edge pixels may differ.
        lined, manim_lined = _draw([straight], listed=True), _draw([straight], listed=False)
    assert mn.Camera.set_cairo_context_path is primitives._set_cairo_context_path_listed
    assert np.count_nonzero(listed[..., :3].max(axis=-1) > 128) > 1000  # something drawn
    np.testing.assert_array_equal(listed, manim)
    inked = lined[..., 0] > 128
    assert np.count_nonzero(inked) > 1000
    assert np.count_nonzero(inked != (manim_lined[..., 0] > 128)) <= 0.01 * np.count_nonzero(inked)
    differ = np.abs(lined.astype(int) - manim_lined).max(axis=-1) > 0
    assert np.count_nonzero(differ) <= 0.001 * differ.size


def test_straight_polylines_bent_by_manim_are_drawn_as_curves():
    with mn.tempconfig(CONFIG):
        line = np.column_stack([np.linspace(-6, 6, 40), np.zeros(40), np.zeros(40)])
        bent = Polylines("#e0e0e0", stroke_width=6.0).set_polylines([line])
        bent.apply_function(lambda p: p + np.array([0.0, 2.0 * np.sin(p[0]), 0.0]))
        assert bent.points is not bent.straight_points
        listed, manim = _draw([bent], listed=True), _draw([bent], listed=False)
    assert np.count_nonzero(listed[..., 0] > 128) > 500
    np.testing.assert_array_equal(listed, manim)


def test_straight_and_curved_polylines_are_told_apart():
    p, q = np.array([0.0, 0.0]), np.array([3.0, 1.5])
    straight = np.array([p, p + (q - p) / 3, p + 2 * (q - p) / 3, q])
    assert primitives._all_straight(straight, 4)
    # Handles on the line but beyond an anchor trace past it and back: not the chord.
    overshoot = np.array([p, p + 1.5 * (q - p), p + 2 * (q - p) / 3, q])
    assert not primitives._all_straight(overshoot, 4)
    bent = straight + np.array([[0, 0], [0, 1e-4], [0, 0], [0, 0]])
    assert not primitives._all_straight(bent, 4)
    assert not primitives._all_straight(np.zeros((0, 2)), 4)


def test_boundary_contours_match_a_fresh_sample_grid():
    replay = Replay(synthetic_trajectory())
    network = replay.network_at(1.0)  # separates the rings: a closed boundary curve
    box = (-1.7, 1.6, -1.5, 1.8)
    xs, ys = np.linspace(box[0], box[1], 90), np.linspace(box[2], box[3], 90)
    gx, gy = np.meshgrid(xs, ys)
    logit = network.logit(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    expected = contourpy.contour_generator(xs, ys, logit,
                                           line_type=contourpy.LineType.Separate).lines(0.0)
    for _ in range(2):  # the second call reads the cached grid
        curves = boundary_contours(network, list(box), resolution=90)
        assert len(curves) == len(expected) >= 1
        for got, want in zip(curves, expected):
            np.testing.assert_array_equal(got, want)


def test_replay_panel_frames_equal_manims_own_drawing():
    """Whole frames of the panel: fast paths on, against Manim's path code and the formula."""
    with mn.tempconfig(CONFIG):
        panel = ReplayPanel(Replay(synthetic_trajectory()))
        # The grid's coarser anti-aliasing is a choice of pixels, tested on its own below;
        # here both drawings use Cairo's default, to compare the paths.
        for family in panel.hidden.grid.families:
            family.fast_antialias = False
        frames = {}
        for fast in (True, False):
            saved = (mn.Camera.set_cairo_context_path, mn.Camera.display_point_cloud)
            if not fast:
                mn.Camera.set_cairo_context_path = primitives._manim_context_path
                mn.Camera.display_point_cloud = _reference_cloud
            try:
                for u in (0.0, 0.37, 1.0):
                    panel.clock.set_value(u)
                    panel.dynamic.update()
                    camera = mn.Camera()
                    camera.capture_mobjects([panel])
                    frames[fast, u] = camera.pixel_array.copy()
            finally:
                mn.Camera.set_cairo_context_path, mn.Camera.display_point_cloud = saved
    for u in (0.0, 0.37, 1.0):
        # Straight polylines go through line_to (see above): edge pixels within 4 levels.
        np.testing.assert_allclose(frames[True, u].astype(int), frames[False, u].astype(int),
                                   rtol=0, atol=4)
    assert not np.array_equal(frames[True, 0.0], frames[True, 1.0])  # the replay moved


def test_grids_are_stroked_with_fast_antialiasing_and_nothing_after_them_is():
    with mn.tempconfig(CONFIG):
        t = np.linspace(-1.0, 1.0, 120)
        lines = np.stack([np.column_stack([t * 3 + 0.2 * np.sin(5 * t + k), t * 2.5 + 0.1 * k,
                                           np.zeros_like(t)]) for k in range(-10, 11)])
        grid = GridLines().set_lines(np.concatenate([lines, lines[:, :, [1, 0, 2]]]))
        exact = GridLines().set_lines(np.concatenate([lines, lines[:, :, [1, 0, 2]]]))
        for family in exact.families:
            family.fast_antialias = False
        after = Polylines("#ff8040", stroke_width=6.0).set_polylines(
            [np.array([[-6.0, -3.5, 0.0], [6.0, 3.0, 0.0]])])
        fast, default = _draw([grid], listed=True), _draw([exact], listed=True)
        with_grid, alone = _draw([grid, after], listed=True), _draw([after], listed=True)
    # The same lines, anti-aliased differently: as much ink (coverage is conserved), put in
    # nearly the same places, but not the same pixels.
    background = fast[0, 0].astype(int)
    ink_fast = np.abs(fast.astype(int) - background)[..., :3].sum(axis=-1)
    ink_default = np.abs(default.astype(int) - background)[..., :3].sum(axis=-1)
    assert ink_default.sum() > 100_000
    assert ink_fast.sum() == pytest.approx(ink_default.sum(), rel=0.1)
    assert np.abs(ink_fast - ink_default).sum() < 0.5 * ink_default.sum()
    assert not np.array_equal(fast, default)
    # A line drawn after the grid gets Cairo's default again: where the grid is not, it is
    # drawn exactly as when alone.
    clear = ink_fast == 0
    assert np.count_nonzero(clear & (np.abs(alone.astype(int) - background).sum(-1) > 0)) > 500
    np.testing.assert_array_equal(with_grid[clear], alone[clear])
