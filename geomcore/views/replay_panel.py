"""The replay of a training run on one screen, and the plane views it is made of.

What lives here: :class:`_PlaneView` (a framed plane with a title and axis labels, the base
of every plane view), :class:`HiddenPlaneView`, :class:`InputPlaneView`,
:class:`DataPlaneView`, :class:`MetricsReadout`, :class:`LossCurve` and
:class:`ReplayPanel`, which puts the first four on screen driven by one clock.

Every block reads a :class:`~geomcore.replay.Replay` through a shared clock (a
``ValueTracker`` holding the replay's progress in [0, 1]) and redraws itself from the
network at that instant, so several views driven by the same clock always agree.

What it may import: Manim, numpy, the numpy side of geomcore (:mod:`geomcore.replay`,
:mod:`geomcore.extents`) and :mod:`geomcore.views.style`, :mod:`~geomcore.views.primitives`,
:mod:`~geomcore.views.layered`.

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations, *scene units* Manim's frame coordinates, *epochs* the run's training epochs.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence

import manim as mn
import numpy as np

from geomcore.extents import covering_box, log_range, replay_box, square_box
from geomcore.regions import decision_regions, pulled_back_boundaries
from geomcore.replay import Frame, Replay, boundary_contours
from geomcore.views.layered import Layered
from geomcore.views.primitives import (
    ClassPoints,
    GlyphText,
    GridLines,
    PlaneMap,
    Polylines,
    caption,
    caption_markup,
    frame_rect,
)
from geomcore.views.style import (
    AXIS_LABEL_FONT_SIZE_DROP,
    BOUNDARY_COLOR,
    BOUNDARY_STROKE,
    CURVE_STROKE,
    DECISION_LINE_STROKE,
    FAINT_GRID_STROKE,
    GRID_COLOR,
    LABEL_FONT_SIZE,
    PLOT_FRAME_STROKE,
    READOUT_FONT_SIZE,
    REGION_FILL_OPACITY,
    SMALL_FONT_SIZE,
    TITLE_FONT_SIZE,
    WARNING_COLOR,
    class_colors,
    classes_of,
)

log = logging.getLogger("geomcore")

__all__ = [
    "DataPlaneView",
    "HiddenPlaneView",
    "InputPlaneView",
    "LossCurve",
    "MetricsReadout",
    "ReplayPanel",
]


class _PlaneView(Layered):
    """A framed plane: map, frame, axis labels, a title; subclasses fill it.

    Parameters
    ----------
    plane
        Box (data or layer units) and its place in scene units.
    title
        Text above the frame, shown literally (:func:`~geomcore.views.primitives.caption`).
    labels
        Axis labels below and left of the frame: the code's own Pango markup
        (``h<sub>1</sub>``; see :func:`~geomcore.views.primitives.caption_markup`).
    font_size
        Of the title; axis labels are :data:`~geomcore.views.style.AXIS_LABEL_FONT_SIZE_DROP`
        smaller.
    """

    def __init__(self, plane: PlaneMap, title: str, labels: tuple[str, str],
                 font_size: float = TITLE_FONT_SIZE) -> None:
        super().__init__()
        self.plane = plane
        self.frame = frame_rect(plane)
        self.title = caption(title, font_size=font_size).next_to(self.frame, mn.UP, buff=0.12)
        label_size = font_size - AXIS_LABEL_FONT_SIZE_DROP
        self.axis_labels = mn.VGroup(
            caption_markup(labels[0], font_size=label_size).next_to(self.frame, mn.DOWN, buff=0.08),
            caption_markup(labels[1], font_size=label_size).next_to(self.frame, mn.LEFT, buff=0.08),
        )
        self.static.add(self.frame, self.title, self.axis_labels)


class HiddenPlaneView(_PlaneView):
    """The 2-unit hidden layer during a replay: warped grid, both classes, decision line.

    When the output unit's weights on this layer vanish (``a = b = 0``) there is no line:
    it is hidden and the text :attr:`NO_LINE` is shown instead.

    Parameters
    ----------
    replay
        The replay (its viewed layer must be 2 units wide).
    clock
        Shared ``ValueTracker`` of the replay's progress in [0, 1].
    center, width
        Placement in scene units.
    box
        Visible part of the layer, layer units. By default the square that holds every
        grid line and probe point the replay draws in this layer from start to end
        (:func:`geomcore.extents.replay_box`), for any activation; a box given is widened
        (:func:`geomcore.extents.covering_box`) if the replay leaves it. Whatever still
        falls outside between the sampled instants is drawn on the frame's edge.
    title
        Text above the frame.
    show_grid
        Draw the warped grid (else it is kept but transparent).

    Attributes
    ----------
    grid : GridLines
    clouds : dict[int, ClassPoints]
        Per class label.
    line : mobject.geometry.line.Line
        The decision line; hidden (opacity 0) when there is none in the box.
    no_boundary : GlyphText
        Shown instead of the line when the output unit ignores this layer (a = b = 0).
    """

    NO_LINE = "no decision line in view"

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 box: tuple[float, float, float, float] | None = None,
                 title: str = "hidden layer (2 units)", show_grid: bool = True) -> None:
        fitted = replay_box(replay)
        if box is not None:  # widened, if need be, to hold the fitted box's corners
            box = covering_box(box, np.array([[fitted[0], fitted[2]], [fitted[1], fitted[3]]]))
        super().__init__(PlaneMap(box or fitted, tuple(center), width), title,
                         ("h<sub>1</sub>", "h<sub>2</sub>"))
        self.replay, self.clock = replay, clock
        self.labels = replay.trajectory.probe_labels
        self.classes = replay.trajectory.classes
        # Each class's probe points, as indices: picked out of every frame's probe.
        self._members = {c: np.flatnonzero(self.labels == c) for c in range(self.classes)}
        colors = class_colors(self.classes)
        frame = replay.frame(clock.get_value())
        self.grid = GridLines(bounds=self.plane.scene_bounds)
        if not show_grid:
            self.grid.set_stroke(opacity=0)
        self.clouds = {
            c: ClassPoints(self.plane.to_scene(frame.probe[self._members[c]], clip=True),
                           colors[c])
            for c in range(self.classes)
        }
        # A softmax output of K units: each class's cell (geomcore.regions), faint fill in
        # the class's colour, edges in the boundary colour, below the grid and the points.
        self.softmax = frame.network.widths[-1] > 1
        self.regions = mn.VGroup(*(
            mn.Polygon(mn.ORIGIN, mn.RIGHT, mn.UP, color=BOUNDARY_COLOR,
                       stroke_width=DECISION_LINE_STROKE, fill_color=colors[c],
                       fill_opacity=REGION_FILL_OPACITY)
            for c in range(self.classes)
        ) if self.softmax else ())
        if self.softmax:
            self.dynamic.add(self.regions)
        self.line = mn.Line(mn.LEFT, mn.RIGHT, color=BOUNDARY_COLOR,
                            stroke_width=DECISION_LINE_STROKE)
        self.no_boundary = GlyphText(
            len(self.NO_LINE), font_size=LABEL_FONT_SIZE, color=BOUNDARY_COLOR,
            anchor=self.frame.get_corner(mn.DL) + 0.15 * mn.UP + 0.15 * mn.RIGHT,
        )
        self.dynamic.add(self.grid, *self.clouds.values(), self.line, self.no_boundary)
        self.show(frame)
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def show(self, frame: Frame) -> HiddenPlaneView:
        """Draw ``frame``: grid, points, decision line."""
        self.grid.set_lines(self.plane.to_scene(frame.grid))
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(frame.probe[self._members[c]], clip=True))
        if self.softmax:
            return self._show_regions(frame)
        segment = frame.decision_segment(self.plane.box)
        if segment is None:
            self.line.set_stroke(opacity=0)
            self.no_boundary.set_text(self.NO_LINE)
        else:
            start, end = self.plane.to_scene(segment)
            if np.allclose(start, end):
                end = end + 1e-4 * mn.RIGHT  # a corner touch: keep the line valid
            # The two ends as the line's points (Manim's put_start_and_end_on gets there by
            # scaling and rotating the old line: the same segment, ten times the work).
            self.line.set_points_as_corners(np.array([start, end]))
            self.line.set_stroke(opacity=1)
            self.no_boundary.set_text("")
        return self

    def _show_regions(self, frame: Frame) -> HiddenPlaneView:
        """The K classes' cells of ``frame``'s output layer (a class owning none is hidden)."""
        self.line.set_stroke(opacity=0)
        self.no_boundary.set_text("")
        kernel, bias = frame.network.class_weights()
        for polygon, cell in zip(self.regions, decision_regions(kernel, bias, self.plane.box)):
            if cell is None:
                polygon.set_fill(opacity=0).set_stroke(opacity=0)
                continue
            corners = self.plane.to_scene(cell)
            polygon.set_points_as_corners(np.vstack([corners, corners[:1]]))
            polygon.set_fill(opacity=REGION_FILL_OPACITY).set_stroke(opacity=1)
        return self


class InputPlaneView(_PlaneView):
    """The input plane during a replay: the data, the grid and the pulled-back boundary.

    The boundary is the curve where the network outputs 0.5 (the preimage of the decision
    line), traced by :func:`geomcore.replay.boundary_contours`.

    Parameters
    ----------
    replay, clock
        As for :class:`HiddenPlaneView`.
    center, width
        Placement in scene units.
    title
        Text above the frame.
    resolution
        Samples per axis for tracing the boundary.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 3.0,
                 title: str = "input plane", resolution: int = 120) -> None:
        traj = replay.trajectory
        # The run's bounds, widened if a probe point or grid line lies outside them.
        box = covering_box(traj.bounds, traj.probe_inputs, traj.grid_inputs)
        super().__init__(PlaneMap(box, tuple(center), width), title,
                         ("x<sub>1</sub>", "x<sub>2</sub>"))
        self.replay, self.clock, self.resolution = replay, clock, resolution
        self.grid = Polylines(GRID_COLOR, stroke_width=FAINT_GRID_STROKE, stroke_opacity=0.35)
        self.grid.set_polylines(self.plane.to_scene(traj.grid_inputs[:, :: 10]))
        labels = traj.probe_labels
        colors = class_colors(traj.classes)
        self.clouds = {
            c: ClassPoints(self.plane.to_scene(traj.probe_inputs[labels == c]), colors[c])
            for c in range(traj.classes)
        }
        self.boundary = Polylines(BOUNDARY_COLOR, stroke_width=BOUNDARY_STROKE)
        self.static.add(self.grid, *self.clouds.values())
        self.dynamic.add(self.boundary)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def show(self, frame: Frame) -> InputPlaneView:
        """Draw the boundary of ``frame``'s network."""
        if frame.network.widths[-1] > 1:  # softmax: where the two largest logits tie
            curves = [c for c, _ in pulled_back_boundaries(frame.network, self.plane.box,
                                                           self.resolution)]
        else:
            curves = boundary_contours(frame.network, self.plane.box, self.resolution)
        self.boundary.set_polylines([self.plane.to_scene(c) for c in curves])
        return self


