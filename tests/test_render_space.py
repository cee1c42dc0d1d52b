"""``geomcore render``/``compare`` of a run whose viewed layer is 3 units wide.

The 3-unit layer is drawn by :class:`~geomcore.views.ReplaySpaceView` (a turning camera, the
faces between the classes' cells); these tests check its faces against
:func:`geomcore.regions.decision_faces`, the layout of the replay and of the compare scene
(everything in the frame, no two texts overlapping) for K = 2 and K = 3, and a rendered
frame's colours against the network.
"""

from __future__ import annotations

import itertools

import manim as mn
import numpy as np
import pytest
from helpers import TINY, merge, synthetic_trajectory

from geomcore.anatomy import orbit_camera, replay_space
from geomcore.experiment import Experiment
from geomcore.regions import decision_faces
from geomcore.replay import Replay
from geomcore.views import (
    BOUNDARY_COLOR,
    ReplaySpaceView,
    SpaceReplayPanel,
    compare_scene_class,
    face_color,
    replay_scene_class,
)
from geomcore.views.style import REGION_FILL_OPACITY, class_colors
from scenes.layout_probe import probe, text_boxes

#: Tiny experiments with one hidden layer 3 wide feeding the output: two rings (sigmoid,
#: K = 2), three blobs (softmax, K = 3), and the rings through ReLU (an unbounded layer).
SPACE_RUNS = {
    "rings-3": merge(TINY, {
        "name": "rings-3", "model": {"hidden_widths": [3]},
        "training": {"loss": "binary_crossentropy", "optimizer": "adam",
                     "learning_rate": 0.05, "epochs": 5}}),
    "blobs-3": merge(TINY, {
        "name": "blobs-3", "seed": 1,
        "dataset": {"name": "blobs", "classes": 3, "n_per_class": 150, "std": 0.25},
        "model": {"hidden_widths": [3]},
        "training": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam",
                     "learning_rate": 0.05, "epochs": 6},
        "recording": {"probe_size": 90}}),
    "rings-3-relu": merge(TINY, {
        "name": "rings-3-relu", "model": {"hidden_widths": [3], "activation": "relu"},
        "training": {"loss": "binary_crossentropy", "optimizer": "adam",
                     "learning_rate": 0.05, "epochs": 4}}),
}


@pytest.fixture(scope="module")
def space_runs():
    from geomcore.training import record_experiment

    return {name: record_experiment(Experiment.from_dict(data))
            for name, data in SPACE_RUNS.items()}


