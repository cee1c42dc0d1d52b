"""Every view fits its box to what it draws, and nothing is drawn outside its frame (fault 6).

Checked for every activation the experiments offer, at sampled instants of each view's
tracker, and in every chapter of the lecture: the drawn points of point clouds and the Bézier
control points of grid lines and curves (not text) lie inside the view's frame rectangle
(the outline of a 3-D view's cube, for :class:`SpaceView`).
"""

from __future__ import annotations

import copy

import manim as mn
import numpy as np
import pytest
from helpers import TINY

from geomcore.anatomy import replay_space
from geomcore.cache import load_or_record
from geomcore.experiment import ACTIVATIONS, Experiment, find_experiment
from geomcore.extents import covering_box, homotopy_box, replay_box, square_box
from geomcore.replay import Replay
from geomcore.views import (
    ClassPoints,
    DataPlaneView,
    FoldPanel,
    HiddenPlaneView,
    InputPlaneView,
    LayerMorphView,
    Polylines,
    ReplayPanel,
    SpaceView,
    StageView,
)
from geomcore.views.anatomy import embed_scene
from geomcore.views.replay_panel import _PlaneView

TOL = 1e-6
SAMPLES = np.linspace(0.0, 1.0, 9)


def _drawn(view: mn.Mobject) -> list[np.ndarray]:
    """Scene points (n, 3) of every cloud and stroked polyline of ``view`` (not text)."""
    return [m.points for m in view.get_family()
            if isinstance(m, (ClassPoints, Polylines)) and len(m.points)]


def _outside(view: mn.Mobject, bounds: tuple[float, float, float, float]) -> int:
    xmin, xmax, ymin, ymax = bounds
    count = 0
    for pts in _drawn(view):
        x, y = pts[:, 0], pts[:, 1]
        count += int(np.sum((x < xmin - TOL) | (x > xmax + TOL) |
                            (y < ymin - TOL) | (y > ymax + TOL)))
    return count


def _plane_bounds(view: _PlaneView) -> tuple[float, float, float, float]:
    # The frame rectangle as drawn, not the PlaneMap it was made from.
    left, bottom = view.frame.get_corner(mn.DL)[:2]
    right, top = view.frame.get_corner(mn.UR)[:2]
    return (left, right, bottom, top)


def _cube_bounds(view: SpaceView) -> tuple[float, float, float, float]:
    pts = view.cube.points
    return (pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max())


def _check_space(view: SpaceView) -> int:
    xmin, xmax, ymin, ymax = _cube_bounds(view)
    count = 0
    for m in (view.clouds[0], view.clouds[1], view.grid, view.surface):
        # Anchors of the Bézier curves (and the points of clouds): what the content is.
        pts = m.points if isinstance(m, ClassPoints) else m.points[::4]
        if len(pts):
            x, y = pts[:, 0], pts[:, 1]
            count += int(np.sum((x < xmin - TOL) | (x > xmax + TOL) |
                                (y < ymin - TOL) | (y > ymax + TOL)))
    return count


# -- the numpy side ---------------------------------------------------------------------------


def test_boxes_hold_their_points():
    pts = np.array([[0.0, 0.0], [4.0, 1.0], [np.nan, 9.0]])
    box = square_box([pts], margin=0.0)
    assert box[1] - box[0] == pytest.approx(box[3] - box[2]) == pytest.approx(4.0, abs=1e-5)
    assert box[0] == pytest.approx(0.0, abs=1e-5) and box[2] == pytest.approx(-1.5, abs=1e-5)
    # A box that already holds the points is kept; one that does not grows, aspect kept.
    assert covering_box((-5, 5, -2, 2), pts) == (-5, 5, -2, 2)
    grown = covering_box((-1, 1, -0.5, 0.5), pts, margin=0.0)
    assert grown == pytest.approx((-4, 4, -2, 2))


@pytest.fixture(scope="module")
def relu_replay(tmp_path_factory):
    trajectory, _ = load_or_record(find_experiment("circles-relu"),
                                   directory=tmp_path_factory.mktemp("relu"), progress=False)
    return Replay(trajectory)


def test_replay_box_holds_what_a_relu_replay_draws(relu_replay):
    box = replay_box(relu_replay)
    traj = relu_replay.trajectory
    for u in np.linspace(0, 1, 41):
        frame = relu_replay.frame(u)
        for pts in (frame.probe, frame.grid.reshape(-1, 2)):
            assert np.all(pts[:, 0] >= box[0]) and np.all(pts[:, 0] <= box[1])
            assert np.all(pts[:, 1] >= box[2]) and np.all(pts[:, 1] <= box[3])
    # ReLU values reach far beyond tanh's (-1, 1): the old fixed box could not hold them.
    assert box[1] > 4.0
    assert box[1] - box[0] == pytest.approx(box[3] - box[2])
    assert traj.widths[-2] == 2