class DataPlaneView(_PlaneView):
    """The input plane with the data, one point cloud per class, and a faint grid.

    Parameters
    ----------
    points : ndarray of shape (P, 2)
        Data units.
    labels : ndarray of shape (P,)
        Class of each point, 0 or 1.
    box
        Visible box, data units; widened (aspect kept,
        :func:`geomcore.extents.covering_box`) if a point or grid line lies outside it. By
        default the square holding the points and the grid
        (:func:`geomcore.extents.square_box`).
    center, width
        Placement in scene units.
    title
        Text above the frame.
    grid : ndarray of shape (G, M, 2), optional
        Grid lines, data units.
    """

    def __init__(self, points: np.ndarray, labels: np.ndarray, *,
                 box: tuple[float, float, float, float] | None = None,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 title: str = "input plane", grid: np.ndarray | None = None) -> None:
        shown = [points] if grid is None else [points, grid]
        box = square_box(shown) if box is None else covering_box(box, *shown)
        super().__init__(PlaneMap(box, tuple(center), width), title,
                         ("x<sub>1</sub>", "x<sub>2</sub>"))
        self.grid = Polylines(GRID_COLOR, stroke_width=FAINT_GRID_STROKE, stroke_opacity=0.35)
        if grid is not None:
            self.grid.set_polylines(self.plane.to_scene(grid))
        colors = class_colors(classes_of(labels))
        self.clouds = {c: ClassPoints(self.plane.to_scene(points[labels == c]), color)
                       for c, color in colors.items()}
        self.static.add(self.grid, *self.clouds.values())


