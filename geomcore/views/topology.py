"""Topology measured on screen: winding readout, nesting event, unbounded region, ReLU regions.

What lives here: :class:`WindingReadout` (the winding number of the outer ring's image around
the inner ring's image, live during a replay), :func:`nesting_event_mark` (the epoch where
the inner ring leaves, marked on a :class:`~geomcore.views.replay_panel.LossCurve`),
:class:`RegionOfRingView` (the decision region holding the inner ring, in a large box) and
:class:`LinearRegionsView` (the exact linear regions of a ReLU network and its exact decision
boundary, live during a replay, with their count against the bound).

Every number drawn is measured by :mod:`geomcore.topology` from the network on screen.

What it may import: Manim, numpy, the numpy side of geomcore and the views modules before it
(:mod:`~geomcore.views.style`, :mod:`~geomcore.views.primitives`,
:mod:`~geomcore.views.layered`, :mod:`~geomcore.views.replay_panel`).

Units: *data units* in the input plane, *layer units* in a hidden layer, *scene units* on the
frame, *epochs* of training.
"""

from __future__ import annotations

from collections.abc import Sequence

import contourpy
import manim as mn
import numpy as np

from geomcore.replay import Frame, Replay
from geomcore.topology import (
    LinearRegions,
    Nesting,
    RegionOfRing,
    linear_regions,
    nesting_at,
    ring_curves,
)
from geomcore.views.layered import Layered
from geomcore.views.primitives import (
    GlyphText,
    PlaneMap,
    Polylines,
    caption,
    frame_rect,
    polylines_to_bezier,
)
from geomcore.views.replay_panel import LossCurve
from geomcore.views.style import (
    BOUNDARY_COLOR,
    BOUNDARY_STROKE,
    CLASS_COLORS,
    CURSOR_STROKE,
    FRAME_STROKE,
    GRID_COLOR,
    READOUT_FONT_SIZE,
    SMALL_FONT_SIZE,
    TEXT_COLOR,
    TITLE_FONT_SIZE,
    WARNING_COLOR,
)

__all__ = [
    "LinearRegionsView",
    "RegionOfRingView",
    "WindingReadout",
    "nesting_event_mark",
]


class WindingReadout(Layered):
    """The rings' nesting in the replay's viewed layer, measured on every frame.

    Two lines: ``winding`` (the winding number of the outer ring's image around most of the
    inner ring's image, :attr:`geomcore.topology.Nesting.winding`) and ``inside`` (the share
    of the inner ring's image it winds around).

    Parameters
    ----------
    replay
        A replay of a concentric-circles run whose viewed layer is 2 units wide.
    clock
        Shared ``ValueTracker`` of the replay's progress in [0, 1].
    corner : array of shape (3,)
        Scene position of the readout's top-left corner.
    font_size
        Manim font size.

    Raises
    ------
    geomcore.errors.GeomcoreError
        If the run has no nested rings or the viewed layer is not 2 units wide.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 corner: Sequence[float] = (0.0, 0.0, 0.0),
                 font_size: float = READOUT_FONT_SIZE) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        self.rings = ring_curves(replay.trajectory)
        corner = np.asarray(corner, dtype=np.float64)
        step = font_size / 48 * 0.55
        anchors = [corner + i * 1.6 * step * mn.DOWN for i in range(2)]
        for name, anchor in zip(("winding", "inside"), anchors):
            self.static.add(GlyphText(len(name), font_size=font_size,
                                      anchor=anchor).set_text(name))
        advance = 9 * self.static[0].advance
        self.lines = [GlyphText(6, font_size=font_size, anchor=a + advance * mn.RIGHT)
                      for a in anchors]
        self.dynamic.add(*self.lines)
        self.show(replay.frame(clock.get_value()))
        self.follow(clock, lambda u: self.show(self.replay.frame(u)))

    def measure(self, frame: Frame) -> Nesting:
        """The nesting of the rings under ``frame``'s network."""
        return nesting_at(frame.network, self.rings, self.replay.layer)

    @staticmethod
    def strings(nesting: Nesting) -> list[str]:
        """The two values shown for a measurement (winding number, share inside)."""
        return [f"{nesting.winding:+d}" if nesting.winding else "0",
                f"{100 * nesting.enclosed:5.1f}%"]

    def show(self, frame: Frame) -> WindingReadout:
        """Measure ``frame``'s network and show the values."""
        for line, string in zip(self.lines, self.strings(self.measure(frame))):
            line.set_text(string)
        return self


