"""Drawing primitives: plane maps, polylines, grid lines, class point clouds and text.

What lives here: :class:`PlaneMap` (data or layer units to scene units),
:func:`polylines_to_bezier` and :class:`Polylines` (many polylines as one ``VMobject``),
:class:`GridLines` (a warped grid), :class:`ClassPoints` (one class as one point cloud),
:class:`GlyphText` (a line of monospace text that changes every frame), :func:`caption`
(literal text), :func:`caption_markup` (the code's own Pango markup), :func:`markup_escape`,
:func:`frame_rect` and :func:`class_legend`.

What it may import: Manim, Cairo (its anti-aliasing modes), numpy, shapely (line
simplification) and :mod:`geomcore.views.style`; no other building block.

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations, *scene units* Manim's frame coordinates (the frame is 14.22 x 8 at 16:9).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import cairo
import manim as mn
import numpy as np
import shapely

from geomcore.views.style import (
    CAPTION_FONT_SIZE,
    FONT,
    FRAME_STROKE,
    GRID_COLOR,
    GRID_STROKE,
    MONO_FONT,
    READOUT_FONT_SIZE,
    TEXT_COLOR,
    TITLE_FONT_SIZE,
    class_colors,
)

__all__ = [
    "ClassPoints",
    "GlyphText",
    "GridLines",
    "PlaneMap",
    "Polylines",
    "caption",
    "caption_markup",
    "class_legend",
    "frame_rect",
    "markup_escape",
    "polylines_to_bezier",
    "simplify_polylines",
]


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
        """Scene height of the box."""
        return (self.box[3] - self.box[2]) * self.scale

    @property
    def scene_bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the box's rectangle, scene units."""
        return (self.center[0] - 0.5 * self.width, self.center[0] + 0.5 * self.width,
                self.center[1] - 0.5 * self.height, self.center[1] + 0.5 * self.height)

    def to_scene(self, points: np.ndarray, clip: bool = False) -> np.ndarray:
        """Map points of shape ``(..., 2)`` to scene points of shape ``(..., 3)``.

        With ``clip=True`` points outside the box are first moved to its nearest edge, so
        nothing is drawn outside the frame (the views' boxes are fitted to what they show;
        this catches what falls between the samples they were fitted to).
        """
        p = np.asarray(points, dtype=np.float64)
        if clip:
            p = np.stack([np.clip(p[..., 0], self.box[0], self.box[1]),
                          np.clip(p[..., 1], self.box[2], self.box[3])], axis=-1)
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
    kept = [np.asarray(line, dtype=np.float64) for line in lines if len(line) >= 2]
    if not kept:
        return np.zeros((0, 3))
    if smooth:
        return np.concatenate([polylines_to_bezier(line[None], smooth=True) for line in kept])
    # Straight: every pair of consecutive points of one line is a segment, all at once.
    points = np.concatenate(kept)
    ends = np.cumsum([len(line) for line in kept])
    same_line = np.ones(len(points) - 1, dtype=bool)
    same_line[ends[:-1] - 1] = False
    p, q = points[:-1][same_line], points[1:][same_line]
    return np.stack([p, p + (q - p) / 3, p + 2 * (q - p) / 3, q], axis=-2).reshape(-1, 3)


def simplify_polylines(lines: np.ndarray, tolerance: float) -> list[np.ndarray]:
    """Each polyline with the fewest points that stay within ``tolerance`` of it.

    The Douglas–Peucker algorithm (Douglas and Peucker, 1973), as ``shapely.simplify``
    (GEOS) runs it: a line's end points are kept, and the points kept are a subset of its
    points such that every point dropped lies within ``tolerance`` of the simplified line
    (distances in x and y; z is carried along).

    Parameters
    ----------
    lines : ndarray of shape (L, M, 3)
        Polylines, scene units.
    tolerance
        Largest distance of a dropped point from the simplified line, scene units.

    Returns
    -------
    list of ndarray of shape (m_i, 3)
        The simplified lines in order, ``2 <= m_i <= M`` (a line whose points all coincide
        keeps its two ends).
    """
    lines = np.asarray(lines, dtype=np.float64)
    if lines.ndim != 3 or lines.shape[1] < 2 or lines.shape[2] != 3:
        raise ValueError(f"expected polylines of shape (L, M >= 2, 3); received {lines.shape}")
    if len(lines) == 0:
        return []
    simple = shapely.simplify(shapely.linestrings(lines), tolerance, preserve_topology=False)
    coords, index = shapely.get_coordinates(simple, include_z=True, return_index=True)
    cuts = np.searchsorted(index, np.arange(1, len(lines)))
    return np.split(coords, cuts)