class MetricsReadout(Layered):
    """Epoch counter, accuracy and loss of the network on screen.

    The epoch shown is the epoch of the interpolated weights, rounded down: the true epoch
    in progress. Accuracy and loss are the recorded values on the whole dataset,
    interpolated between snapshots. With K > 2 classes one more line per class, in its
    colour, gives the accuracy on that class's probe points (the network shown).

    Parameters
    ----------
    replay, clock
        As for :class:`HiddenPlaneView`.
    corner : array of shape (3,)
        Scene position of the readout's top-left corner.
    font_size
        Manim font size.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 corner: Sequence[float] = (0.0, 0.0, 0.0),
                 font_size: float = READOUT_FONT_SIZE) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        self.total = int(round(replay.epochs[-1]))
        # Values take 8 glyphs ("100/100", "  0.0123"); a run of 1,000 epochs or more needs a
        # wider epoch field, and the readout grows to the left so its right edge stays put.
        self.n_glyphs = max(8, len(f"{self.total}/{self.total}"))
        glyph = GlyphText(1, font_size=font_size).advance
        self.corner = (np.asarray(corner, dtype=np.float64)
                       - (self.n_glyphs - 8) * glyph * np.array([1.0, 0.0, 0.0]))
        self.step = font_size / 48 * 0.55
        anchors = [self.corner + i * 1.6 * self.step * mn.DOWN for i in range(3)]
        for name, anchor in zip(("epoch", "accuracy", "loss"), anchors):
            label = GlyphText(len(name), font_size=font_size, anchor=anchor).set_text(name)
            self.static.add(label)
        advance = 9 * self.static[0].advance
        self.lines = [GlyphText(self.n_glyphs, font_size=font_size,
                                anchor=a + advance * mn.RIGHT) for a in anchors]
        self.dynamic.add(*self.lines)
        traj = replay.trajectory
        self.class_lines: list[GlyphText] = []
        if traj.classes > 2:
            colors = class_colors(traj.classes)
            for c in range(traj.classes):
                anchor = self.corner + (3.5 + c) * 1.6 * self.step * mn.DOWN
                name = f"class {c}"
                self.static.add(GlyphText(len(name), font_size=font_size, anchor=anchor,
                                          color=colors[c]).set_text(name))
                self.class_lines.append(GlyphText(8, font_size=font_size,
                                                  anchor=anchor + advance * mn.RIGHT,
                                                  color=colors[c]))
            self.dynamic.add(*self.class_lines)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def strings(self, frame: Frame) -> list[str]:
        """The three values shown for ``frame`` (epoch, accuracy, loss)."""
        loss = f"{frame.loss:7.4f}"
        if len(loss) > self.n_glyphs:  # a loss of 1,000 or more: three significant digits
            loss = f"{frame.loss:8.2e}"
        return [
            f"{int(np.floor(frame.epoch + 1e-9)):>3d}/{self.total}",
            f"{100 * frame.accuracy:5.1f}%",
            loss,
        ]

    def class_strings(self, frame: Frame) -> list[str]:
        """Per-class accuracy on the probe points for ``frame`` (K > 2 classes; else empty)."""
        if not self.class_lines:
            return []
        traj = self.replay.trajectory
        with np.errstate(all="ignore"):
            per = frame.network.per_class_accuracy(traj.probe_inputs, traj.probe_labels)
        return [f"{100 * a:5.1f}%" if np.isfinite(a) else "    -" for a in per]

    def show(self, frame: Frame) -> MetricsReadout:
        """Show ``frame``'s epoch, accuracy and loss (and per-class accuracy for K > 2)."""
        for line, string in zip(self.lines, self.strings(frame)):
            line.set_text(string)
        for line, string in zip(self.class_lines, self.class_strings(frame)):
            line.set_text(string)
        return self


