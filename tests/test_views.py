"""Manim building blocks: what is drawn sits where the network puts it.

The views draw the synthetic runs built in numpy (``synthetic3``, ``synthetic2``; no
training): these tests check drawing, not Keras.
"""

from __future__ import annotations

import manim as mn
import numpy as np
import pytest
from helpers import crafted, hidden_images
from scipy.interpolate import CubicSpline

from geomcore.geometry import sigmoid
from geomcore.replay import Replay
from geomcore.views import (
    BOUNDARY_COLOR,
    CLASS_COLORS,
    GlyphText,
    HiddenPlaneView,
    PlaneMap,
    ReplayPanel,
    add_layered,
    polylines_to_bezier,
)

TOL = 1e-3  # scene units


@pytest.fixture(scope="module")
def replay3(synthetic3):
    return Replay(synthetic3)


def _at(panel: ReplayPanel, u: float) -> None:
    panel.clock.set_value(u)
    panel.dynamic.update(0)


def test_plane_map_round_trip():
    m = PlaneMap((-2.0, 2.0, -1.0, 1.0), (1.0, -0.5, 0.0), 8.0)
    assert m.scale == 2.0 and m.height == 4.0
    corners = m.to_scene(np.array([[-2.0, -1.0], [2.0, 1.0]]))
    np.testing.assert_allclose(corners, [[-3.0, -2.5, 0.0], [5.0, 1.5, 0.0]])
    pts = np.random.default_rng(0).uniform(-1, 1, size=(20, 2))
    np.testing.assert_allclose(m.to_plane(m.to_scene(pts)), pts)


def test_polylines_to_bezier_passes_through_points():
    line = np.array([[[0, 0, 0], [1, 0, 0], [2, 1, 0], [3, 3, 0]]], dtype=float)
    for smooth in (False, True):
        quads = polylines_to_bezier(line, smooth=smooth).reshape(-1, 4, 3)
        np.testing.assert_allclose(quads[:, 0], line[0, :-1])
        np.testing.assert_allclose(quads[:, 3], line[0, 1:])
    straight = polylines_to_bezier(line).reshape(-1, 4, 3)
    np.testing.assert_allclose(straight[0, 1], [1 / 3, 0, 0])
    smooth = polylines_to_bezier(line, smooth=True).reshape(-1, 4, 3)
    # C1: the handles on either side of an inner point are collinear with it.
    out_dir = smooth[1, 1] - smooth[1, 0]
    in_dir = smooth[0, 3] - smooth[0, 2]
    assert np.cross(out_dir, in_dir)[2] == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("k", [0, 3, 6])
def test_drawn_points_are_the_recorded_hidden_outputs(replay3, k):
    panel = ReplayPanel(replay3)
    _at(panel, replay3.progress_at(k))
    view = panel.hidden
    traj = replay3.trajectory
    recorded = traj.arrays[f"probe.{replay3.layer}"][k]
    for c in (0, 1):
        want = view.plane.to_scene(recorded[traj.probe_labels == c])
        got = view.clouds[c].points
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= TOL


