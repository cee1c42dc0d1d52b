"""Anatomy of a network on screen: a layer's steps, 3-D layers, folds, curves over epochs.

What lives here: :class:`StageView` (a 2->2 layer in its three steps, with the unit circle
turning into the kernel's ellipse), :class:`LayerMorphView` (data and grid travelling through
2-unit layers), :class:`SpaceView` (a 3-D layer seen by an orbiting camera),
:class:`CurvePlot` (quantities over epochs with a cursor), :class:`FoldPanel` (fold curves
in the input plane and in a 2-unit layer) and :func:`embed_scene`.

The geometry is computed on the numpy side (:mod:`geomcore.anatomy`,
:mod:`geomcore.extents`, :mod:`geomcore.replay`); the blocks here only map it to scene
units and draw it.

What it may import: Manim, numpy, the numpy side of geomcore, and the other
:mod:`geomcore.views` modules (style, primitives, layered, replay_panel).

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations, *scene units* Manim's frame coordinates, *degrees* camera angles, *epochs* the
run's training epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import manim as mn
import numpy as np

from geomcore.anatomy import (
    SpaceContent,
    fold_curves,
    kernel_ellipse,
    layer_steps,
    orbit_camera,
)
from geomcore.extents import (
    covering_box,
    cube_edges,
    homotopy_box,
    layer_steps_box,
    padded_range,
    surface_wireframe,
    unit_circle_image,
)
from geomcore.regions import decision_faces
from geomcore.replay import Replay, layer_homotopy
from geomcore.views.layered import Layered
from geomcore.views.primitives import (
    ClassPoints,
    GridLines,
    PlaneMap,
    Polylines,
    caption,
    caption_markup,
)
from geomcore.views.replay_panel import DataPlaneView, HiddenPlaneView, _PlaneView
from geomcore.views.style import (
    BOUNDARY_COLOR,
    CURSOR_STROKE,
    CURVE_STROKE,
    ELLIPSE_COLOR,
    ELLIPSE_STROKE,
    FAINT_GRID_STROKE,
    FOLD_COLOR,
    FOLD_STROKE,
    GRID_COLOR,
    LABEL_FONT_SIZE,
    PLOT_FRAME_STROKE,
    REGION_FILL_OPACITY,
    SURFACE_STROKE,
    TEXT_COLOR,
    TINY_FONT_SIZE,
    TITLE_FONT_SIZE,
    ZERO_LINE_STROKE,
    class_colors,
    classes_of,
)

__all__ = [
    "CurvePlot",
    "FoldPanel",
    "LayerMorphView",
    "SpaceView",
    "StageView",
    "embed_scene",
    "face_color",
]


def embed_scene(xy: np.ndarray, z: float = 0.0) -> np.ndarray:
    """Scene points ``(..., 3)`` from plane points ``(..., 2)`` (scene units), at depth ``z``."""
    xy = np.asarray(xy, dtype=np.float64)
    out = np.empty((*xy.shape[:-1], 3))
    out[..., :2] = xy
    out[..., 2] = z
    return out


class LayerMorphView(_PlaneView):
    """Data and grid travelling through a network's 2-unit layers ("looking inside a layer").

    A ``ValueTracker`` ``depth`` holds the layers travelled: at ``depth = n`` every point and
    grid line sits where the first ``n`` layers send it (see
    :func:`geomcore.replay.layer_homotopy`); in between they move in straight lines.

    Parameters
    ----------
    network
        Network whose first layers are 2 units wide.
    points : ndarray of shape (P, 2)
        Data points, data units.
    labels : ndarray of shape (P,)
        Their classes.
    grid : ndarray of shape (G, M, 2)
        Grid lines, data units.
    depth
        ``ValueTracker`` of layers travelled.
    center, width
        Placement in scene units.
    box
        Visible box; by default the square holding data and grid at every depth
        (:func:`geomcore.extents.homotopy_box`), for any activation. A box given is widened
        (aspect kept) if they leave it.
    title
        Text above the frame.
    """

    def __init__(self, network: object, points: np.ndarray, labels: np.ndarray,
                 grid: np.ndarray, depth: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 box: tuple[float, float, float, float] | None = None,
                 title: str = "") -> None:
        fitted = homotopy_box(network, points, grid)
        if box is not None:
            box = covering_box(box, np.array([[fitted[0], fitted[2]], [fitted[1], fitted[3]]]))
        super().__init__(PlaneMap(box or fitted, tuple(center), width), title, ("", ""))
        self.network, self.inputs, self.labels, self.grid_inputs = network, points, labels, grid
        self.tracker = depth
        self.grid = GridLines(bounds=self.plane.scene_bounds)
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), color)
                       for c, color in class_colors(classes_of(labels)).items()}
        self.dynamic.add(self.grid, *self.clouds.values())
        self.show(depth.get_value())
        self.follow(depth, self.show)

    def show(self, depth: float) -> LayerMorphView:
        """Place data and grid ``depth`` layers deep."""
        grid = layer_homotopy(self.network, self.grid_inputs, depth)
        self.grid.set_lines(self.plane.to_scene(grid))
        pts = layer_homotopy(self.network, self.inputs, depth)
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(pts[self.labels == c], clip=True))
        return self


class SpaceView(Layered):
    """A 3-D layer drawn in the plane by an orbiting orthographic camera.

    Titles and captions stay fixed in the frame while the camera turns: only the cube,
    the points, the grid and the surface are projected (by
    :func:`geomcore.anatomy.orbit_camera`).

    When the content carries the output layer's class weights (a 3-unit layer that feeds
    the output directly, see :class:`~geomcore.anatomy.SpaceContent`), the faces where the
    two largest class logits tie (:func:`geomcore.regions.decision_faces`, clipped to the
    drawn cube) are drawn like the decision surface: a faint fill, edges in the boundary
    colour. The fill is the boundary colour for two classes, else the mix of the two
    classes' colours (:func:`face_color`); faces are drawn far to near.

    Parameters
    ----------
    source
        ``source(value) -> SpaceContent`` for the value of ``tracker``.
    tracker
        Drives the content (a replay clock, or a step of a layer).
    labels : ndarray of shape (P,)
        Class of each probe point.
    azimuth
        ``ValueTracker`` of the camera's azimuth, degrees.
    elevation
        Camera elevation, degrees.
    center, size
        Placement in scene units; ``size`` is the scene length of a unit of the layer.
    axis_names
        Labels at the positive end of each axis: the code's own Pango markup
        (``h<sub>1</sub>``; escape user text with
        :func:`~geomcore.views.primitives.markup_escape`).
    title
        Text above the cube.
    half_side
        Half the side of the cube drawn around the layer, layer units.
    classes
        Number of classes (for the faces' colours); by default from ``labels``.

    Attributes
    ----------
    faces : VGroup
        One polygon per pair of classes (K (K - 1) / 2 of them); at each instant the first
        ones hold the faces in view, far to near, the others no points.
    face_pairs : list of (int, int)
        The class pair of each polygon of :attr:`faces` now in use, in order.
    """

    def __init__(self, source: Callable[[float], SpaceContent], tracker: mn.ValueTracker,
                 labels: np.ndarray, azimuth: mn.ValueTracker, *, elevation: float = 20.0,
                 center: Sequence[float] = (0.0, 0.0, 0.0), size: float = 1.8,
                 axis_names: Sequence[str] = ("h<sub>1</sub>", "h<sub>2</sub>", "h<sub>3</sub>"),
                 title: str = "", half_side: float = 1.0, classes: int | None = None) -> None:
        super().__init__()
        self.source, self.tracker, self.labels = source, tracker, labels
        self.classes = classes or classes_of(labels)
        self.azimuth, self.elevation = azimuth, elevation
        self.center = np.asarray(center, dtype=np.float64)
        self.size, self.half = size, half_side
        if title:
            self.title = caption(title, font_size=TITLE_FONT_SIZE).move_to(
                self.center + (1.95 * size * half_side) * mn.UP)
            self.static.add(self.title)
        self.cube = Polylines(GRID_COLOR, stroke_width=FAINT_GRID_STROKE, stroke_opacity=0.6)
        self.grid = Polylines(GRID_COLOR, stroke_width=FAINT_GRID_STROKE, stroke_opacity=0.5,
                              smooth=True)
        self.surface = Polylines(BOUNDARY_COLOR, stroke_width=SURFACE_STROKE,
                                 stroke_opacity=0.75)
        content = source(tracker.get_value())
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), color)
                       for c, color in class_colors(classes_of(labels)).items()}
        self.axis_markup = [caption_markup(n, font_size=LABEL_FONT_SIZE) for n in axis_names]
        pairs = self.classes * (self.classes - 1) // 2
        self.faces = mn.VGroup(*(
            mn.VMobject(stroke_color=BOUNDARY_COLOR, stroke_width=SURFACE_STROKE,
                        stroke_opacity=0.75, fill_opacity=REGION_FILL_OPACITY)
            for _ in range(pairs)))
        self.face_pairs: list[tuple[int, int]] = []
        self.dynamic.add(self.cube, self.grid, self.faces, self.surface,
                         *self.clouds.values(), *self.axis_markup)
        self.show(content)
        self.follow(tracker, lambda v: self.show(self.source(v)))

    def to_scene(self, points: np.ndarray) -> np.ndarray:
        """Project layer points ``(..., 3)`` to scene points ``(..., 3)``.

        Points outside the cube are first moved onto it (clipped per coordinate), so
        nothing is drawn outside the cube's outline; pick ``half_side`` to hold the layer
        (e.g. from the run's extent) so that this never happens.
        """
        points = np.clip(points, -self.half, self.half)
        screen, _ = orbit_camera(points, self.azimuth.get_value(), self.elevation)
        return embed_scene(self.center[:2] + self.size * screen, self.center[2])

    def show(self, content: SpaceContent) -> SpaceView:
        """Draw ``content`` from the current camera angle."""
        self.cube.set_polylines(self.to_scene(cube_edges(self.half)))
        self.grid.set_polylines(self.to_scene(content.grid))
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.to_scene(content.probe[self.labels == c]))
        self._show_faces(content)
        if content.surface is None:
            self.surface.set_polylines(np.zeros((0, 2, 3)))
        else:
            self.surface.set_polylines(
                [self.to_scene(line) for line in surface_wireframe(content.surface)])
        for k, mob in enumerate(self.axis_markup):
            end = np.zeros(3)
            end[k] = 1.18 * self.half  # labels sit just beyond the cube: not clipped
            screen, _ = orbit_camera(end, self.azimuth.get_value(), self.elevation)
            mob.move_to(embed_scene(self.center[:2] + self.size * screen, self.center[2]))
        return self

    def _show_faces(self, content: SpaceContent) -> None:
        """Fill the face polygons, far to near, from the content's class weights."""
        faces = ([] if content.class_weights is None
                 else decision_faces(*content.class_weights, self.half))
        depth = [float(np.mean(orbit_camera(poly, self.azimuth.get_value(),
                                            self.elevation)[1])) for poly, _ in faces]
        faces = [faces[i] for i in np.argsort(depth, kind="stable")]
        self.face_pairs = [pair for _, pair in faces]
        for k, mob in enumerate(self.faces):
            if k >= len(faces):
                mob.clear_points()
                continue
            polygon, pair = faces[k]
            corners = self.to_scene(polygon)
            mob.set_points_as_corners(np.vstack([corners, corners[:1]]))
            mob.set_fill(face_color(pair, self.classes), opacity=REGION_FILL_OPACITY)


def face_color(pair: tuple[int, int], classes: int) -> mn.ManimColor:
    """The fill of the face between classes ``pair``: the boundary colour for two classes,
    else the even mix (in RGB) of the two classes' colours (:func:`class_colors`)."""
    if classes <= 2:
        return BOUNDARY_COLOR
    colors = class_colors(classes)
    return mn.interpolate_color(colors[pair[0]], colors[pair[1]], 0.5)


class StageView(_PlaneView):
    """A 2->2 layer applied in its three steps to the data and the grid, in the plane.

    ``tracker`` in [0, 3]: inputs, linear map, bias, activation (see
    :func:`geomcore.anatomy.layer_steps`). During the linear step the unit circle is drawn
    turning into the kernel's ellipse (:func:`geomcore.extents.unit_circle_image`), with its
    semi-axes (the singular values).

    Parameters
    ----------
    network
        The network.
    layer
        A 2->2 layer, by index or name.
    points : ndarray of shape (P, 2)
        Data points, data units.
    labels : ndarray of shape (P,)
        Class of each point.
    grid : ndarray of shape (G, M, 2)
        Grid lines, data units.
    tracker
        ``ValueTracker`` of the step.
    center, width
        Placement in scene units.
    box
        Visible box, data and layer units; by default one that holds every step
        (:func:`geomcore.extents.layer_steps_box`).
    title
        Text above the frame.
    """

    def __init__(self, network: object, layer: int | str, points: np.ndarray,
                 labels: np.ndarray, grid: np.ndarray, tracker: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 5.0,
                 box: tuple[float, float, float, float] | None = None,
                 title: str = "") -> None:
        if box is None:
            box = layer_steps_box(network, layer, grid)
        super().__init__(PlaneMap(box, tuple(center), width), title, ("", ""))
        self.network, self.layer = network, layer
        self.inputs, self.labels, self.grid_inputs = points, labels, grid
        self.tracker = tracker
        self.kernel = network.kernels[network.layer_index(layer)].astype(np.float64)
        self.ellipse = kernel_ellipse(network.kernels[network.layer_index(layer)])
        self.grid = GridLines(bounds=self.plane.scene_bounds)
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), color)
                       for c, color in class_colors(classes_of(labels)).items()}
        self.circle = Polylines(ELLIPSE_COLOR, stroke_width=ELLIPSE_STROKE,
                                bounds=self.plane.scene_bounds)
        self.axes_lines = Polylines(ELLIPSE_COLOR, stroke_width=ELLIPSE_STROKE,
                                    bounds=self.plane.scene_bounds)
        self.dynamic.add(self.grid, *self.clouds.values(), self.circle, self.axes_lines)
        self.show(tracker.get_value())
        self.follow(tracker, self.show)

    def show(self, t: float) -> StageView:
        """Place data and grid at step ``t`` of the layer."""
        shape = self.grid_inputs.shape
        grid = layer_steps(self.network, self.layer, self.grid_inputs.reshape(-1, 2), t)
        self.grid.set_lines(self.plane.to_scene(grid.reshape(*shape[:2], 2)))
        pts = layer_steps(self.network, self.layer, self.inputs, t)
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(pts[self.labels == c], clip=True))
        # The unit circle follows the linear step only, then fades out.
        self.circle.set_polylines([self.plane.to_scene(unit_circle_image(self.kernel, t))])
        opacity = 1.0 if t <= 1.0 else max(0.0, 1.0 - 2 * (t - 1.0))
        self.circle.set_stroke(opacity=opacity)
        if 0.999 <= t <= 1.5:
            axes = [np.array([-a, a]) for a in self.ellipse.axes]
            self.axes_lines.set_polylines([self.plane.to_scene(a) for a in axes])
            self.axes_lines.set_stroke(opacity=opacity)
        else:
            self.axes_lines.set_polylines(np.zeros((0, 2, 3)))
        return self