class LossCurve(Layered):
    """The loss curve growing in step with the replay (log scale).

    Parameters
    ----------
    replay, clock
        As for :class:`HiddenPlaneView`.
    center, width, height
        Placement in scene units.
    font_size
        Of the label; the epoch range below is 2 smaller.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 3.2,
                 height: float = 1.5, font_size: float = SMALL_FONT_SIZE) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        loss = replay.trajectory.loss[: replay.n_snapshots]
        lo, hi = log_range(loss)
        self.plane = PlaneMap((0.0, float(replay.epochs[-1]), lo, hi), tuple(center), width)
        # Squash the vertical range into `height` by a separate map.
        self.vscale = height / (hi - lo) / self.plane.scale
        self.log_loss = np.log10(np.maximum(loss, 1e-12))
        self.frame = mn.Rectangle(width=width, height=height, stroke_color=GRID_COLOR,
                                  stroke_width=PLOT_FRAME_STROKE).move_to(center)
        self.label = caption("loss (log scale)", font_size=font_size).next_to(
            self.frame, mn.UP, buff=0.08)
        self.xlabel = caption(f"epoch 0 … {int(round(replay.epochs[-1]))}",
                              font_size=font_size - 2).next_to(self.frame, mn.DOWN, buff=0.06)
        self.curve = Polylines(BOUNDARY_COLOR, stroke_width=CURVE_STROKE)
        self.static.add(self.frame, self.label, self.xlabel)
        self.dynamic.add(self.curve)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def to_scene(self, epochs: np.ndarray, log_loss: np.ndarray) -> np.ndarray:
        """Scene points ``(n, 3)`` of ``epochs`` ``(n,)`` and ``log10`` losses ``(n,)``."""
        mid = 0.5 * (self.plane.box[2] + self.plane.box[3])
        return self.plane.to_scene(np.column_stack([epochs, mid + (log_loss - mid) * self.vscale]))

    def show(self, frame: Frame) -> LossCurve:
        """Draw the curve from epoch 0 up to ``frame``'s epoch."""
        n = int(np.floor(frame.snapshot)) + 1
        e = np.append(self.replay.epochs[:n], frame.epoch)
        v = np.append(self.log_loss[:n], np.log10(max(frame.loss, 1e-12)))
        self.curve.set_polylines([self.to_scene(e, v)])
        return self


