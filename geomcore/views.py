"""Manim building blocks for replaying trajectories: the one place that draws.

This is the only geomcore module that imports Manim (the numpy core never does). Every block
reads a :class:`~geomcore.replay.Replay` through a shared clock (a ``ValueTracker`` holding
the replay's progress in [0, 1]) and redraws itself from the network at that instant, so
several views driven by the same clock always agree.

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations, *scene units* Manim's frame coordinates (the frame is 14.22 x 8 at 16:9).
Points are one ``PMobject`` per class; grids and curves one ``VMobject`` with sub-paths.
"""

from __future__ import annotations

import contextlib
import logging
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import manim as mn
import numpy as np

from geomcore.anatomy import SpaceContent
from geomcore.replay import Frame, Replay, boundary_contours

log = logging.getLogger("geomcore")

__all__ = [
    "BOUNDARY_COLOR",
    "CLASS_COLORS",
    "GRID_COLOR",
    "ClassPoints",
    "CurvePlot",
    "HiddenPlaneView",
    "InputPlaneView",
    "Layered",
    "LossCurve",
    "Narrator",
    "MetricsReadout",
    "PlaneMap",
    "GlyphText",
    "GridLines",
    "Polylines",
    "ReplayPanel",
    "SpaceContent",
    "SpaceView",
    "StageView",
    "DataPlaneView",
    "FoldPanel",
    "layer_box",
    "LayerMorphView",
    "add_layered",
    "caption",
    "class_legend",
    "polylines_to_bezier",
]

#: One colour per class, the same in every scene: class 0 (inner ring), class 1 (outer ring).
CLASS_COLORS = {0: mn.ManimColor("#FF9F43"), 1: mn.ManimColor("#48A9E6")}
#: The decision boundary, in both planes: stands out against both classes and the grid.
BOUNDARY_COLOR = mn.ManimColor("#FFE66D")
#: Grid lines.
GRID_COLOR = mn.ManimColor("#8A8F98")
#: Text.
TEXT_COLOR = mn.ManimColor("#EDEDED")
#: Warnings on screen (a run that diverged).
WARNING_COLOR = mn.ManimColor("#FF6B6B")
FONT = "DejaVu Sans"
MONO_FONT = "DejaVu Sans Mono"