class Polylines(mn.VMobject):
    """Many polylines drawn as one stroked ``VMobject`` (grids, boundary curves).

    With ``smooth=True`` the lines are Catmull-Rom splines through their points (see
    :func:`polylines_to_bezier`).

    Parameters
    ----------
    color
        Stroke colour.
    stroke_width
        Manim stroke width.
    stroke_opacity
        In [0, 1].
    smooth
        Catmull-Rom splines instead of straight segments.
    bounds
        ``(xmin, xmax, ymin, ymax)`` in scene units (e.g. :attr:`PlaneMap.scene_bounds`):
        every Bézier control point is kept inside, so the curves (inside the control
        points' convex hull) never leave it, even where a spline overshoots its samples.
    fast_antialias
        Stroke with Cairo's ``ANTIALIAS_FAST`` (coverage sampled on a coarser sub-pixel
        grid) instead of its default: for many thin, faint lines redrawn every frame.
    """

    def __init__(self, color: mn.ParsableManimColor = GRID_COLOR,
                 stroke_width: float = FRAME_STROKE, stroke_opacity: float = 1.0,
                 smooth: bool = False,
                 bounds: tuple[float, float, float, float] | None = None,
                 fast_antialias: bool = False,
                 **kwargs: object) -> None:
        super().__init__(stroke_color=color, stroke_width=stroke_width,
                         stroke_opacity=stroke_opacity, fill_opacity=0, **kwargs)
        self.smooth = smooth
        self.bounds = bounds
        self.fast_antialias = fast_antialias
        self.straight_points: np.ndarray | None = None

    def set_polylines(self, lines: Sequence[np.ndarray] | np.ndarray) -> Polylines:
        """Replace the drawn polylines (scene units, each ``(m, 3)``)."""
        points = polylines_to_bezier(lines, smooth=self.smooth)
        if self.bounds is not None and len(points):
            xmin, xmax, ymin, ymax = self.bounds
            points[:, 0] = np.clip(points[:, 0], xmin, xmax)
            points[:, 1] = np.clip(points[:, 1], ymin, ymax)
        self.points = points
        # Straight segments, known to be so while these very points are drawn (a Manim
        # operation that may bend them, e.g. apply_function, assigns a new array).
        self.straight_points = None if self.smooth else points
        return self