def _spline_weights(traj, s: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Kernels and biases at snapshot coordinate ``s``: scipy's cubic spline (not-a-knot)
    through each recorded weight, computed here, not by the replay."""
    names = traj.layer_names
    n = traj.n_snapshots
    kernels, biases = [], []
    for name in names:
        k, b = traj.arrays[f"kernel.{name}"], traj.arrays[f"bias.{name}"]
        index = np.arange(n, dtype=np.float64)
        kernels.append(CubicSpline(index, k.astype(np.float64), axis=0)(s))
        biases.append(CubicSpline(index, b.astype(np.float64), axis=0)(s))
    return kernels, biases


def test_drawn_points_between_snapshots_follow_the_interpolated_network(replay3):
    panel = ReplayPanel(replay3)
    u = 0.37
    _at(panel, u)
    traj = replay3.trajectory
    s = replay3.snapshot_at(u)
    assert 0.5 < s % 1 < 0.95 or 0.05 < s % 1 < 0.5, "between two snapshots"
    kernels, biases = _spline_weights(traj, s)
    acts = traj.metadata["activations"]
    # The spline is not the straight line between the neighbouring snapshots here.
    lo = int(s)
    straight = (lo + 1 - s) * traj.arrays["kernel.hidden_1"][lo] + (s - lo) * traj.arrays[
        "kernel.hidden_1"][lo + 1]
    assert np.abs(kernels[0] - straight).max() > 1e-2
    [_, hidden] = hidden_images(kernels, biases, acts, traj.probe_inputs)
    for c in (0, 1):
        want = panel.hidden.plane.to_scene(hidden[traj.probe_labels == c])
        assert np.abs(panel.hidden.clouds[c].points - want).max() <= TOL
    # The grid is drawn through the grid lines' images (vertical lines in the first family,
    # horizontal ones in the second): checked against the network above, not the view.
    grid = panel.hidden.grid
    lines = traj.grid_inputs.shape[0] // 2
    samples = traj.grid_inputs.shape[1]
    for family, rows in ((0, slice(0, lines)), (1, slice(lines, 2 * lines))):
        [_, image] = hidden_images(kernels, biases, acts, traj.grid_inputs[rows].reshape(-1, 2))
        want = panel.hidden.plane.to_scene(image.reshape(lines, samples, 2), clip=True)
        _assert_drawn_through(grid.families[family].points, want, grid.scene_tolerance() + TOL)


def _assert_drawn_through(points: np.ndarray, lines: np.ndarray, tolerance: float) -> None:
    """``points`` (Manim's Bézier points of straight segments) draw each of ``lines``
    ``(L, M, 3)`` from its first sample to its last, every vertex one of its samples in
    order, and every sample skipped within ``tolerance`` of the segment drawn over it."""
    from scipy.spatial import cKDTree

    quads = points.reshape(-1, 4, 3)
    samples = lines.reshape(-1, 3)
    tree = cKDTree(samples[:, :2])
    gap, p = tree.query(quads[:, 0, :2])
    gap_q, q = tree.query(quads[:, 3, :2])
    assert max(gap.max(), gap_q.max()) <= TOL, "a vertex that is not a sample"
    m = lines.shape[1]
    assert np.array_equal(p // m, q // m), "a segment joins two grid lines"
    assert np.all(q > p), "segments follow each line's samples in order"
    for line in range(lines.shape[0]):
        mine = p // m == line
        starts, ends = p[mine] % m, q[mine] % m
        assert starts[0] == 0 and ends[-1] == m - 1 and np.array_equal(starts[1:], ends[:-1])
        for a, b in zip(starts, ends):
            seg_a, seg_b = lines[line, a, :2], lines[line, b, :2]
            inner = lines[line, a:b + 1, :2]
            chord = seg_b - seg_a
            t = np.clip((inner - seg_a) @ chord / max(chord @ chord, 1e-300), 0.0, 1.0)
            off = np.linalg.norm(inner - (seg_a + t[:, None] * chord), axis=1)
            assert off.max() <= tolerance, (line, a, b, off.max())


@pytest.mark.parametrize("u", [0.0, 0.2, 0.6, 1.0])
def test_decision_line_endpoints_lie_where_p_is_one_half(replay3, u):
    panel = ReplayPanel(replay3)
    _at(panel, u)
    view = panel.hidden
    frame = replay3.frame(u)
    a, b, c = frame.boundary
    start, end = view.line.get_start(), view.line.get_end()
    assert np.linalg.norm(end - start) > 0.1
    net = frame.network
    for point in (start, end, 0.5 * (start + end)):
        h = view.plane.to_plane(point)
        p = sigmoid(a * h[0] + b * h[1] + c)
        assert abs(p - 0.5) < 1e-6
        # The same point pushed through the output layer of the real network.
        p_net = sigmoid(h @ net.kernels[-1][:, 0] + net.biases[-1][0])
        assert abs(p_net - 0.5) < 1e-6
    # Endpoints sit on the edge of the visible box.
    box = np.array(view.plane.box)
    for point in (start, end):
        h = view.plane.to_plane(point)
        assert min(abs(h[0] - box[0]), abs(h[0] - box[1]), abs(h[1] - box[2]),
                   abs(h[1] - box[3])) < 1e-6


def test_pulled_back_boundary_drawn_where_network_outputs_one_half(replay3):
    panel = ReplayPanel(replay3)
    _at(panel, 0.8)
    view = panel.input
    anchors = view.boundary.points.reshape(-1, 4, 3)[:, 0]
    assert len(anchors) > 50
    x = view.plane.to_plane(anchors)
    p = replay3.network_at(0.8).predict_proba(x)
    assert np.abs(p - 0.5).max() < 0.01


def test_no_decision_line_when_output_ignores_the_layer(synthetic3):
    traj = synthetic3
    arrays = dict(traj.arrays)
    arrays["kernel.output"] = np.zeros_like(arrays["kernel.output"])
    arrays["boundary"] = np.zeros_like(arrays["boundary"])
    flat = type(traj)(arrays, dict(traj.metadata))
    view = HiddenPlaneView(Replay(flat), mn.ValueTracker(0.5))
    assert view.line.get_stroke_opacity() == 0
    assert view.no_boundary.string == HiddenPlaneView.NO_LINE
    assert np.all(np.isfinite(view.line.points))


def test_metrics_show_the_true_epoch(replay3):
    panel = ReplayPanel(replay3)
    last = replay3.n_snapshots - 1
    for k in (0, 2, 5, last):
        _at(panel, replay3.progress_at(k) + (1e-9 if k < last else 0))
        epoch, acc, loss = (line.string.strip() for line in panel.metrics.lines)
        assert epoch == f"{k}/{last}"
        assert acc == f"{100 * replay3.trajectory.accuracy[k]:.1f}%"
        assert float(loss) == pytest.approx(replay3.trajectory.loss[k], abs=6e-5)


def test_glyph_text_is_one_mobject_with_each_glyph_in_its_column():
    text = GlyphText(8, anchor=(1.0, 2.0, 0.0))
    assert len(text.points) == 0
    text.set_text("12.5%")
    assert text.submobjects == []
    width_5 = text.get_right()[0]
    assert text.get_left()[0] == pytest.approx(1.0, abs=0.05)
    assert text.get_bottom()[1] == pytest.approx(2.0, abs=0.05)  # the baseline
    text.set_text("1")
    assert text.get_right()[0] < width_5 - 3 * text.advance
    text.set_text("   1")
    assert text.get_left()[0] == pytest.approx(1.0 + 3 * text.advance, abs=0.05)
    text.set_text("")
    assert len(text.points) == 0


def test_loss_curve_grows_with_the_clock(replay3):
    panel = ReplayPanel(replay3)
    counts = []
    for u in (0.0, 0.5, 1.0):
        _at(panel, u)
        counts.append(len(panel.loss.curve.points))
    assert counts[0] < counts[1] < counts[2]
    right = panel.loss.curve.points[-1]
    assert right[0] == pytest.approx(panel.loss.frame.get_right()[0], abs=TOL)


class _FrameScene(mn.Scene):
    progress = 0.0
    replay: Replay

    def construct(self) -> None:
        self.panel = ReplayPanel(self.replay)
        self.panel.clock.set_value(self.progress)
        # A wait without time-based updaters renders a static frame: draw the clock's
        # state before it, or the frame shows progress 0 whatever the clock says.
        self.panel.dynamic.update(0)
        add_layered(self, self.panel)
        self.wait(1 / mn.config.frame_rate)


def _render_frame(replay: Replay, u: float) -> tuple[np.ndarray, ReplayPanel]:
    with mn.tempconfig({"dry_run": True, "quality": "low_quality", "disable_caching": True,
                        "progress_bar": "none", "verbosity": "ERROR"}):
        _FrameScene.replay, _FrameScene.progress = replay, u
        scene = _FrameScene()
        scene.render()
        return np.asarray(scene.renderer.get_frame()), scene.panel


def _pixel(frame: np.ndarray, point: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    col = int(round((point[0] / mn.config.frame_width + 0.5) * (w - 1)))
    row = int(round((0.5 - point[1] / mn.config.frame_height) * (h - 1)))
    return frame[row, col, :3].astype(float)


def test_rendered_frame_shows_class_colours_and_the_line(replay3):
    frame, panel = _render_frame(replay3, 1.0)
    view = panel.hidden
    last = replay3.n_snapshots - 1
    assert panel.metrics.lines[0].string.strip() == f"{last}/{last}", "the frame at u = 1"
    final = replay3.trajectory.arrays[f"probe.{replay3.layer}"][-1]
    for c in (0, 1):
        want = view.plane.to_scene(final[replay3.trajectory.probe_labels == c])
        assert np.abs(view.clouds[c].points - want).max() <= TOL
    for c in (0, 1):
        want = np.array(CLASS_COLORS[c].to_rgb()) * 255
        # The median of each class's points, away from the line: its pixel has the class colour.
        pts = view.clouds[c].points
        line_mid = 0.5 * (view.line.get_start() + view.line.get_end())
        far = pts[np.linalg.norm(pts - line_mid, axis=1) > 0.5]
        # A point is a 2-pixel square: look at the pixel and its neighbours (one pixel is
        # frame_width / pixel_width scene units), not at one rounding of its position.
        px = mn.config.frame_width / frame.shape[1]
        nudges = [np.array([dx, dy, 0.0]) * px for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        hits = [min(np.abs(_pixel(frame, p + d) - want).max() for d in nudges) < 40
                for p in far[:: max(1, len(far) // 50)]]
        assert np.mean(hits) > 0.9
    mid = 0.5 * (view.line.get_start() + view.line.get_end())
    want = np.array(BOUNDARY_COLOR.to_rgb()) * 255
    assert np.abs(_pixel(frame, mid) - want).max() < 40
    # The frame's background far from every view is the configured background colour.
    corner = _pixel(frame, np.array([6.9, -3.9, 0]))
    np.testing.assert_allclose(corner, np.array(mn.config.background_color.to_rgb()) * 255, atol=3)


def test_stage_view_draws_the_kernel_ellipse_and_the_steps(synthetic2):
    from geomcore.anatomy import kernel_ellipse, layer_steps
    from geomcore.views import StageView

    traj = synthetic2
    net = traj.network(-1)
    t = mn.ValueTracker(1.0)
    view = StageView(net, "hidden_1", traj.probe_inputs, traj.probe_labels, traj.grid_inputs, t)
    ell = kernel_ellipse(net.kernels[0])
    # The drawn axes (two segments through the centre) have the singular values' lengths.
    axes = view.axes_lines.points.reshape(-1, 4, 3)
    lengths = np.sort([np.linalg.norm(q[3] - q[0]) / 2 / view.plane.scale for q in axes])[::-1]
    np.testing.assert_allclose(lengths, ell.singular_values, rtol=1e-9)
    # The drawn ellipse is the image of the unit circle under the kernel.
    anchors = view.plane.to_plane(view.circle.points.reshape(-1, 4, 3)[:, 0])
    np.testing.assert_allclose(np.linalg.norm(anchors @ np.linalg.inv(net.kernels[0]), axis=1),
                               1.0, atol=1e-6)
    for step in (0.0, 1.0, 2.0, 3.0, 2.5):
        t.set_value(step)
        view.dynamic.update(0)
        want = layer_steps(net, "hidden_1", traj.probe_inputs, step)
        for c in (0, 1):
            got = view.clouds[c].points
            assert np.abs(got - view.plane.to_scene(want[traj.probe_labels == c])).max() <= TOL


def test_space_view_projects_the_layer_and_the_decision_surface(synthetic3):
    from geomcore.anatomy import orbit_camera, replay_space
    from geomcore.views import SpaceView

    replay = Replay(synthetic3)
    clock, azimuth = mn.ValueTracker(0.6), mn.ValueTracker(35.0)
    source = replay_space(replay, "hidden_1")
    view = SpaceView(source, clock, replay.trajectory.probe_labels, azimuth, elevation=20,
                     center=(1.0, -0.5, 0), size=1.5)
    azimuth.set_value(80.0)
    view.dynamic.update(0)
    net = replay.network_at(0.6)
    h = net.forward(replay.trajectory.probe_inputs, upto="hidden_1")
    screen, _ = orbit_camera(h, 80.0, 20)
    want = np.column_stack([1.0 + 1.5 * screen[:, 0], -0.5 + 1.5 * screen[:, 1]])
    labels = replay.trajectory.probe_labels
    for c in (0, 1):
        assert np.abs(view.clouds[c].points[:, :2] - want[labels == c]).max() <= TOL
    content = source(0.6)
    assert content.surface is not None and len(view.surface.points) > 0
    # Surface vertices, pushed through layers 2 and 3, sit on the decision boundary.
    u = np.tanh(content.surface.reshape(-1, 3) @ net.kernels[1] + net.biases[1])
    p = sigmoid(u @ net.kernels[2][:, 0] + net.biases[2][0])
    assert np.abs(p - 0.5).max() < 1e-3


# -- issue 7: diverged, non-learning and degenerate runs never draw garbage ----------------


def drawn_points(mobject: mn.Mobject) -> np.ndarray:
    """Every point of every mobject in ``mobject``'s family, shape (n, 3)."""
    parts = [m.points for m in mobject.get_family() if len(m.points)]
    return np.concatenate(parts) if parts else np.zeros((0, 3))


def assert_all_drawn_points_finite(panel: ReplayPanel) -> None:
    for u in (0.0, 0.2, 0.5, 0.77, 1.0):
        _at(panel, u)
        points = drawn_points(panel)
        assert points.size and np.all(np.isfinite(points)), u


@pytest.fixture(scope="module")
def diverged(synthetic3):
    """The synthetic run as a recorder keeps a diverged one: the 4 finite snapshots before
    training blew up at epoch 3.5, and the metadata saying so."""
    arrays = {k: v[:4].copy() if v.shape[:1] == (synthetic3.n_snapshots,) else v
              for k, v in synthetic3.arrays.items()}
    meta = {**synthetic3.metadata, "diverged": True, "diverged_at_epoch": 3.5}
    return type(synthetic3)(arrays, meta)


def test_panel_of_a_diverged_run_says_where_it_stops(diverged):
    t = diverged
    at = t.metadata["diverged_at_epoch"]
    assert t.diverged and t.n_snapshots >= 2 and t.epochs[-1] < at
    replay = Replay(t)
    panel = ReplayPanel(replay)
    assert replay.n_snapshots == t.n_snapshots  # every finite snapshot, nothing after
    expected = f"training diverged at epoch {at:g} — replay stops there"
    assert replay.notice == expected
    assert panel.notice is not None
    assert " ".join(panel.notice.original_text.split()) == expected
    assert panel.notice.text == expected.replace(" ", "")  # the glyphs drawn
    assert panel.notice in panel.static.get_family()  # drawn, on the panel's static layer
    assert panel.notice.get_left()[0] >= 3.7 and panel.notice.get_right()[0] <= 7.1  # in frame
    assert_all_drawn_points_finite(panel)
    _at(panel, 1.0)
    assert replay.frame(1.0).epoch == pytest.approx(float(t.epochs[-1]))


def test_rendered_frame_of_a_diverged_run_shows_the_notice(diverged):
    from geomcore.views import WARNING_COLOR

    frame, panel = _render_frame(Replay(diverged), 1.0)
    assert np.all(np.isfinite(drawn_points(panel)))
    h, w = frame.shape[:2]
    left, right = panel.notice.get_left()[0], panel.notice.get_right()[0]
    top, bottom = panel.notice.get_top()[1], panel.notice.get_bottom()[1]
    cols = slice(int((left / mn.config.frame_width + 0.5) * w),
                 int((right / mn.config.frame_width + 0.5) * w))
    rows = slice(int((0.5 - top / mn.config.frame_height) * h),
                 int((0.5 - bottom / mn.config.frame_height) * h))
    box = frame[rows, cols, :3].astype(float)
    want = np.array(WARNING_COLOR.to_rgb()) * 255
    red = np.abs(box - want).max(axis=-1) < 40
    assert red.mean() > 0.05  # the notice's glyphs are drawn, in the warning colour


def test_panel_of_a_healthy_run_has_no_notice(replay3, caplog):
    with caplog.at_level("WARNING", logger="geomcore"):
        panel = ReplayPanel(replay3)
    assert panel.notice is None and replay3.notice is None
    assert not replay3.trajectory.no_learning
    assert caplog.records == []


def test_rendering_a_run_that_did_not_learn_warns(synthetic3, caplog):
    t = crafted(synthetic3)
    t.arrays["accuracy"][-1] = 0.5
    with caplog.at_level("WARNING", logger="geomcore"):
        panel = ReplayPanel(Replay(t))
    # The verdict is on screen too, in the notice below the readout.
    assert panel.notice is not None
    shown = " ".join(panel.notice.original_text.split())
    assert shown == t.learning_verdict()
    [record] = caplog.records
    assert record.name == "geomcore" and record.levelname == "WARNING"
    assert record.getMessage() == (
        "synthetic-2-3-2-1 did not learn: final accuracy 0.5000 is within 0.05 of chance "
        "(0.5000, always answering the majority class); the replay shows a network that did "
        "not learn")


def _vertical(arrays):  # b = 0 and c = 0: the decision line is h1 = 0
    arrays["kernel.output"][:, 1, 0] = 0.0
    arrays["bias.output"][:] = 0.0


def _no_line(arrays):  # a = b = 0: the output unit ignores the layer
    arrays["kernel.output"][:] = 0.0


def _saturated(arrays):  # huge weights: every tanh unit at +-1
    for name in ("hidden_1", "hidden_2"):
        arrays[f"kernel.{name}"] *= 1e4
        arrays[f"bias.{name}"] *= 1e4


def _collapsed(arrays):  # every input mapped to one place
    arrays["kernel.hidden_1"][:] = 0.0


@pytest.mark.parametrize("case", ["vertical", "no line", "saturated", "collapsed"])
def test_degenerate_geometry_is_drawn_or_says_there_is_no_line(synthetic3, case):
    edit = {"vertical": _vertical, "no line": _no_line, "saturated": _saturated,
            "collapsed": _collapsed}[case]
    t = crafted(synthetic3, edit)
    replay = Replay(t)
    panel = ReplayPanel(replay)
    assert_all_drawn_points_finite(panel)
    hidden = panel.hidden
    for u in (0.0, 0.5, 1.0):
        _at(panel, u)
        frame = replay.frame(u)
        line_shown = hidden.line.get_stroke_opacity() > 0
        if case == "vertical":
            assert line_shown and hidden.no_boundary.string == ""
            start, end = hidden.line.get_start(), hidden.line.get_end()
            # h1 = 0 in the fitted box (no longer centred on the origin).
            assert start[0] == pytest.approx(end[0]) == pytest.approx(
                hidden.plane.to_scene(np.zeros(2))[0])
            assert abs(start[1] - end[1]) == pytest.approx(hidden.plane.height)
        elif case == "no line":
            assert not line_shown
            assert hidden.no_boundary.string == HiddenPlaneView.NO_LINE
            assert len(panel.input.boundary.points) == 0  # p = sigmoid(c) everywhere
        else:
            segment = frame.decision_segment(hidden.plane.box)
            assert line_shown == (segment is not None)
            assert hidden.no_boundary.string == ("" if line_shown else HiddenPlaneView.NO_LINE)
        if case == "saturated":
            # Every hidden unit at +-1: the points sit on the corners of the square.
            assert np.mean(np.abs(np.abs(frame.probe) - 1) < 1e-3) > 0.95
        if case == "collapsed":
            cloud = np.concatenate([c.points for c in hidden.clouds.values()])
            np.testing.assert_allclose(cloud, np.broadcast_to(cloud[0], cloud.shape))
            assert len(panel.input.boundary.points) == 0  # one output everywhere: no curve