def _inside_convex(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether points (n, 2) lie inside the convex polygon (m, 2), shape (n,)."""
    edges = np.roll(polygon, -1, axis=0) - polygon
    rel = points[:, None, :] - polygon[None, :, :]
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    return np.all(cross >= 0, axis=1) | np.all(cross <= 0, axis=1)


def _in_frame(scene: mn.Scene, where: object) -> None:
    half_w, half_h = mn.config.frame_width / 2, mn.config.frame_height / 2
    for top in scene.mobjects:
        for mob in top.family_members_with_points():
            left, bottom = mob.get_corner(mn.DL)[:2]
            right, top_ = mob.get_corner(mn.UR)[:2]
            assert -half_w < left and right < half_w, (where, mob)
            assert -half_h < bottom and top_ < half_h, (where, mob)


def _no_overlaps(texts, where: object) -> None:
    for a, b in itertools.combinations(texts, 2):
        assert a.overlap(b) < 1e-6, (where, a.text, b.text)


def test_space_view_of_a_sigmoid_run_draws_its_one_face_in_the_boundary_colour():
    replay = Replay(synthetic_trajectory((3,), seed=4, name="space-sigmoid"))
    view = ReplaySpaceView(replay, mn.ValueTracker(1.0))
    (face, pair), = decision_faces(*replay.frame(1.0).network.class_weights(), view.half)
    assert view.face_pairs == [pair] == [(0, 1)] and len(view.faces) == 1
    corners = np.asarray(view.faces[0].get_anchors())[:, :2]
    np.testing.assert_allclose(np.unique(np.round(corners, 9), axis=0),
                               np.unique(np.round(view.to_scene(face)[:, :2], 9), axis=0),
                               atol=1e-7)
    assert view.faces[0].get_fill_color().to_hex() == BOUNDARY_COLOR.to_hex()
    # The face is the output unit's plane w.h + c = 0 (the sigmoid's p = 0.5).
    coefficients = replay.frame(1.0).network.boundary_coefficients()
    assert np.max(np.abs(face @ coefficients[:3] + coefficients[3])) < 1e-9


@pytest.mark.slow
def test_space_view_draws_the_faces_of_the_output_layer_far_to_near(space_runs):
    replay = Replay(space_runs["blobs-3"])
    clock = mn.ValueTracker(1.0)
    view = ReplaySpaceView(replay, clock, center=(0.5, -0.2, 0), reach=1.4, title="h")
    kernel, bias = replay.frame(1.0).network.class_weights()
    faces = decision_faces(kernel, bias, view.half)
    assert len(faces) >= 2 and len(view.faces) == 3  # K (K - 1) / 2 polygons
    azimuth = view.azimuth.get_value()
    assert azimuth == pytest.approx(-75.0 + 45.0)  # the camera turned with the clock
    depth = {pair: orbit_camera(poly, azimuth, view.elevation)[1].mean() for poly, pair in faces}
    assert view.face_pairs == sorted(depth, key=depth.get)  # far to near
    polygons = dict((pair, poly) for poly, pair in faces)
    for mob, pair in zip(view.faces, view.face_pairs):
        corners = np.asarray(mob.get_anchors())[:, :2]
        want = view.to_scene(polygons[pair])[:, :2]
        np.testing.assert_allclose(np.unique(np.round(corners, 9), axis=0),
                                   np.unique(np.round(want, 9), axis=0), atol=1e-7)
        assert mob.get_fill_color().to_hex() == face_color(pair, 3).to_hex()
        assert mob.get_fill_opacity() == pytest.approx(REGION_FILL_OPACITY)
        assert mob.get_stroke_color().to_hex() == BOUNDARY_COLOR.to_hex()
    for mob in view.faces[len(view.face_pairs):]:
        assert not mob.has_points()
    # Earlier in training the faces follow the network of that instant.
    clock.set_value(0.0)
    view.dynamic.update(0)
    early = decision_faces(*replay.frame(0.0).network.class_weights(), view.half)
    assert sorted(view.face_pairs) == sorted(pair for _, pair in early)


def test_face_colours_are_the_boundary_colour_for_two_classes_and_a_mix_for_more():
    assert face_color((0, 1), 2) == BOUNDARY_COLOR
    mix = np.array(face_color((0, 2), 4).to_rgb())
    colors = class_colors(4)
    np.testing.assert_allclose(mix, (np.array(colors[0].to_rgb())
                                     + np.array(colors[2].to_rgb())) / 2, atol=1e-6)


def test_the_lectures_3_2_run_keeps_its_decision_surface_and_gets_no_faces():
    # circles-3d's layers 3 -> 2 tanh -> 1: hidden_1 does not feed the output.
    replay = Replay(synthetic_trajectory((3, 2), seed=0))
    content = replay_space(replay, "hidden_1")(1.0)
    assert content.class_weights is None and content.surface is not None


@pytest.mark.slow
def test_an_unbounded_layer_gets_a_cube_that_holds_its_images(space_runs):
    replay = Replay(space_runs["rings-3-relu"])
    view = ReplaySpaceView(replay, mn.ValueTracker(1.0))
    images = np.concatenate([replay.trajectory.arrays[f"{k}.hidden_1"].reshape(-1)
                             for k in ("probe", "grid")])
    assert np.abs(images).max() > 1.0  # ReLU leaves tanh's cube
    assert np.abs(images).max() <= view.half <= np.abs(images).max() + 0.25
    assert view.size * view.half == pytest.approx(1.3)
    tanh = ReplaySpaceView(Replay(space_runs["rings-3"]), mn.ValueTracker(1.0))
    assert tanh.half == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SPACE_RUNS))
def test_layout_of_a_3_unit_replay_stays_in_frame_without_overlaps(space_runs, name):
    replay = Replay(space_runs[name])
    scene, samples = probe(None, base=replay_scene_class(replay, seconds=2.0, heading=name))
    assert isinstance(scene.panel, SpaceReplayPanel)
    assert samples[-1].time == pytest.approx(2.0, abs=0.5)
    classes = replay.trajectory.classes
    # heading, 2 titles, 2 + 3 axis labels, 2 loss labels, 3 + 3 readout (+ 2 per class, K > 2)
    want = 16 + (2 * classes if classes > 2 else 0)
    for u in np.linspace(0.0, 1.0, 9):  # the camera turns with the clock: check it all along
        scene.panel.clock.set_value(float(u))
        scene.update_mobjects(0)
        texts = text_boxes(scene)
        assert len(texts) == want, [t.text for t in texts]
        _no_overlaps(texts, u)
        _in_frame(scene, u)


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 4])
def test_compare_cells_with_3_unit_layers_stay_in_frame_without_overlaps(space_runs, count):
    pool = [space_runs["blobs-3"], synthetic_trajectory((2, 2), seed=1, name="plane-2"),
            space_runs["rings-3"], synthetic_trajectory((3, 2), seed=2, name="plane-3")]
    runs = pool[:count]
    replays = [Replay(t) for t in runs]
    scene, _ = probe(None, base=compare_scene_class(replays, [t.name for t in runs],
                                                    seconds=2.0))
    kinds = [type(cell["hidden"]).__name__ for cell in scene.cells]
    assert kinds[:2] == ["ReplaySpaceView", "HiddenPlaneView"]
    # The K = 3 run's per-class accuracies fit below its readout in a row of two cells; in
    # the 2 x 2 grid they would leave the cell, so they are left out.
    assert len(scene.cells[0]["metrics"].class_lines) == (3 if count == 2 else 0)
    # per cell: heading, 2 titles, 2 (+ 1 in 3-D) axis labels, 6 readout (+ 2 per class line)
    want = sum(11 + r.trajectory.widths[-2] + 2 * len(cell["metrics"].class_lines)
               for r, cell in zip(replays, scene.cells))
    for epoch in np.linspace(0, max(float(r.epochs[-1]) for r in replays), 5):
        scene.epoch_clock.set_value(float(epoch))
        scene.update_mobjects(0)
        texts = text_boxes(scene)
        assert len(texts) == want, [t.text for t in texts]
        _no_overlaps(texts, epoch)
        _in_frame(scene, epoch)


def _still(replay: Replay) -> tuple[mn.Scene, np.ndarray, np.ndarray]:
    """The final state's still (480p), the scene, and the background colour (0-255)."""
    with mn.tempconfig({"dry_run": True, "quality": "low_quality", "disable_caching": True,
                        "progress_bar": "none", "verbosity": "ERROR",
                        "background_color": "#101418"}):
        scene = replay_scene_class(replay, epoch=float(replay.epochs[-1]))()
        scene.render()
        frame = np.asarray(scene.renderer.get_frame())[..., :3].astype(float)
        background = np.array(mn.config.background_color.to_rgb()) * 255
    return scene, frame, background


def _pixels(points: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of scene points (n, 2+) in a frame of ``shape`` (Manim's frame)."""
    h, w = shape[:2]
    cols = np.round((points[:, 0] / mn.config.frame_width + 0.5) * (w - 1)).astype(int)
    rows = np.round((0.5 - points[:, 1] / mn.config.frame_height) * (h - 1)).astype(int)
    return rows, cols


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rings-3", "blobs-3"])
def test_rendered_faces_show_the_colour_of_the_pair_of_classes_that_tie_there(space_runs, name):
    replay = Replay(space_runs[name])
    scene, frame, background = _still(replay)
    view = scene.panel.hidden
    classes = replay.trajectory.classes
    net = replay.frame(1.0).network
    kernel, bias = net.class_weights()
    faces = decision_faces(kernel, bias, view.half)
    assert faces
    azimuth, elevation = view.azimuth.get_value(), view.elevation

    def to_scene(p: np.ndarray) -> np.ndarray:  # the view's camera, recomputed here
        return view.center[:2] + view.size * orbit_camera(p, azimuth, elevation)[0]

    def pair_rgb(i: int, j: int) -> np.ndarray:  # the boundary colour, or the classes' mix
        if classes == 2:
            return np.array(BOUNDARY_COLOR.to_rgb())
        colors = class_colors(classes)
        return (np.array(colors[i].to_rgb()) + np.array(colors[j].to_rgb())) / 2

    outlines = [to_scene(poly) for poly, _ in faces]
    rng = np.random.default_rng(0)
    checked, exact, right = 0, 0, 0
    for poly, _ in faces:
        # Points of the face, mostly away from its edges; the pair that ties there comes from
        # the network's logits, not from the face's label.
        pts = rng.dirichlet(np.full(len(poly), 4.0), size=300) @ poly
        z = pts @ kernel + bias
        top_two = np.sort(np.argsort(z, axis=1)[:, -2:], axis=1)
        screen = to_scene(pts)
        # Only where this face alone covers the pixel (no other face over or under it).
        alone = sum(_inside_convex(screen, o).astype(int) for o in outlines) == 1
        rows, cols = _pixels(screen[alone], frame.shape)
        pixels = frame[rows, cols]
        want = np.array([(1 - REGION_FILL_OPACITY) * background
                         + REGION_FILL_OPACITY * 255 * pair_rgb(*p) for p in top_two[alone]])
        ok = np.abs(pixels - want).max(axis=1) < 8
        checked += int(alone.sum())
        exact += int(ok.sum())
        # Where a face pixel is not exact (a grid line, a point, an edge), it is still not the
        # plain background: something is drawn there.
        right += int(np.sum(ok | (np.abs(pixels - background).max(axis=1) > 8)))
    assert checked > 150
    # Grid lines, points and edges cover a third of them; the rest show the pair colour.
    assert exact / checked > 0.45, (exact, checked)
    assert right == checked
    # The background far outside the cube stays background (the fill is the faces').
    rows, cols = _pixels(np.array([[view.center[0], view.center[1] - 3.3]]), frame.shape)
    assert np.abs(frame[rows[0], cols[0]] - background).max() < 4


@pytest.mark.slow
def test_rendered_input_plane_boundary_lies_where_the_argmax_changes(space_runs):
    replay = Replay(space_runs["blobs-3"])
    scene, frame, _ = _still(replay)
    plane = scene.panel.input.plane
    net = replay.frame(1.0).network
    xmin, xmax, ymin, ymax = plane.scene_bounds
    h, w = frame.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    scene_x = (xs / (w - 1) - 0.5) * mn.config.frame_width
    scene_y = (0.5 - ys / (h - 1)) * mn.config.frame_height
    inside = (scene_x > xmin + 0.05) & (scene_x < xmax - 0.05) & (scene_y > ymin + 0.05) & (
        scene_y < ymax - 0.05)
    yellow = inside & (frame[..., 0] > 200) & (frame[..., 1] > 190) & (frame[..., 2] < 150)
    assert yellow.sum() > 100
    pixel = mn.config.frame_height / (h - 1) / plane.scale  # one pixel in data units
    points = plane.to_plane(np.column_stack([scene_x[yellow], scene_y[yellow]]))
    # Around every boundary pixel (within 3 pixels) the network's argmax takes two values.
    near = [net.predict(points + pixel * np.array(d)) for d in
            itertools.product((-3, 0, 3), repeat=2)]
    assert np.all(np.min(near, axis=0) != np.max(near, axis=0))
    # And a sample of pixels far from any tie (argmax constant within 6 pixels) is not yellow.
    grid = plane.to_plane(np.column_stack([scene_x[inside], scene_y[inside]]))[::37]
    far = [net.predict(grid + pixel * np.array(d)) for d in itertools.product((-6, 0, 6),
                                                                               repeat=2)]
    calm = np.min(far, axis=0) == np.max(far, axis=0)
    assert calm.sum() > 300
    assert not np.any(yellow[inside][::37][calm])