class CurvePlot(Layered):
    """Curves of a quantity over epochs with a zero line and a cursor at the current epoch.

    Parameters
    ----------
    epochs : ndarray of shape (S,)
        Epochs of the samples.
    curves : dict of label -> ndarray of shape (S,)
        One curve per label, in the quantity's units; the legend shows the labels.
    center, width, height
        Placement in scene units.
    title
        Text above the frame.
    cursor
        ``cursor() -> epoch`` for the moving marker (or ``None``).
    tracker
        Drives the cursor.
    colors
        One colour per curve, in order.

    Attributes
    ----------
    legend : VGroup
        One label per curve, in its colour, right of the frame (clear of the curves).
    """

    def __init__(self, epochs: np.ndarray, curves: dict[str, np.ndarray], *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.0,
                 height: float = 2.2, title: str = "",
                 cursor: Callable[[], float] | None = None,
                 tracker: mn.ValueTracker | None = None,
                 colors: Sequence[mn.ParsableManimColor] = (ELLIPSE_COLOR, FOLD_COLOR)) -> None:
        super().__init__()
        lo, hi = padded_range(np.concatenate([*curves.values()]))
        center = np.asarray(center, dtype=np.float64)
        self.x0, self.y0 = center[0] - width / 2, center[1] - height / 2
        self.xs = width / float(epochs[-1] - epochs[0] or 1.0)
        self.ys = height / (hi - lo)
        self.e0, self.lo, self.height = float(epochs[0]), lo, height
        frame = mn.Rectangle(width=width, height=height, stroke_color=GRID_COLOR,
                             stroke_width=PLOT_FRAME_STROKE).move_to(center)
        zero = Polylines(TEXT_COLOR, stroke_width=ZERO_LINE_STROKE, stroke_opacity=0.6)
        zero.set_polylines([self.to_scene(np.array([epochs[0], epochs[-1]]), np.zeros(2))])
        self.static.add(frame, zero)
        if title:
            self.static.add(caption(title, font_size=LABEL_FONT_SIZE)
                            .next_to(frame, mn.UP, buff=0.1))
        zero_label = caption("0", font_size=TINY_FONT_SIZE).next_to(zero.points[0], mn.LEFT,
                                                                    buff=0.08)
        self.static.add(zero_label, caption(f"epoch {epochs[0]:g} … {epochs[-1]:g}",
                                            font_size=TINY_FONT_SIZE)
                        .next_to(frame, mn.DOWN, buff=0.06))
        anchor = frame.get_corner(mn.UR) + 0.12 * mn.RIGHT
        self.legend = mn.VGroup()
        for (label, ys), color in zip(curves.items(), colors):
            line = Polylines(color, stroke_width=CURVE_STROKE)
            line.set_polylines([self.to_scene(epochs, ys)])
            # Legend beside the frame, right of its top corner, one row per curve: inside
            # the frame it sat on the curves.
            tag = caption(label, font_size=TINY_FONT_SIZE, color=color)
            tag.move_to(anchor, aligned_edge=mn.UL)
            anchor = anchor + (tag.height + 0.08) * mn.DOWN
            self.legend.add(tag)
            self.static.add(line, tag)
        self.cursor = Polylines(BOUNDARY_COLOR, stroke_width=CURSOR_STROKE)
        self.dynamic.add(self.cursor)
        if cursor is not None and tracker is not None:
            self._cursor_fn = cursor
            self.show(0)
            self.follow(tracker, self.show)

    def to_scene(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Scene points ``(n, 3)`` of epochs ``x`` ``(n,)`` and values ``y`` ``(n,)``."""
        return embed_scene(np.column_stack([self.x0 + (np.asarray(x) - self.e0) * self.xs,
                                            self.y0 + (np.asarray(y) - self.lo) * self.ys]))

    def show(self, _value: float) -> CurvePlot:
        """Move the cursor to the epoch ``cursor()`` returns."""
        e = float(self._cursor_fn())
        ys = np.array([self.lo, self.lo + self.height / self.ys])
        self.cursor.set_polylines([self.to_scene(np.array([e, e]), ys)])
        return self


class FoldPanel(mn.Group):
    """Where a trained network folds the plane: fold curves in the input plane and their image
    on the warped grid of the 2-unit layer.

    Fold curves come from :func:`geomcore.anatomy.fold_curves` (zero set of the Jacobian
    determinant of the map from the input plane to the viewed layer).

    Parameters
    ----------
    replay
        The run; it is shown at ``progress``.
    progress
        Replay progress in [0, 1].
    input_center, hidden_center
        Centres of the two planes, scene units.
    width
        Scene width of the hidden plane; the input plane is 0.8 of it.
    """

    def __init__(self, replay: Replay, *, progress: float = 1.0,
                 input_center: Sequence[float] = (-3.6, -0.4, 0),
                 hidden_center: Sequence[float] = (2.2, -0.4, 0), width: float = 4.6) -> None:
        super().__init__()
        traj = replay.trajectory
        net = replay.network_at(progress)
        layer = replay.layer
        self.curves = fold_curves(net, traj.bounds, upto=layer)
        self.input = DataPlaneView(traj.probe_inputs, traj.probe_labels, box=traj.bounds,
                                   center=input_center, width=width * 0.8, title="input plane",
                                   grid=traj.grid_inputs[:, ::10])
        self.hidden = HiddenPlaneView(replay, mn.ValueTracker(progress), center=hidden_center,
                                      width=width,
                                      title=f"{layer} (2 units)")
        self.hidden.dynamic.clear_updaters()
        self.input_folds = Polylines(FOLD_COLOR, stroke_width=FOLD_STROKE,
                                     bounds=self.input.plane.scene_bounds)
        self.input_folds.set_polylines([self.input.plane.to_scene(c) for c in self.curves])
        self.hidden_folds = Polylines(FOLD_COLOR, stroke_width=FOLD_STROKE,
                                      bounds=self.hidden.plane.scene_bounds)
        self.hidden_folds.set_polylines(
            [self.hidden.plane.to_scene(net.forward(c, upto=layer)) for c in self.curves])
        self.add(self.input, self.hidden, self.input_folds, self.hidden_folds)