def nesting_event_mark(curve: LossCurve, epoch: float, text: str, *,
                       font_size: float = SMALL_FONT_SIZE) -> mn.VGroup:
    """A vertical mark on a loss curve at ``epoch``, with ``text`` below the plot.

    Parameters
    ----------
    curve
        The loss curve to mark.
    epoch
        Where to mark, epochs (e.g. :attr:`geomcore.topology.NestingEvent.epoch`).
    text
        The label, e.g. ``"the inner ring leaves at epoch 18.7"``.
    font_size
        Of the label.

    Returns
    -------
    VGroup
        ``(line, label)``.
    """
    box = curve.plane.box
    x = curve.to_scene(np.array([epoch]), np.array([0.5 * (box[2] + box[3])]))[0, 0]
    top, bottom = curve.frame.get_top()[1], curve.frame.get_bottom()[1]
    line = mn.DashedLine((x, bottom, 0.0), (x, top, 0.0), color=WARNING_COLOR,
                         stroke_width=CURSOR_STROKE)
    label = caption(text, font_size=font_size, color=WARNING_COLOR)
    label.next_to(curve.xlabel, mn.DOWN, buff=0.1)
    return mn.VGroup(line, label)


class RegionOfRingView(mn.Group):
    """The decision region holding the inner ring, drawn over its whole box.

    The region is filled in its class colour (the outline of the flood-filled grid), the rings
    are drawn at their true size, and the box's frame shows where the region reaches it.

    Parameters
    ----------
    region
        From :func:`geomcore.topology.inner_region`.
    rings
        ``(outer, inner)`` in data units, drawn as closed curves.
    center, width
        Placement in scene units (the box is drawn ``width`` wide).
    title
        Above the frame.
    """

    def __init__(self, region: RegionOfRing, rings: tuple[np.ndarray, np.ndarray], *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 title: str = "", font_size: float = TITLE_FONT_SIZE) -> None:
        super().__init__()
        self.region = region
        self.plane = PlaneMap(region.box, tuple(center), width)
        # The region's outline, traced on the mask padded with empty cells so every piece
        # closes (along the box's edge, where the clip puts it), filled in its class colour.
        xmin, xmax, ymin, ymax = region.box
        rows, cols = region.mask.shape
        hx, hy = (xmax - xmin) / (cols - 1), (ymax - ymin) / (rows - 1)
        xs = np.linspace(xmin - hx, xmax + hx, cols + 2)
        ys = np.linspace(ymin - hy, ymax + hy, rows + 2)
        padded = np.pad(region.mask.astype(np.float64), 1)
        gen = contourpy.contour_generator(xs, ys, padded, line_type=contourpy.LineType.Separate)
        outlines = [np.column_stack([np.clip(line[:, 0], xmin, xmax),
                                     np.clip(line[:, 1], ymin, ymax)])
                    for line in gen.lines(0.5) if len(line) >= 3]
        self.fill = mn.VMobject(stroke_width=0)
        self.fill.points = polylines_to_bezier([self.plane.to_scene(o) for o in outlines])
        self.fill.set_fill(CLASS_COLORS[region.klass], opacity=0.55)
        self.frame = frame_rect(self.plane).set_stroke(width=FRAME_STROKE)
        self.rings = mn.VGroup()
        for k, ring in zip((1, 0), rings):
            closed = np.vstack([ring, ring[:1]])
            self.rings.add(Polylines(CLASS_COLORS[k], stroke_width=2.0).set_polylines(
                [self.plane.to_scene(closed)]))
        self.title = caption(title, font_size=font_size).next_to(self.frame, mn.UP, buff=0.12)
        self.add(self.fill, self.frame, self.rings, self.title)