def test_homotopy_box_holds_every_depth(relu_replay):
    from geomcore.replay import layer_homotopy

    traj = relu_replay.trajectory
    net = traj.network(-1)
    box = homotopy_box(net, traj.probe_inputs, traj.grid_inputs)
    for depth in np.linspace(0, 2, 9):
        pts = layer_homotopy(net, traj.probe_inputs, depth)
        assert box[0] <= pts[:, 0].min() and pts[:, 0].max() <= box[1]
        assert box[2] <= pts[:, 1].min() and pts[:, 1].max() <= box[3]


# -- the frame test of the fault: ReplayPanel on circles-relu ------------------------------


@pytest.mark.slow
def test_replay_panel_on_circles_relu_keeps_every_drawn_point_in_its_frames(relu_replay):
    panel = ReplayPanel(relu_replay)
    for u in SAMPLES:
        panel.clock.set_value(u)
        panel.update()
        for view in (panel.hidden, panel.input):
            assert _outside(view, _plane_bounds(view)) == 0, (u, type(view).__name__)
    # Rendered: no pixel of a point cloud right of the hidden plane's frame.
    with mn.tempconfig({"pixel_width": 480, "pixel_height": 270}):
        camera = mn.Camera()
        right = _plane_bounds(panel.hidden)[1]
        for u in (0.0, 0.5, 1.0):
            panel.clock.set_value(u)
            panel.update()
            camera.reset()
            camera.capture_mobjects(list(panel.hidden.clouds.values()))
            col = int(np.ceil(camera.points_to_pixel_coords(
                panel.hidden.clouds[0], np.array([[right, 0.0, 0.0]]))[0, 0])) + 3
            background = camera.background[:, col:, :3]
            assert np.array_equal(camera.pixel_array[:, col:, :3], background), u


# -- every view, every activation -----------------------------------------------------------


def _tiny(activation: str, widths: list[int]) -> dict:
    data = copy.deepcopy(TINY)
    data["name"] = f"tiny-{activation}"
    data["model"] = {"hidden_widths": widths, "activation": activation}
    data["training"]["learning_rate"] = 0.5  # move far, so the layers' extents change
    return data


@pytest.fixture(scope="module", params=ACTIVATIONS)
def runs_by_activation(request):
    from geomcore.training import record_experiment

    flat = record_experiment(Experiment.from_dict(_tiny(request.param, [2, 2])))
    deep = record_experiment(Experiment.from_dict(_tiny(request.param, [3, 2])))
    return request.param, flat, deep


@pytest.mark.slow
def test_every_view_stays_in_its_frame(runs_by_activation):
    _activation, flat, deep = runs_by_activation
    replay = Replay(flat)
    clock = mn.ValueTracker(0.0)
    depth = mn.ValueTracker(0.0)
    step = mn.ValueTracker(0.0)
    net = flat.network(-1)
    planes = [
        (HiddenPlaneView(replay, clock), clock, 1.0),
        (InputPlaneView(replay, clock), clock, 1.0),
        (LayerMorphView(net, flat.probe_inputs, flat.probe_labels, flat.grid_inputs, depth),
         depth, 2.0),
        (StageView(net, "hidden_1", flat.probe_inputs, flat.probe_labels, flat.grid_inputs,
                   step), step, 3.0),
        (DataPlaneView(flat.probe_inputs, flat.probe_labels, box=(-0.5, 0.5, -0.5, 0.5),
                       grid=flat.grid_inputs[:, ::10]), None, 0.0),
    ]
    for view, tracker, end in planes:
        for s in SAMPLES:
            if tracker is not None:
                tracker.set_value(s * end)
                view.update()
            assert _outside(view, _plane_bounds(view)) == 0, (type(view).__name__, s)
    fold = FoldPanel(replay)
    for part in (fold.input, fold.hidden):
        assert _outside(part, _plane_bounds(part)) == 0
    assert _outside(fold.hidden_folds, _plane_bounds(fold.hidden)) == 0
    assert _outside(fold.input_folds, _plane_bounds(fold.input)) == 0
    deep_replay = Replay(deep)
    azimuth = mn.ValueTracker(-70.0)
    space_clock = mn.ValueTracker(0.0)
    space = SpaceView(replay_space(deep_replay, "hidden_1"), space_clock, deep.probe_labels,
                      azimuth)
    for s in SAMPLES:
        space_clock.set_value(s)
        azimuth.set_value(-70 + 90 * s)
        space.update()
        assert _check_space(space) == 0, s


def test_embed_scene_is_the_identity_in_the_plane():
    assert np.array_equal(embed_scene(np.array([[1.0, 2.0]]))[0], [1.0, 2.0, 0.0])