class GridLines(mn.VGroup):
    """A warped grid: the vertical and the horizontal family as two ``Polylines``.

    Lines of one family never cross while the map is injective, so stroking each family as
    one path is cheap for Cairo; crossing families in one path is not. Each line is drawn
    through its own samples (every one of them, so a saturated tanh's sharp bend is drawn
    where the network puts it), simplified by :func:`simplify_polylines` to within
    ``tolerance`` pixels of them: a line that is nearly straight on screen costs Cairo a few
    segments instead of hundreds. The families are stroked with Cairo's fast anti-aliasing
    (see :class:`Polylines`): the grid is the costliest thing a replay frame draws.

    Parameters
    ----------
    stroke_width
        Manim stroke width.
    stroke_opacity
        In [0, 1].
    tolerance
        Largest distance, in pixels of the render (``config.pixel_height``), between a
        sample and the line drawn; a quarter pixel is below what anti-aliasing shows.
    bounds
        Scene rectangle the lines are kept inside: samples outside are moved to its nearest
        edge before the lines are simplified.
    """

    def __init__(self, stroke_width: float = GRID_STROKE, stroke_opacity: float = 0.55,
                 tolerance: float = 0.25,
                 bounds: tuple[float, float, float, float] | None = None) -> None:
        # No bounds on the families: set_lines moves the samples inside, and a straight
        # segment between two points inside stays inside.
        self.families = [Polylines(GRID_COLOR, stroke_width, stroke_opacity,
                                   fast_antialias=True)
                         for _ in range(2)]
        super().__init__(*self.families)
        self.tolerance = tolerance
        self.bounds = bounds

    def scene_tolerance(self) -> float:
        """:attr:`tolerance` in scene units at the current render's resolution."""
        return self.tolerance * mn.config.frame_height / mn.config.pixel_height

    def set_lines(self, lines: np.ndarray) -> GridLines:
        """Draw grid lines ``(G, M, 3)`` in scene units, vertical family first (``G/2``)."""
        lines = np.array(lines, dtype=np.float64)
        if self.bounds is not None:
            xmin, xmax, ymin, ymax = self.bounds
            np.clip(lines[..., 0], xmin, xmax, out=lines[..., 0])
            np.clip(lines[..., 1], ymin, ymax, out=lines[..., 1])
        half = lines.shape[0] // 2
        tolerance = self.scene_tolerance()
        self.families[0].set_polylines(simplify_polylines(lines[:half], tolerance))
        self.families[1].set_polylines(simplify_polylines(lines[half:], tolerance))
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
    opacity
        In [0, 1].
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

    # Manim's PMobject ignores opacity: ``fade`` (what FadeIn/FadeOut apply to their faded
    # copy) does nothing to it, and the camera writes its pixels without blending. These
    # make every fade and opacity change of a cloud (or of a group holding one) visible.

    def get_opacity(self) -> float:
        """Opacity in [0, 1] (the largest of its points')."""
        return float(self.rgbas[:, 3].max(initial=0.0))

    def set_opacity(self, opacity: float, family: bool = True) -> ClassPoints:
        """Set every point's opacity to ``opacity`` in [0, 1]."""
        mobs = self.family_members_with_points() if family else [self]
        for mob in mobs:
            if isinstance(mob, mn.PMobject):
                mob.rgbas[:, 3] = float(np.clip(opacity, 0.0, 1.0))
        return self

    def fade(self, darkness: float = 0.5, family: bool = True) -> ClassPoints:
        """Multiply every point's opacity by ``1 - darkness`` (``fade(1)``: invisible), as
        ``VMobject.fade`` does for fills and strokes."""
        factor = 1.0 - float(np.clip(darkness, 0.0, 1.0))
        mobs = self.family_members_with_points() if family else [self]
        for mob in mobs:
            if isinstance(mob, mn.PMobject):
                mob.rgbas[:, 3] *= factor
        return self

    def pointwise_become_partial(self, mobject: mn.Mobject, a: float, b: float) -> ClassPoints:
        """Show only the points with index in ``[a n, b n)`` of ``mobject``'s ``n`` (what
        ``Create`` and ``Uncreate`` draw): the others stay, at opacity 0.

        Manim's PMobject drops the hidden points instead; a cloud with no points left
        leaves the animation's family and never comes back, so ``Create`` drew nothing.
        """
        n = mobject.get_num_points()
        lower, upper = int(a * n), int(b * n)
        self.points = np.array(mobject.points)
        self.rgbas = np.array(mobject.rgbas)
        self.rgbas[:lower, 3] = 0.0
        self.rgbas[upper:, 3] = 0.0
        return self


_unblended_point_cloud = mn.Camera.display_point_cloud


def _over(colours: np.ndarray, under: np.ndarray, max_val: int, dtype: np.dtype) -> np.ndarray:
    """``colours`` (RGBA in [0, 1], shape (n, 4) or (1, 4)) over pixel values ``under``
    (shape (n, depth), floats in [0, 1]): the new pixel values, rounded, of type ``dtype``."""
    alpha = colours[:, 3:4]
    out = np.empty_like(under)
    out[:, :3] = alpha * colours[:, :3] + (1 - alpha) * under[:, :3]
    out[:, 3:] = alpha + (1 - alpha) * under[:, 3:]
    return np.round(out * max_val).astype(dtype)