class LinearRegionsView(Layered):
    """A ReLU network's exact linear regions and decision boundary, live during a replay.

    Each region is a polygon filled in the colour of the class it mostly gives (by the
    region's affine logit at its centroid), its edges the units' zero lines; the exact
    decision boundary is drawn segment by segment, the noise-free rings thinly over them, and
    a readout gives the region count against :func:`geomcore.topology.region_bound`.

    Parameters
    ----------
    replay
        A replay of a ReLU run (hidden activations ``relu``).
    clock
        Shared ``ValueTracker`` of the replay's progress in [0, 1].
    center, width
        Placement in scene units; the box is the run's padded data box.
    title
        Above the frame.
    count_corner : array of shape (3,)
        Scene position of the left end of the count readout's baseline.

    Attributes
    ----------
    count_text : GlyphText
        ``"regions  7 of at most 16"``.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: Sequence[float] = (0.0, 0.0, 0.0), width: float = 4.5,
                 title: str = "", count_corner: Sequence[float] = (0.0, 0.0, 0.0),
                 font_size: float = TITLE_FONT_SIZE) -> None:
        super().__init__()
        self.replay, self.clock = replay, clock
        self.box = replay.trajectory.bounds
        self.plane = PlaneMap(self.box, tuple(center), width)
        self.frame = frame_rect(self.plane)
        self.title = caption(title, font_size=font_size).next_to(self.frame, mn.UP, buff=0.12)
        bound = linear_regions(replay.network_at(0.0), self.box).bound
        # A fixed pool of polygons (unused ones are emptied): the mobjects never change.
        self.cells = mn.VGroup(*[mn.VMobject(stroke_color=GRID_COLOR, stroke_width=1.5)
                                 for _ in range(bound)])
        self.boundary = Polylines(BOUNDARY_COLOR, stroke_width=BOUNDARY_STROKE)
        self.count_text = GlyphText(26, font_size=READOUT_FONT_SIZE, anchor=count_corner)
        # The noise-free rings, thin, over the regions: what the partition has to separate.
        self.rings = mn.VGroup(*[
            Polylines(TEXT_COLOR, stroke_width=1.5).set_polylines(
                [self.plane.to_scene(np.vstack([ring, ring[:1]]))])
            for ring in ring_curves(replay.trajectory, 256)])
        self.static.add(self.frame, self.title)
        self.dynamic.add(self.cells, self.rings, self.boundary, self.count_text)
        self.show(clock.get_value())
        self.follow(clock, self.show)

    def measure(self, progress: float) -> LinearRegions:
        """The exact regions of the network shown at ``progress``."""
        return linear_regions(self.replay.network_at(progress), self.box)

    @staticmethod
    def count_string(regions: LinearRegions) -> str:
        """``"regions  7 of at most 16"``."""
        return f"regions {regions.count:>2d} of at most {regions.bound}"

    def show(self, progress: float) -> LinearRegionsView:
        """Draw the regions and boundary of the network at ``progress``."""
        regions = self.measure(progress)
        for k, cell in enumerate(self.cells):
            if k < regions.count:
                r = regions.regions[k]
                centroid = r.vertices.mean(axis=0)
                klass = int(r.logit[:2] @ centroid + r.logit[2] > 0)
                pts = self.plane.to_scene(np.vstack([r.vertices, r.vertices[:1]]))
                cell.set_points_as_corners(pts)
                # Alternate shades so neighbouring regions of one class stay apart.
                cell.set_fill(CLASS_COLORS[klass], opacity=0.28 + 0.16 * (k % 3))
            else:
                cell.clear_points()
        self.boundary.set_polylines([self.plane.to_scene(s) for s in regions.boundary])
        self.count_text.set_text(self.count_string(regions))
        return self