@dataclass(frozen=True)
class PlaneMap:
    """Affine map from a box in data or layer units to a rectangle in scene units.

    Parameters
    ----------
    box
        ``(umin, umax, vmin, vmax)`` in data or layer units.
    center : array of shape (3,)
        Scene position of the box's centre.
    width
        Scene width of the box; the height keeps the box's aspect ratio.
    """

    box: tuple[float, float, float, float]
    center: tuple[float, float, float]
    width: float

    @property
    def scale(self) -> float:
        """Scene units per data (or layer) unit."""
        return self.width / (self.box[1] - self.box[0])

    @property
    def height(self) -> float:
        return (self.box[3] - self.box[2]) * self.scale

    def to_scene(self, points: np.ndarray) -> np.ndarray:
        """Map points of shape ``(..., 2)`` to scene points of shape ``(..., 3)``."""
        p = np.asarray(points, dtype=np.float64)
        out = np.zeros((*p.shape[:-1], 3))
        out[..., 0] = self.center[0] + (p[..., 0] - 0.5 * (self.box[0] + self.box[1])) * self.scale
        out[..., 1] = self.center[1] + (p[..., 1] - 0.5 * (self.box[2] + self.box[3])) * self.scale
        out[..., 2] = self.center[2]
        return out

    def to_plane(self, points: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_scene`: scene points ``(..., 3)`` to ``(..., 2)``."""
        p = np.asarray(points, dtype=np.float64)
        u = (p[..., 0] - self.center[0]) / self.scale + 0.5 * (self.box[0] + self.box[1])
        v = (p[..., 1] - self.center[1]) / self.scale + 0.5 * (self.box[2] + self.box[3])
        return np.stack([u, v], axis=-1)


def polylines_to_bezier(
    lines: Sequence[np.ndarray] | np.ndarray, *, smooth: bool = False
) -> np.ndarray:
    """Cubic Bézier control points of polylines, for one ``VMobject`` with sub-paths.

    Straight: each segment ``p -> q`` becomes ``(p, p + (q-p)/3, p + 2(q-p)/3, q)``.
    Smooth: a Catmull-Rom spline through the points (uniform parametrisation; Catmull and
    Rom, 1974), i.e. handles ``p_i + (p_{i+1} - p_{i-1})/6`` and
    ``p_{i+1} - (p_{i+2} - p_i)/6``, so the curve is C1 and passes through every point.
    Manim starts a new sub-path wherever a curve does not begin where the last one ended.

    Parameters
    ----------
    lines
        Polylines, each of shape ``(m, 3)`` (``m >= 2``), or one array ``(L, m, 3)``.
    smooth
        Catmull-Rom instead of straight segments.

    Returns
    -------
    ndarray of shape (4 * segments, 3)
    """
    if isinstance(lines, np.ndarray) and lines.ndim == 3:
        p, q = lines[:, :-1], lines[:, 1:]
        if smooth:
            before = np.concatenate([lines[:, :1], lines[:, :-2]], axis=1)
            after = np.concatenate([lines[:, 2:], lines[:, -1:]], axis=1)
            h1, h2 = p + (q - before) / 6, q - (after - p) / 6
        else:
            h1, h2 = p + (q - p) / 3, p + 2 * (q - p) / 3
        return np.stack([p, h1, h2, q], axis=-2).reshape(-1, 3)
    parts = [polylines_to_bezier(np.asarray(line)[None], smooth=smooth)
             for line in lines if len(line) >= 2]
    return np.concatenate(parts) if parts else np.zeros((0, 3))


class Polylines(mn.VMobject):
    """Many polylines drawn as one stroked ``VMobject`` (grids, boundary curves).

    With ``smooth=True`` the lines are Catmull-Rom splines through their points (see
    :func:`polylines_to_bezier`).
    """

    def __init__(self, color: mn.ParsableManimColor = GRID_COLOR, stroke_width: float = 1.5,
                 stroke_opacity: float = 1.0, smooth: bool = False, **kwargs: object) -> None:
        super().__init__(stroke_color=color, stroke_width=stroke_width,
                         stroke_opacity=stroke_opacity, fill_opacity=0, **kwargs)
        self.smooth = smooth

    def set_polylines(self, lines: Sequence[np.ndarray] | np.ndarray) -> Polylines:
        """Replace the drawn polylines (scene units, each ``(m, 3)``)."""
        self.points = polylines_to_bezier(lines, smooth=self.smooth)
        return self


class GridLines(mn.VGroup):
    """A warped grid: the vertical and the horizontal family as two smooth ``Polylines``.

    Lines of one family never cross while the map is injective, so stroking each family as
    one path is cheap for Cairo; crossing families in one path is not.

    Parameters
    ----------
    stride
        Draw every ``stride``-th sample of each line; the Catmull-Rom spline through them
        keeps saturated tanh curves smooth.
    """

    def __init__(self, stroke_width: float = 1.2, stroke_opacity: float = 0.55,
                 stride: int = 4) -> None:
        self.families = [Polylines(GRID_COLOR, stroke_width, stroke_opacity, smooth=True)
                         for _ in range(2)]
        super().__init__(*self.families)
        self.stride = stride

    def sample_index(self, samples: int) -> np.ndarray:
        """Indices of the samples drawn out of ``samples`` (the last one always included)."""
        idx = np.arange(0, samples, self.stride)
        return idx if idx[-1] == samples - 1 else np.append(idx, samples - 1)

    def set_lines(self, lines: np.ndarray) -> GridLines:
        """Draw grid lines ``(G, M, 3)`` in scene units, vertical family first (``G/2``)."""
        lines = lines[:, self.sample_index(lines.shape[1])]
        half = lines.shape[0] // 2
        self.families[0].set_polylines(lines[:half])
        self.families[1].set_polylines(lines[half:])
        return self


class ClassPoints(mn.PMobject):
    """The points of one class, drawn as one point cloud.

    Parameters
    ----------
    points : ndarray of shape (n, 3)
        Scene positions.
    color
        The class colour.
    size
        Dot size in pixels at 1080p (scaled with the render's height).
    """

    def __init__(self, points: np.ndarray, color: mn.ParsableManimColor, size: float = 4.0,
                 opacity: float = 0.9) -> None:
        pixels = max(1, round(size * mn.config.pixel_height / 1080))
        super().__init__(stroke_width=pixels)
        self.add_points(np.asarray(points, dtype=np.float64), color=color, alpha=opacity)

    def set_positions(self, points: np.ndarray) -> ClassPoints:
        """Move the points (same count), scene units ``(n, 3)``."""
        self.points = np.asarray(points, dtype=np.float64)
        return self


def caption(text: str, font_size: float = 26, color: mn.ParsableManimColor = TEXT_COLOR,
            max_width: float = 13.4, **kwargs: object) -> mn.MarkupText:
    """Text in the lecture's font (Pango markup allowed: ``h<sub>1</sub>``); no LaTeX needed.

    Text wider than ``max_width`` scene units is scaled down to fit, so it stays in frame.
    """
    text_mob = mn.MarkupText(text, font=FONT, font_size=font_size, color=color, **kwargs)
    if text_mob.width > max_width:
        text_mob.scale_to_fit_width(max_width)
    return text_mob


def _frame_rect(m: PlaneMap) -> mn.Rectangle:
    return mn.Rectangle(width=m.width, height=m.height, stroke_color=GRID_COLOR,
                        stroke_width=1.5).move_to(m.center)


class Layered(mn.Group):
    """A block split into a ``static`` and a ``dynamic`` layer.

    Manim's Cairo renderer draws mobjects that do not move into a cached background once
    per animation, but only those that come before the first mobject with an updater in
    the scene's list. A block whose updater sits on its ``dynamic`` layer alone can be put
    in a scene as ``scene.add(*block.layers())`` so its frames, titles and labels are
    drawn once instead of every frame (see :func:`add_layered`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.static = mn.Group()
        self.dynamic = mn.Group()
        self.add(self.static, self.dynamic)

    def layers(self) -> tuple[mn.Group, mn.Group]:
        """``(static, dynamic)``: add them to a scene in this order."""
        return self.static, self.dynamic

    def follow(self, tracker: mn.ValueTracker, show: object) -> None:
        """Redraw with ``show(tracker value)`` on every frame (an updater on ``dynamic``)."""
        self.dynamic.add_updater(lambda _m: show(tracker.get_value()))


def add_layered(scene: mn.Scene, *blocks: Layered) -> None:
    """Put blocks in ``scene`` static layers first, so only dynamic layers are redrawn.

    A block already in the scene (e.g. after ``FadeIn(block)``) is replaced by its layers.
    """
    scene.remove(*blocks)
    statics = [b.static for b in blocks]
    dynamics = [b.dynamic for b in blocks]
    scene.add(*statics, *dynamics)


class _PlaneView(Layered):
    """A framed plane: map, frame, axis labels, a title; subclasses fill it."""

    def __init__(self, plane: PlaneMap, title: str, labels: tuple[str, str],
                 font_size: float = 22) -> None:
        super().__init__()
        self.plane = plane
        self.frame = _frame_rect(plane)
        self.title = caption(title, font_size=font_size).next_to(self.frame, mn.UP, buff=0.12)
        self.axis_labels = mn.VGroup(
            caption(labels[0], font_size=font_size - 4).next_to(self.frame, mn.DOWN, buff=0.08),
            caption(labels[1], font_size=font_size - 4).next_to(self.frame, mn.LEFT, buff=0.08),
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
        Visible part of the layer, layer units; tanh's range with a margin by default.
    title
        Text above the frame.

    Attributes
    ----------
    grid : Polylines
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
                 box: tuple[float, float, float, float] = (-1.15, 1.15, -1.15, 1.15),
                 title: str = "hidden layer (2 units)", show_grid: bool = True) -> None:
        super().__init__(PlaneMap(box, tuple(center), width), title,
                         ("h<sub>1</sub>", "h<sub>2</sub>"))
        self.replay, self.clock = replay, clock
        self.labels = replay.trajectory.probe_labels
        frame = replay.frame(clock.get_value())
        self.grid = GridLines()
        if not show_grid:
            self.grid.set_stroke(opacity=0)
        self.clouds = {
            c: ClassPoints(self.plane.to_scene(frame.probe[self.labels == c]), CLASS_COLORS[c])
            for c in (0, 1)
        }
        self.line = mn.Line(mn.LEFT, mn.RIGHT, color=BOUNDARY_COLOR, stroke_width=5)
        self.no_boundary = GlyphText(
            len(self.NO_LINE), font_size=20, color=BOUNDARY_COLOR,
            anchor=self.frame.get_corner(mn.DL) + 0.15 * mn.UP + 0.15 * mn.RIGHT,
        )
        self.dynamic.add(self.grid, self.clouds[0], self.clouds[1], self.line, self.no_boundary)
        self.show(frame)
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def show(self, frame: Frame) -> HiddenPlaneView:
        """Draw ``frame``: grid, points, decision line."""
        self.grid.set_lines(self.plane.to_scene(frame.grid))
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(frame.probe[self.labels == c]))
        segment = frame.decision_segment(self.plane.box)
        if segment is None:
            self.line.set_stroke(opacity=0)
            self.no_boundary.set_text(self.NO_LINE)
        else:
            start, end = self.plane.to_scene(segment)
            if np.allclose(start, end):
                end = end + 1e-4 * mn.RIGHT  # a corner touch: keep the line valid
            self.line.put_start_and_end_on(start, end)
            self.line.set_stroke(opacity=1)
            self.no_boundary.set_text("")
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
    resolution
        Samples per axis for tracing the boundary.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 3.0,
                 title: str = "input plane", resolution: int = 120) -> None:
        traj = replay.trajectory
        super().__init__(PlaneMap(traj.bounds, tuple(center), width), title,
                         ("x<sub>1</sub>", "x<sub>2</sub>"))
        self.replay, self.clock, self.resolution = replay, clock, resolution
        self.grid = Polylines(GRID_COLOR, stroke_width=1.0, stroke_opacity=0.35)
        self.grid.set_polylines(self.plane.to_scene(traj.grid_inputs[:, :: 10]))
        labels = traj.probe_labels
        self.clouds = {
            c: ClassPoints(self.plane.to_scene(traj.probe_inputs[labels == c]), CLASS_COLORS[c])
            for c in (0, 1)
        }
        self.boundary = Polylines(BOUNDARY_COLOR, stroke_width=4)
        self.static.add(self.grid, self.clouds[0], self.clouds[1])
        self.dynamic.add(self.boundary)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def show(self, frame: Frame) -> InputPlaneView:
        """Draw the boundary of ``frame``'s network."""
        curves = boundary_contours(frame.network, self.plane.box, self.resolution)
        self.boundary.set_polylines([self.plane.to_scene(c) for c in curves])
        return self


class GlyphText(mn.VMobject):
    """A fixed-width line of monospace text that can change every frame: one ``VMobject``.

    Glyph outlines are rendered by Pango once per character and cached; setting the text
    concatenates the cached outlines into this one mobject's points. The mobject itself
    never changes, so Manim keeps drawing it during an animation (swapping in new ``Text``
    objects mid-animation leaves the old ones on screen), and a whole line is one Cairo
    fill, not one per character.

    Parameters
    ----------
    n_chars
        Maximum number of characters; longer strings are cut.
    font_size
        Manim font size.
    anchor : array of shape (3,)
        Scene position of the left end of the baseline.
    color
        Fill colour.
    """

    _glyph_cache: dict[tuple[str, float], tuple[np.ndarray, float]] = {}

    def __init__(self, n_chars: int, *, font_size: float = 24,
                 anchor: Sequence[float] = (0.0, 0.0, 0.0),
                 color: mn.ParsableManimColor = TEXT_COLOR) -> None:
        super().__init__(fill_color=color, fill_opacity=1.0, stroke_width=0)
        self.n_chars = n_chars
        self.font_size_ = font_size
        self.anchor = np.asarray(anchor, dtype=np.float64)
        self.string = ""
        self.advance = self._glyph("0")[1]

    def _glyph(self, char: str) -> tuple[np.ndarray, float]:
        """Outline of ``char`` relative to the left end of its baseline, and the advance."""
        key = (char, self.font_size_)
        if key not in self._glyph_cache:
            # "XX" + char: the glyph's place next to two known glyphs gives baseline and advance.
            ref = mn.Text("XX" + char, font=MONO_FONT, font_size=self.font_size_)
            x1, x2 = ref.submobjects[0], ref.submobjects[1]
            advance = float(x2.get_left()[0] - x1.get_left()[0])
            origin = x1.get_corner(mn.DL) + [2 * advance, 0.0, 0.0]
            glyphs = ref.submobjects
            pts = glyphs[2].points - origin if len(glyphs) > 2 else np.zeros((0, 3))
            self._glyph_cache[key] = (np.array(pts), advance)
        return self._glyph_cache[key]

    def set_text(self, string: str) -> GlyphText:
        """Show ``string`` (cut to ``n_chars`` characters); the empty string shows nothing."""
        string = string[: self.n_chars]
        if string != self.string:
            parts = [
                self._glyph(char)[0] + self.anchor + [i * self.advance, 0.0, 0.0]
                for i, char in enumerate(string)
                if not char.isspace()
            ]
            self.points = np.concatenate(parts) if parts else np.zeros((0, 3))
            self.string = string
        return self


class MetricsReadout(Layered):
    """Epoch counter, accuracy and loss of the network on screen.

    The epoch shown is the epoch of the interpolated weights, rounded down: the true epoch
    in progress. Accuracy and loss are the recorded values on the whole dataset,
    interpolated between snapshots.

    Parameters
    ----------
    replay, clock
        As for :class:`HiddenPlaneView`.
    corner : array of shape (3,)
        Scene position of the readout's top-left corner.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 corner: Sequence[float] = (0.0, 0.0, 0.0), font_size: float = 24) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        self.total = int(round(replay.epochs[-1]))
        self.corner = np.asarray(corner, dtype=np.float64)
        self.step = font_size / 48 * 0.55
        anchors = [self.corner + i * 1.6 * self.step * mn.DOWN for i in range(3)]
        for name, anchor in zip(("epoch", "accuracy", "loss"), anchors):
            label = GlyphText(len(name), font_size=font_size, anchor=anchor).set_text(name)
            self.static.add(label)
        advance = 9 * self.static[0].advance
        self.lines = [GlyphText(8, font_size=font_size, anchor=a + advance * mn.RIGHT)
                      for a in anchors]
        self.dynamic.add(*self.lines)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def strings(self, frame: Frame) -> list[str]:
        """The three values shown for ``frame`` (epoch, accuracy, loss)."""
        return [
            f"{int(np.floor(frame.epoch + 1e-9)):>3d}/{self.total}",
            f"{100 * frame.accuracy:5.1f}%",
            f"{frame.loss:7.4f}",
        ]

    def show(self, frame: Frame) -> MetricsReadout:
        for line, string in zip(self.lines, self.strings(frame)):
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
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 3.2,
                 height: float = 1.5, font_size: float = 18) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        loss = replay.trajectory.loss[: replay.n_snapshots]
        logs = np.log10(np.maximum(loss, 1e-12))
        lo, hi = float(np.floor(logs.min() * 2) / 2), float(np.ceil(logs.max() * 2) / 2)
        if hi - lo < 0.5:
            hi = lo + 0.5
        self.plane = PlaneMap((0.0, float(replay.epochs[-1]), lo, hi), tuple(center), width)
        # Squash the vertical range into `height` by a separate map.
        self.vscale = height / (hi - lo) / self.plane.scale
        self.log_loss = logs
        self.frame = mn.Rectangle(width=width, height=height, stroke_color=GRID_COLOR,
                                  stroke_width=1.2).move_to(center)
        self.label = caption("loss (log scale)", font_size=font_size).next_to(
            self.frame, mn.UP, buff=0.08)
        self.xlabel = caption(f"epoch 0 … {int(round(replay.epochs[-1]))}",
                              font_size=font_size - 2).next_to(self.frame, mn.DOWN, buff=0.06)
        self.curve = Polylines(BOUNDARY_COLOR, stroke_width=2.5)
        self.static.add(self.frame, self.label, self.xlabel)
        self.dynamic.add(self.curve)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def to_scene(self, epochs: np.ndarray, log_loss: np.ndarray) -> np.ndarray:
        mid = 0.5 * (self.plane.box[2] + self.plane.box[3])
        pts = self.plane.to_scene(np.column_stack([epochs, mid + (log_loss - mid) * self.vscale]))
        return pts

    def show(self, frame: Frame) -> LossCurve:
        n = int(np.floor(frame.snapshot)) + 1
        e = np.append(self.replay.epochs[:n], frame.epoch)
        v = np.append(self.log_loss[:n], np.log10(max(frame.loss, 1e-12)))
        self.curve.set_polylines([self.to_scene(e, v)])
        return self


class ReplayPanel(Layered):
    """A whole training replay on one screen: input plane, hidden plane, readout, loss curve.

    All four are driven by one clock, :attr:`clock`; :meth:`play` animates it.

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

    Attributes
    ----------
    notice : MarkupText or None
        The on-screen notice of a diverged run or of a run that did not learn, below the
        readout; ``None`` otherwise.
    """

    def __init__(self, replay: Replay, *, title: str = "") -> None:
        super().__init__()
        self.replay = replay
        verdict = replay.trajectory.learning_verdict()
        if verdict is not None:
            log.warning("%s; the replay shows a network that did not learn", verdict)
        self.clock = mn.ValueTracker(0.0)
        # Laid out to leave the bottom 0.9 scene units to two lines of narration captions.
        self.hidden = HiddenPlaneView(replay, self.clock, center=(0.55, -0.1, 0), width=4.9,
                                      title=title or "hidden layer before the output unit")
        self.input = InputPlaneView(replay, self.clock, center=(-4.95, 0.95, 0), width=3.0,
                                    title="input plane")
        self.metrics = MetricsReadout(replay, self.clock, corner=(3.75, 1.4, 0), font_size=22)
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
                                  font_size=20, color=WARNING_COLOR, max_width=3.3)
            self.notice.move_to((3.75, 0.0, 0), aligned_edge=mn.UL)
            self.static.add(self.notice)
        self.dynamic = mn.Group(*[b.dynamic for b in self.blocks])
        self.add(self.static, self.dynamic)

    def play_training(self, run_time: float = 20.0) -> mn.Animation:
        """The animation that replays the whole run in ``run_time`` seconds."""
        return self.clock.animate(
            run_time=run_time, rate_func=mn.rate_functions.linear
        ).set_value(1.0)


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
    box
        Visible box, covering both the data and the layers' range.
    """

    def __init__(self, network: object, points: np.ndarray, labels: np.ndarray,
                 grid: np.ndarray, depth: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 box: tuple[float, float, float, float] = (-1.25, 1.25, -1.25, 1.25),
                 title: str = "") -> None:
        super().__init__(PlaneMap(box, tuple(center), width), title, ("", ""))
        from geomcore.replay import layer_homotopy

        self._homotopy = layer_homotopy
        self.network, self.inputs, self.labels, self.grid_inputs = network, points, labels, grid
        self.tracker = depth
        self.grid = GridLines()
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), CLASS_COLORS[c])
                       for c in (0, 1)}
        self.dynamic.add(self.grid, self.clouds[0], self.clouds[1])
        self.show(depth.get_value())
        self.follow(depth, self.show)

    def show(self, depth: float) -> LayerMorphView:
        """Place data and grid ``depth`` layers deep."""
        grid = self._homotopy(self.network, self.grid_inputs, depth)
        self.grid.set_lines(self.plane.to_scene(grid))
        pts = self._homotopy(self.network, self.inputs, depth)
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(pts[self.labels == c]))
        return self


class DataPlaneView(_PlaneView):
    """The input plane with the data, one point cloud per class, and a faint grid.

    Parameters
    ----------
    points : ndarray of shape (P, 2)
        Data units.
    labels : ndarray of shape (P,)
    box
        Visible box, data units.
    """

    def __init__(self, points: np.ndarray, labels: np.ndarray, *,
                 box: tuple[float, float, float, float],
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 title: str = "input plane", grid: np.ndarray | None = None) -> None:
        super().__init__(PlaneMap(box, tuple(center), width), title,
                         ("x<sub>1</sub>", "x<sub>2</sub>"))
        self.grid = Polylines(GRID_COLOR, stroke_width=1.0, stroke_opacity=0.35)
        if grid is not None:
            self.grid.set_polylines(self.plane.to_scene(grid))
        self.clouds = {c: ClassPoints(self.plane.to_scene(points[labels == c]), CLASS_COLORS[c])
                       for c in (0, 1)}
        self.static.add(self.grid, self.clouds[0], self.clouds[1])


def class_legend(names: dict[int, str], font_size: float = 22) -> mn.VGroup:
    """A legend: a dot in each class colour and its name, one row per class."""
    rows = mn.VGroup()
    for c in (1, 0):
        dot = mn.Dot(radius=0.08, color=CLASS_COLORS[c])
        rows.add(mn.VGroup(dot, caption(names[c], font_size=font_size).next_to(dot, mn.RIGHT)))
    return rows.arrange(mn.DOWN, aligned_edge=mn.LEFT, buff=0.15)


# -- issue 5: anatomy of a layer, topology, folds, 3-D and 4-D layers -------------------------

#: Fold curves (where the map to a 2-unit layer stops being locally invertible).
FOLD_COLOR = mn.ManimColor("#E056C1")
#: The unit circle and its image under a kernel.
ELLIPSE_COLOR = mn.ManimColor("#7BE0AD")


class SpaceView(Layered):
    """A 3-D layer drawn in the plane by an orbiting orthographic camera.

    Titles and captions stay fixed in the frame while the camera turns: only the cube,
    the points, the grid and the surface are projected (by
    :func:`geomcore.anatomy.orbit_camera`).

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
        Labels at the positive end of each axis (Pango markup).
    """

    def __init__(self, source: object, tracker: mn.ValueTracker, labels: np.ndarray,
                 azimuth: mn.ValueTracker, *, elevation: float = 20.0,
                 center: Sequence[float] = (0.0, 0.0, 0.0), size: float = 1.8,
                 axis_names: Sequence[str] = ("h<sub>1</sub>", "h<sub>2</sub>", "h<sub>3</sub>"),
                 title: str = "", half_side: float = 1.0) -> None:
        super().__init__()
        from geomcore.anatomy import orbit_camera

        self._camera = orbit_camera
        self.source, self.tracker, self.labels = source, tracker, labels
        self.azimuth, self.elevation = azimuth, elevation
        self.center = np.asarray(center, dtype=np.float64)
        self.size, self.half = size, half_side
        if title:
            self.title = caption(title, font_size=22).move_to(
                self.center + (1.95 * size * half_side) * mn.UP)
            self.static.add(self.title)
        self.cube = Polylines(GRID_COLOR, stroke_width=1.0, stroke_opacity=0.6)
        self.grid = Polylines(GRID_COLOR, stroke_width=1.0, stroke_opacity=0.5, smooth=True)
        self.surface = Polylines(BOUNDARY_COLOR, stroke_width=1.4, stroke_opacity=0.75)
        content = source(tracker.get_value())
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), CLASS_COLORS[c])
                       for c in (0, 1)}
        self.axis_markup = [caption(n, font_size=20) for n in axis_names]
        self.dynamic.add(self.cube, self.grid, self.surface, self.clouds[0], self.clouds[1],
                         *self.axis_markup)
        self.show(content)
        self.follow(tracker, lambda v: self.show(self.source(v)))

    def to_scene(self, points: np.ndarray) -> np.ndarray:
        """Project layer points ``(..., 3)`` to scene points ``(..., 3)``."""
        screen, _ = self._camera(points, self.azimuth.get_value(), self.elevation)
        return embed_scene(self.center[:2] + self.size * screen, self.center[2])

    def _cube_edges(self) -> np.ndarray:
        h = self.half
        corners = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)])
        edges = [(i, j) for i in range(8) for j in range(i + 1, 8)
                 if np.sum(corners[i] != corners[j]) == 1]
        return np.stack([np.linspace(corners[i], corners[j], 2) for i, j in edges])

    def show(self, content: SpaceContent) -> SpaceView:
        """Draw ``content`` from the current camera angle."""
        self.cube.set_polylines(self.to_scene(self._cube_edges()))
        self.grid.set_polylines(self.to_scene(content.grid))
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.to_scene(content.probe[self.labels == c]))
        if content.surface is None:
            self.surface.set_polylines(np.zeros((0, 2, 3)))
        else:
            s = content.surface
            rulings = s[:: max(1, s.shape[0] // 12)]
            across = s[:, :: max(1, s.shape[1] // 6)].transpose(1, 0, 2)
            self.surface.set_polylines([*self.to_scene(rulings), *self.to_scene(across)])
        for k, mob in enumerate(self.axis_markup):
            end = np.zeros(3)
            end[k] = 1.18 * self.half
            mob.move_to(self.to_scene(end))
        return self


def embed_scene(xy: np.ndarray, z: float = 0.0) -> np.ndarray:
    """Scene points ``(..., 3)`` from plane points ``(..., 2)``."""
    xy = np.asarray(xy, dtype=np.float64)
    out = np.empty((*xy.shape[:-1], 3))
    out[..., :2] = xy
    out[..., 2] = z
    return out


class StageView(_PlaneView):
    """A 2->2 layer applied in its three steps to the data and the grid, in the plane.

    ``tracker`` in [0, 3]: inputs, linear map, bias, activation (see
    :func:`geomcore.anatomy.layer_steps`). During the linear step the unit circle is drawn
    turning into the kernel's ellipse, with its semi-axes (the singular values).

    Parameters
    ----------
    network
        The network.
    layer
        A 2->2 layer, by index or name.
    points : ndarray of shape (P, 2)
        Data points, data units.
    labels : ndarray of shape (P,)
    grid : ndarray of shape (G, M, 2)
    tracker
        ``ValueTracker`` of the step.
    box
        Visible box, data and layer units.
    """

    def __init__(self, network: object, layer: int | str, points: np.ndarray,
                 labels: np.ndarray, grid: np.ndarray, tracker: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 5.0,
                 box: tuple[float, float, float, float] | None = None,
                 title: str = "") -> None:
        from geomcore.anatomy import kernel_ellipse, layer_steps

        if box is None:
            # Big enough for every step: the largest coordinate the grid reaches, plus 10 %.
            flat = grid.reshape(-1, 2)
            reach = max(float(np.abs(layer_steps(network, layer, flat, t)).max())
                        for t in (0.0, 1.0, 2.0, 3.0))
            reach = max(reach, 1.0) * 1.1
            box = (-reach, reach, -reach, reach)
        super().__init__(PlaneMap(box, tuple(center), width), title, ("", ""))

        self._steps = layer_steps
        self.network, self.layer = network, layer
        self.inputs, self.labels, self.grid_inputs = points, labels, grid
        self.tracker = tracker
        self.ellipse = kernel_ellipse(network.kernels[network.layer_index(layer)])
        self.grid = GridLines(stride=4)
        self.clouds = {c: ClassPoints(np.zeros((int(np.sum(labels == c)), 3)), CLASS_COLORS[c])
                       for c in (0, 1)}
        self.circle = Polylines(ELLIPSE_COLOR, stroke_width=3)
        self.axes_lines = Polylines(ELLIPSE_COLOR, stroke_width=3)
        self.dynamic.add(self.grid, self.clouds[0], self.clouds[1], self.circle, self.axes_lines)
        self.show(tracker.get_value())
        self.follow(tracker, self.show)

    def show(self, t: float) -> StageView:
        """Place data and grid at step ``t`` of the layer."""
        shape = self.grid_inputs.shape
        grid = self._steps(self.network, self.layer, self.grid_inputs.reshape(-1, 2), t)
        self.grid.set_lines(self.plane.to_scene(grid.reshape(*shape[:2], 2)))
        pts = self._steps(self.network, self.layer, self.inputs, t)
        for c, cloud in self.clouds.items():
            cloud.set_positions(self.plane.to_scene(pts[self.labels == c]))
        # The unit circle follows the linear step only, then fades out.
        theta = np.linspace(0, 2 * np.pi, 120)
        circle = np.column_stack([np.cos(theta), np.sin(theta)])
        k = self.network.kernels[self.network.layer_index(self.layer)].astype(np.float64)
        s = float(np.clip(t, 0, 1))
        self.circle.set_polylines([self.plane.to_scene((1 - s) * circle + s * circle @ k)])
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
    curves : dict of label -> ndarray of shape (S,)
    cursor
        ``cursor() -> epoch`` for the moving marker (or ``None``).
    tracker
        Drives the cursor.
    """

    def __init__(self, epochs: np.ndarray, curves: dict[str, np.ndarray], *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.0,
                 height: float = 2.2, title: str = "", cursor: object = None,
                 tracker: mn.ValueTracker | None = None,
                 colors: Sequence[mn.ParsableManimColor] = (ELLIPSE_COLOR, FOLD_COLOR)) -> None:
        super().__init__()
        values = np.concatenate([*curves.values(), [0.0]])
        lo, hi = float(values.min()), float(values.max())
        pad = 0.1 * (hi - lo or 1.0)
        lo, hi = lo - pad, hi + pad
        center = np.asarray(center, dtype=np.float64)
        self.x0, self.y0 = center[0] - width / 2, center[1] - height / 2
        self.xs = width / float(epochs[-1] - epochs[0] or 1.0)
        self.ys = height / (hi - lo)
        self.e0, self.lo, self.height = float(epochs[0]), lo, height
        frame = mn.Rectangle(width=width, height=height, stroke_color=GRID_COLOR,
                             stroke_width=1.2).move_to(center)
        zero = Polylines(TEXT_COLOR, stroke_width=1.5, stroke_opacity=0.6)
        zero.set_polylines([self.to_scene(np.array([epochs[0], epochs[-1]]), np.zeros(2))])
        self.static.add(frame, zero)
        if title:
            self.static.add(caption(title, font_size=20).next_to(frame, mn.UP, buff=0.1))
        zero_label = caption("0", font_size=16).next_to(zero.points[0], mn.LEFT, buff=0.08)
        self.static.add(zero_label, caption(f"epoch {epochs[0]:g} … {epochs[-1]:g}",
                                            font_size=16).next_to(frame, mn.DOWN, buff=0.06))
        anchor = frame.get_corner(mn.UR) + 0.08 * (mn.DOWN + mn.LEFT)
        for (label, ys), color in zip(curves.items(), colors):
            line = Polylines(color, stroke_width=2.5)
            line.set_polylines([self.to_scene(epochs, ys)])
            # Legend inside the frame's top-right corner, one row per curve.
            tag = caption(label, font_size=16, color=color)
            tag.move_to(anchor, aligned_edge=mn.UR)
            anchor = anchor + (tag.height + 0.06) * mn.DOWN
            self.static.add(line, tag)
        self.cursor = Polylines(BOUNDARY_COLOR, stroke_width=2)
        self.dynamic.add(self.cursor)
        if cursor is not None and tracker is not None:
            self._cursor_fn = cursor
            self.show(0)
            self.follow(tracker, self.show)

    def to_scene(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return embed_scene(np.column_stack([self.x0 + (np.asarray(x) - self.e0) * self.xs,
                                            self.y0 + (np.asarray(y) - self.lo) * self.ys]))

    def show(self, _value: float) -> CurvePlot:
        e = float(self._cursor_fn())
        ys = np.array([self.lo, self.lo + self.height / self.ys])
        self.cursor.set_polylines([self.to_scene(np.array([e, e]), ys)])
        return self


def layer_box(trajectory: object, layer: str, margin: float = 0.08) -> tuple[float, float,
                                                                               float, float]:
    """A square box holding a layer's recorded grid and probe images at every snapshot.

    For tanh layers this is about ``(-1, 1)^2``; unbounded activations (ReLU) need it.
    """
    arrays = trajectory.arrays  # type: ignore[attr-defined]
    pts = np.concatenate([arrays[f"grid.{layer}"].reshape(-1, 2),
                          arrays[f"probe.{layer}"].reshape(-1, 2)]).astype(np.float64)
    lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
    mid, half = 0.5 * (lo + hi), 0.5 * float(np.max(hi - lo)) * (1 + margin) + 1e-6
    return (mid[0] - half, mid[0] + half, mid[1] - half, mid[1] + half)


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
    """

    def __init__(self, replay: Replay, *, progress: float = 1.0,
                 input_center: Sequence[float] = (-3.6, -0.4, 0),
                 hidden_center: Sequence[float] = (2.2, -0.4, 0), width: float = 4.6) -> None:
        super().__init__()
        from geomcore.anatomy import fold_curves

        traj = replay.trajectory
        net = replay.network_at(progress)
        layer = replay.layer
        self.curves = fold_curves(net, traj.bounds, upto=layer)
        self.input = DataPlaneView(traj.probe_inputs, traj.probe_labels, box=traj.bounds,
                                   center=input_center, width=width * 0.8, title="input plane",
                                   grid=traj.grid_inputs[:, ::10])
        self.hidden = HiddenPlaneView(replay, mn.ValueTracker(progress), center=hidden_center,
                                      width=width, box=layer_box(traj, layer),
                                      title=f"{layer} (2 units)")
        self.hidden.dynamic.clear_updaters()
        self.input_folds = Polylines(FOLD_COLOR, stroke_width=4)
        self.input_folds.set_polylines([self.input.plane.to_scene(c) for c in self.curves])
        self.hidden_folds = Polylines(FOLD_COLOR, stroke_width=4)
        self.hidden_folds.set_polylines(
            [self.hidden.plane.to_scene(net.forward(c, upto=layer)) for c in self.curves])
        self.add(self.input, self.hidden, self.input_folds, self.hidden_folds)


# -- issue 6: narration as captions, subcaptions and (optionally) speech ------------------------


class Narrator:
    """Speaks or shows a lecture's narration in step with its animations.

    ``with narrator.say("data.rings"): scene.play(...)`` shows the cue as a caption at the
    bottom of the frame while the animations inside run, then waits until the cue has been
    on screen for its reading time (:func:`geomcore.narration.reading_time`) or, with a
    voice, until the speech ends. Each cue is also written as a subcaption, so every render
    writes an ``.srt`` file beside the video.

    The voice is manim-voiceover's: when ``scene`` is a ``VoiceoverScene`` with a speech
    service set (``create_subcaption=False``; the narrator writes the subcaptions), each cue
    is synthesised and added to the soundtrack.

    Parameters
    ----------
    scene
        The scene being built.
    narration
        The lecture's cues.
    """

    def __init__(self, scene: mn.Scene, narration: object) -> None:
        self.scene, self.narration = scene, narration
        self.cues_shown: list[tuple[str, float, float]] = []

    @property
    def voiced(self) -> bool:
        """Whether cues are spoken (the scene has a manim-voiceover speech service)."""
        return getattr(self.scene, "speech_service", None) is not None

    def caption_mobject(self, text: str) -> mn.VGroup:
        """The on-screen caption: the text on a dark band at the bottom of the frame."""
        # Wrap long cues onto two or three lines rather than shrinking them.
        label = caption("\n".join(textwrap.wrap(text, width=72)), font_size=22,
                        max_width=12.8, line_spacing=1.0)
        band = mn.RoundedRectangle(
            corner_radius=0.08, width=label.width + 0.4, height=label.height + 0.22,
            fill_color=mn.config.background_color, fill_opacity=0.82, stroke_width=0,
        )
        group = mn.VGroup(band, label.move_to(band))
        return group.to_edge(mn.DOWN, buff=0.1)

    @contextlib.contextmanager
    def say(self, cue: str) -> Iterator[float]:
        """Show (and speak) ``cue`` while the block runs; yields the cue's minimum duration.

        Raises
        ------
        geomcore.narration.NarrationError
            If there is no such cue.
        """
        from geomcore.narration import reading_time

        text = self.narration[cue]
        duration = reading_time(text)
        if self.voiced:
            tracker = self.scene.add_voiceover_text(text)
            duration = max(duration, float(tracker.duration))
        start = self.scene.time
        band = self.caption_mobject(text)
        self.scene.add_foreground_mobject(band)
        try:
            yield duration
            remaining = duration - (self.scene.time - start)
            if remaining > 1e-3:
                self.scene.wait(remaining)
        finally:
            self.scene.remove_foreground_mobject(band)
            self.scene.remove(band)
        shown = self.scene.time - start
        self.scene.add_subcaption(text, duration=shown, offset=-shown)
        self.cues_shown.append((cue, start, shown))

    def chapter_card(self, title: str, seconds: float = 1.6) -> None:
        """A chapter title over the whole frame at a section start."""
        card = caption(title, font_size=40, color=BOUNDARY_COLOR)
        self.scene.play(mn.FadeIn(card, scale=1.05), run_time=0.5)
        self.scene.wait(max(0.0, seconds - 1.0))
        self.scene.play(mn.FadeOut(card), run_time=0.5)