#: Blend tables of the colours seen so far, by RGBA: see :func:`_blend_table`.
_blend_tables: dict[bytes, np.ndarray] = {}


def _blend_table(rgba: np.ndarray, depth: int) -> np.ndarray:
    """What :func:`_over` makes of each 8-bit value of each channel under colour ``rgba``,
    shape (256, depth): a cloud of one colour is blended by table look-up, with the same
    arithmetic (so the same pixels) as the per-pixel formula."""
    key = rgba.tobytes() + bytes([depth])
    if key not in _blend_tables:
        values = np.repeat(np.arange(256, dtype=np.float64)[:, None] / 255, depth, axis=1)
        _blend_tables[key] = _over(rgba[None, :], values, 255, np.dtype(np.uint8))
        if len(_blend_tables) > 256:  # animated colours: keep the cache small
            _blend_tables.pop(next(iter(_blend_tables)))
    return _blend_tables[key]


def _display_point_cloud_blended(camera: mn.Camera, pmobject: mn.PMobject, points: np.ndarray,
                                 rgbas: np.ndarray, thickness: float,
                                 pixel_array: np.ndarray) -> None:
    """Manim's ``Camera.display_point_cloud`` with alpha blending ("over" compositing).

    Manim copies a point's RGBA into the frame, so a point at opacity 0.1 shows at full
    colour (the video drops the alpha channel). Here a point of opacity ``a`` makes the
    pixel ``a * colour + (1 - a) * pixel`` (Porter & Duff 1984, "over"). Fully opaque
    clouds take Manim's own path unchanged. Where points overlap, each is blended over the
    frame as it was before the cloud and the last one drawn wins, as in Manim.
    """
    if len(points) == 0 or np.all(rgbas[:, 3] >= 1.0):
        _unblended_point_cloud(camera, pmobject, points, rgbas, thickness, pixel_array)
        return
    pixels = camera.points_to_pixel_coords(pmobject, points)
    # Manim's thickening (Camera.thickened_coordinates): one block of len(points) pixels
    # per nudge, nudge after nudge, broadcast instead of a Python list of blocks.
    nudges = camera.get_thickening_nudges(thickness)
    coords = (pixels[None, :, :] + nudges[:, None, :]).reshape(-1, 2)
    colours = np.asarray(rgbas, dtype=np.float64)
    one_colour = bool(np.all(colours == colours[0]))
    if one_colour:
        colours = colours[:1]
    else:  # Manim's layout: the colours repeat block after block
        colours = np.tile(colours, (len(coords) // len(colours), 1))
    low, high = pixels.min(axis=0) + nudges.min(axis=0), pixels.max(axis=0) + nudges.max(axis=0)
    if low.min() < 0 or high[0] >= camera.pixel_width or high[1] >= camera.pixel_height:
        on_screen = camera.on_screen_pixels(coords)
        coords = coords[on_screen]
        colours = colours if one_colour else colours[on_screen]
    depth = pixel_array.shape[2]
    flat = pixel_array.reshape((-1, depth))
    index = coords[:, 0] + camera.pixel_width * coords[:, 1]
    if one_colour and pixel_array.dtype == np.uint8 and camera.rgb_max_val == 255:
        table = _blend_table(colours[0], depth)
        if depth == 4 and pixel_array.flags.c_contiguous:
            # Each pixel read and written as one 32-bit word, each channel looked up in its
            # own column: a quarter of the fancy-indexing work of (n, 4) byte indexing.
            words = pixel_array.view(np.uint32).reshape(-1)
            under = words[index].view(np.uint8).reshape(-1, 4)
            over = np.empty_like(under)
            for channel in range(4):
                over[:, channel] = table[under[:, channel], channel]
            words[index] = over.view(np.uint32).reshape(-1)
            return
        flat[index] = table[flat[index], np.arange(depth)]
    else:
        under = flat[index].astype(np.float64) / camera.rgb_max_val
        flat[index] = _over(colours, under, camera.rgb_max_val, pixel_array.dtype)
    if not np.shares_memory(flat, pixel_array):  # a view (the usual case) is written already
        pixel_array[:, :] = flat.reshape(pixel_array.shape)


# Installed once, on import of the building blocks: every point cloud in a scene blends.
if getattr(mn.Camera.display_point_cloud, "__name__", "") != "_display_point_cloud_blended":
    mn.Camera.display_point_cloud = _display_point_cloud_blended


_manim_context_path = mn.Camera.set_cairo_context_path


def _set_cairo_context_path_listed(camera: mn.Camera, ctx: object,
                                   vmobject: mn.VMobject) -> mn.Camera:
    """Manim's ``Camera.set_cairo_context_path``, the same Cairo calls, for our many-curve
    paths (:class:`Polylines`, :class:`GlyphText`): the curves' control points are read
    from one list of Python floats instead of one NumPy scalar at a time (a warped grid
    family is about a thousand curves, drawn every frame). Other mobjects take Manim's own.
    """
    # Cairo's coarser anti-aliasing for the lines that ask for it (the warped grids: about
    # 40 % less stroking time, edges within a few levels), its default for everything else.
    fast = getattr(vmobject, "fast_antialias", False)
    ctx.set_antialias(cairo.ANTIALIAS_FAST if fast else cairo.ANTIALIAS_DEFAULT)
    if not isinstance(vmobject, (Polylines, GlyphText)):
        return _manim_context_path(camera, ctx, vmobject)
    points = camera.transform_points_pre_display(vmobject, vmobject.points)
    if len(points) == 0:
        return camera
    nppcc = vmobject.n_points_per_cubic_curve
    ctx.new_path()
    splits = vmobject.get_subpath_split_indices_from_points(points, n_dims=2)
    xy = points[:, :2]
    curve_to, line_to = ctx.curve_to, ctx.line_to
    # Straight polylines (every handle on its segment) are drawn as lines: the same path,
    # and Cairo strokes a line segment in about half the time of a cubic curve.
    straight = isinstance(vmobject, Polylines) and (
        vmobject.points is getattr(vmobject, "straight_points", None)
        or _all_straight(xy, nppcc))
    for start, end in splits.tolist():
        curves = (end - start) // nppcc  # whole curves only, as Manim's loop
        if curves == 0:
            continue
        ctx.new_sub_path()
        ctx.move_to(*xy[start].tolist())
        handles = xy[start : start + curves * nppcc].reshape(curves, nppcc, 2)[:, 1:]
        if straight:
            for x, y in handles[:, -1].tolist():
                line_to(x, y)
            continue
        for curve in handles.reshape(curves, -1).tolist():
            curve_to(*curve)
        if vmobject.consider_points_equals_2d(points[start], points[end - 1]):
            ctx.close_path()
    return camera


def _all_straight(xy: np.ndarray, nppcc: int) -> bool:
    """Whether every cubic curve of ``xy`` (``(4 * curves, 2)``, scene units) is its chord:
    both handles within 1e-6 scene units of the segment between its anchors (an affine map keeps a
    straight Bézier straight; a non-linear one, e.g. ``apply_function``, may not)."""
    n = len(xy) - len(xy) % nppcc
    if n == 0 or nppcc != 4:
        return False
    quads = xy[:n].reshape(-1, 4, 2)
    p, q = quads[:, 0], quads[:, 3]
    chord = q - p
    length2 = np.einsum("ij,ij->i", chord, chord)
    for handle in (quads[:, 1], quads[:, 2]):
        d = handle - p
        t = np.einsum("ij,ij->i", d, chord) / np.where(length2 > 0, length2, 1.0)
        off = d - np.clip(t, 0.0, 1.0)[:, None] * chord
        if np.einsum("ij,ij->i", off, off).max() > 1e-12:
            return False
    return True


# Installed once, on import of the building blocks, like the blended point clouds.
if getattr(mn.Camera.set_cairo_context_path, "__name__", "") != "_set_cairo_context_path_listed":
    mn.Camera.set_cairo_context_path = _set_cairo_context_path_listed


def markup_escape(text: str) -> str:
    """``text`` as Pango markup that shows it literally: ``&``, ``<`` and ``>`` escaped.

    Use it to put a user's text (a name, a file name) inside markup built in code, e.g.
    ``caption_markup(f"{markup_escape(name)}<sub>1</sub>")``. Quotes need no escaping
    outside a tag (Pango markup is GMarkup's XML subset).
    """
    return html.escape(text, quote=False)


def _fitted(text_mob: mn.MarkupText, max_width: float) -> mn.MarkupText:
    if text_mob.width > max_width:
        text_mob.scale_to_fit_width(max_width)
    return text_mob


def caption(text: str, font_size: float = CAPTION_FONT_SIZE,
            color: mn.ParsableManimColor = TEXT_COLOR, max_width: float = 13.4,
            **kwargs: object) -> mn.MarkupText:
    """Text in the lecture's font, shown literally: ``"a < b & c"`` reads ``a < b & c``.

    Any text a user wrote (narration, titles, experiment and file names) goes through here;
    nothing in it is parsed as markup. For sub- and superscripts in the lecture's own texts
    use :func:`caption_markup`. Text wider than ``max_width`` scene units is scaled down to
    fit, so it stays in frame.

    Parameters
    ----------
    text
        The text as it is to be read (any characters).
    font_size
        Manim font size.
    color
        Fill colour.
    max_width
        Widest allowed, scene units.
    **kwargs
        Passed on to ``MarkupText`` (e.g. ``line_spacing``).

    Returns
    -------
    MarkupText
        Its ``original_text`` is ``text`` as given (not the escaped markup).
    """
    text_mob = mn.MarkupText(markup_escape(text), font=FONT, font_size=font_size, color=color,
                             **kwargs)
    # Same rendering as markup (one code path, one layout); the string is the literal text.
    text_mob.original_text = text
    return _fitted(text_mob, max_width)


def caption_markup(markup: str, font_size: float = CAPTION_FONT_SIZE,
                   color: mn.ParsableManimColor = TEXT_COLOR, max_width: float = 13.4,
                   **kwargs: object) -> mn.MarkupText:
    """Pango markup in the lecture's font, for the code's own texts: ``h<sub>1</sub>``.

    Never pass user text here unescaped (see :func:`markup_escape`); use :func:`caption`.

    Parameters
    ----------
    markup
        Pango markup (``&lt;`` for ``<``, ``&amp;`` for ``&``).
    font_size, color, max_width, **kwargs
        As for :func:`caption`.

    Raises
    ------
    ValueError
        From Manim, if ``markup`` is not valid Pango markup.
    """
    text_mob = mn.MarkupText(markup, font=FONT, font_size=font_size, color=color, **kwargs)
    return _fitted(text_mob, max_width)


def frame_rect(m: PlaneMap) -> mn.Rectangle:
    """The outline of ``m``'s box: a ``m.width`` x ``m.height`` rectangle (scene units) about
    ``m.center``, in the grid colour."""
    return mn.Rectangle(width=m.width, height=m.height, stroke_color=GRID_COLOR,
                        stroke_width=FRAME_STROKE).move_to(m.center)


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

    def __init__(self, n_chars: int, *, font_size: float = READOUT_FONT_SIZE,
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


def class_legend(names: dict[int, str], font_size: float = TITLE_FONT_SIZE) -> mn.VGroup:
    """A legend: a dot in each class colour and its name, one row per class (1 above 0;
    with K classes, K-1 at the top down to 0).

    Parameters
    ----------
    names
        Name of each class, by label 0 … K-1 (K from 2 to 8; colours from
        :func:`~geomcore.views.style.class_colors`, the lecture's for K = 2).
    font_size
        Manim font size of the names.
    """
    colors = class_colors(len(names))
    rows = mn.VGroup()
    for c in sorted(names, reverse=True):
        dot = mn.Dot(radius=0.08, color=colors[c])
        rows.add(mn.VGroup(dot, caption(names[c], font_size=font_size).next_to(dot, mn.RIGHT)))
    return rows.arrange(mn.DOWN, aligned_edge=mn.LEFT, buff=0.15)