class ReplayPanel(Layered):
    """A whole training replay on one screen: input plane, hidden plane, readout, loss curve.

    All four are driven by one clock, :attr:`clock`; :meth:`play_training` animates it.

    A run that diverged is replayed up to its last finite snapshot and :attr:`notice` says
    so on screen (``"training diverged at epoch X — replay stops there"``, see
    :attr:`geomcore.replay.Replay.notice`). A run that did not learn (see
    :attr:`geomcore.trajectory.Trajectory.no_learning`) is drawn as recorded and a warning
    goes to the ``geomcore`` logger and the verdict is shown on screen.

    Parameters
    ----------
    replay
        The replay.
    title
        Shown above the hidden-plane view.
    hidden_box
        The hidden plane's visible box, layer units; tanh's range with a margin by default
        (an unbounded activation such as ReLU needs :func:`geomcore.extents.layer_box`).

    Attributes
    ----------
    notice : MarkupText or None
        The on-screen notice of a diverged run or of a run that did not learn, below the
        readout; ``None`` otherwise.
    """

    def __init__(self, replay: Replay, *, title: str = "",
                 hidden_box: tuple[float, float, float, float] = (-1.15, 1.15, -1.15, 1.15),
                 ) -> None:
        super().__init__()
        self.replay = replay
        verdict = replay.trajectory.learning_verdict()
        if verdict is not None:
            log.warning("%s; the replay shows a network that did not learn", verdict)
        self.clock = mn.ValueTracker(0.0)
        self.hidden = self._hidden_view(replay, title, hidden_box)
        self.input = InputPlaneView(replay, self.clock, center=(-4.95, 0.95, 0), width=3.0,
                                    title="input plane")
        self.metrics = MetricsReadout(replay, self.clock, corner=(3.75, 1.4, 0),
                                      font_size=TITLE_FONT_SIZE)
        self.loss = LossCurve(replay, self.clock, center=(-4.95, -1.95, 0), width=3.0,
                              height=1.0)
        self.blocks = (self.input, self.hidden, self.metrics, self.loss)
        # The panel's layers are its blocks' layers, so add_layered(scene, panel) works.
        self.remove(self.static, self.dynamic)
        self.static = mn.Group(*[b.static for b in self.blocks])
        self.notice: mn.MarkupText | None = None
        # A diverged run says where it stops; a run that did not learn says so on screen too.
        message = replay.notice or verdict
        if message is not None:
            self.notice = caption("\n".join(textwrap.wrap(message, width=24)),
                                  font_size=LABEL_FONT_SIZE, color=WARNING_COLOR,
                                  max_width=3.3)
            self.notice.move_to((3.75, 0.0, 0), aligned_edge=mn.UL)
            self.static.add(self.notice)
        self.dynamic = mn.Group(*[b.dynamic for b in self.blocks])
        self.add(self.static, self.dynamic)

    def _hidden_view(self, replay: Replay, title: str,
                     hidden_box: tuple[float, float, float, float]) -> Layered:
        """The view of the viewed layer, in the middle of the screen."""
        # Laid out to leave the bottom 0.9 scene units to two lines of narration captions.
        return HiddenPlaneView(replay, self.clock, center=(0.55, -0.1, 0), width=4.9,
                               title=title or "hidden layer before the output unit",
                               box=hidden_box)

    def play_training(self, run_time: float = 20.0) -> mn.Animation:
        """The animation that replays the whole run in ``run_time`` seconds."""
        return self.clock.animate(
            run_time=run_time, rate_func=mn.rate_functions.linear
        ).set_value(1.0)
