"""geomcore.views.topology: the readouts show the measured values, in the rendered frame too."""

from __future__ import annotations

import ast
from pathlib import Path

import manim as mn
import numpy as np
import pytest
from test_topology import with_rings

import geomcore.views as views
from geomcore.replay import Replay
from geomcore.topology import inner_region, linear_regions, nesting_at, nesting_lost, ring_curves
from geomcore.views import (
    CLASS_COLORS,
    GlyphText,
    LinearRegionsView,
    LossCurve,
    RegionOfRingView,
    WindingReadout,
    nesting_event_mark,
)
from geomcore.views.style import READOUT_FONT_SIZE


@pytest.fixture(scope="module")
def replay3(synthetic3):
    """The synthetic 2-3-2-1 run (its end separates the rings), with its rings recorded."""
    return Replay(with_rings(synthetic3))


@pytest.fixture(scope="module")
def relu_replay(synthetic2):
    """The synthetic 2-2-2-1 run's weights read as a ReLU network (only weights are used)."""
    traj = with_rings(synthetic2)
    traj.metadata["activations"] = ["relu", "relu", "sigmoid"]
    return Replay(traj)


class _Still(mn.Scene):
    mobjects_to_show: tuple[mn.Mobject, ...] = ()

    def construct(self) -> None:
        self.add(*self.mobjects_to_show)
        self.wait(1 / mn.config.frame_rate)


def _render(*mobjects: mn.Mobject) -> np.ndarray:
    with mn.tempconfig({"dry_run": True, "quality": "low_quality", "disable_caching": True,
                        "progress_bar": "none", "verbosity": "ERROR"}):
        _Still.mobjects_to_show = mobjects
        scene = _Still()
        scene.render()
        return np.asarray(scene.renderer.get_frame()).astype(int)


def test_module_layout():
    source = Path(views.__file__).with_name("topology.py").read_text(encoding="utf-8")
    assert "may import" in ast.get_docstring(ast.parse(source))
    import geomcore.views.topology as module

    assert module.__all__ == sorted(module.__all__)
    assert all(getattr(views, n) is getattr(module, n) for n in module.__all__)


def test_winding_readout_frame_shows_the_measured_value(replay3):
    event = nesting_lost(replay3)
    corner = np.array([-2.0, 1.0, 0.0])
    rings = ring_curves(replay3.trajectory)
    shown = {}
    for u in (0.0, 1.0):
        clock = mn.ValueTracker(u)
        readout = WindingReadout(replay3, clock, corner=corner)
        measured = nesting_at(replay3.network_at(u), rings)
        want = WindingReadout.strings(measured)
        assert [line.string for line in readout.lines] == want
        # The frame: the readout's pixels are those of the measured strings drawn alone.
        frame = _render(readout)
        reference = [GlyphText(6, font_size=READOUT_FONT_SIZE, anchor=line.anchor).set_text(s)
                     for line, s in zip(readout.lines, want)]
        assert np.abs(frame - _render(readout.static, *reference)).max() == 0
        shown[u] = (measured.winding, frame)
    assert event.epoch is not None
    assert shown[0.0][0] in (1, -1) and shown[1.0][0] == 0
    # ... and the two values give different pictures: the comparison can fail.
    assert np.abs(shown[0.0][1] - shown[1.0][1]).max() > 100


def test_nesting_event_mark_sits_at_the_event_epoch(replay3):
    curve = LossCurve(replay3, mn.ValueTracker(0.0), center=(1.0, -1.0, 0.0), width=4.0)
    event = nesting_lost(replay3)
    line, label = nesting_event_mark(curve, event.epoch, f"leaves at {event.epoch:.1f}")
    x = curve.to_scene(np.array([event.epoch]), np.array([0.0]))[0, 0]
    assert line.get_start()[0] == pytest.approx(x) == line.get_end()[0]
    assert line.get_top()[1] == pytest.approx(curve.frame.get_top()[1])
    assert label.get_top()[1] < curve.xlabel.get_bottom()[1]


def test_linear_regions_view_draws_the_measured_regions(relu_replay):
    replay = relu_replay
    view = LinearRegionsView(replay, mn.ValueTracker(0.5), center=(0.0, 0.0, 0.0), width=4.0)
    regions = linear_regions(replay.network_at(0.5), replay.trajectory.bounds)
    assert view.count_text.string == f"regions {regions.count:>2d} of at most {regions.bound}"
    drawn = [c for c in view.cells if len(c.points)]
    assert len(drawn) == regions.count
    for cell, r in zip(drawn, regions.regions):
        corners = view.plane.to_plane(cell.points[::4])
        np.testing.assert_allclose(corners[: len(r.vertices)], r.vertices, atol=1e-12)
        klass = int(r.logit[:2] @ r.vertices.mean(axis=0) + r.logit[2] > 0)
        assert cell.get_fill_color().to_hex() == CLASS_COLORS[klass].to_hex()


def test_region_view_fills_to_the_box_edge(synthetic2):
    traj = with_rings(synthetic2)
    rings = ring_curves(traj)
    region = inner_region(traj.network(-1), rings, resolution=201)
    view = RegionOfRingView(region, rings, center=(0.0, 0.0, 0.0), width=4.0)
    pts = view.plane.to_plane(view.fill.points)
    xmin, xmax, ymin, ymax = region.box
    on_edge = (np.isclose(pts[:, 0], xmin) | np.isclose(pts[:, 0], xmax)
                | np.isclose(pts[:, 1], ymin) | np.isclose(pts[:, 1], ymax))
    assert region.unbounded and on_edge.any()
    # A pixel inside the filled region, on the inner ring, has the region's class colour.
    frame = _render(view.fill)
    h, w = frame.shape[:2]
    inside = np.argwhere(region.mask)
    row, col = inside[len(inside) // 2]
    x = xmin + col / (region.mask.shape[1] - 1) * (xmax - xmin)
    y = ymin + row / (region.mask.shape[0] - 1) * (ymax - ymin)
    p = view.plane.to_scene(np.array([x, y]))
    px = frame[int(round((0.5 - p[1] / mn.config.frame_height) * (h - 1))),
               int(round((p[0] / mn.config.frame_width + 0.5) * (w - 1))), :3]
    background = np.array(mn.config.background_color.to_rgb()) * 255
    colour = np.array(CLASS_COLORS[region.klass].to_rgb()) * 255
    # Fill opacity 0.55 over the background.
    np.testing.assert_allclose(px, 0.55 * colour + 0.45 * background, atol=6)
