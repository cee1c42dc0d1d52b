"""Topology measured, not told: ring winding numbers, unbounded regions, exact ReLU regions.

Numpy and scipy only (never Manim, never TensorFlow). Four measures of a recorded network:

- :func:`ring_winding` / :func:`nesting_at`: the winding number of the outer ring's image
  around the inner ring's image in a 2-unit layer; :func:`nesting_lost` finds the epoch where
  the inner ring leaves the outer one, by bisection on a replay's progress.
- :func:`inner_region`: the connected decision region holding the inner ring, flood-filled on
  a fine classification grid, and whether it reaches the edge of a large box (Beise et al.,
  "On decision regions of narrow deep neural networks", arXiv 1807.01194; Johnson, "Deep,
  skinny neural networks are not universal approximators", ICLR 2019).
- :func:`linear_regions`: the exact polygonal partition of a box into the regions where a
  ReLU network with 2-D input is affine, with its exact decision boundary.
- :func:`aligned_pca_projections`: per-snapshot principal directions of a wide layer, aligned
  across snapshots by orthogonal Procrustes, and :func:`mean_displacement` to compare views.

Units: *data units* in the input plane, *layer units* in a hidden layer, *epochs* of training,
replay *progress* in [0, 1].
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.linalg import orthogonal_procrustes

from geomcore.anatomy import Projection, pca_projection
from geomcore.datasets import concentric_circles
from geomcore.errors import GeomcoreError
from geomcore.geometry import Network
from geomcore.trajectory import Trajectory

__all__ = [
    "AlignedProjection",
    "LinearRegions",
    "Nesting",
    "NestingEvent",
    "Region",
    "RegionOfRing",
    "aligned_pca_projections",
    "inner_region",
    "linear_regions",
    "mean_displacement",
    "nesting_at",
    "nesting_lost",
    "nesting_lost_at_epoch",
    "region_bound",
    "ring_curves",
    "ring_winding",
    "winding_numbers",
]

#: Samples along each noise-free ring (the outer image is a closed polyline of this many
#: vertices; every inner sample is tested).
RING_SAMPLES = 512


# -- winding numbers -----------------------------------------------------------------------
def ring_curves(trajectory: Trajectory, samples: int = RING_SAMPLES) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """The noise-free rings of a concentric-circles run, densely sampled.

    Parameters
    ----------
    trajectory
        A run whose dataset is ``concentric_circles``; the radii come from its recorded
        dataset parameters (``outer_radius``, ``inner_radius``, data units), or the defaults
        of :func:`geomcore.datasets.concentric_circles` where not recorded.
    samples
        Points on each ring, evenly spaced in angle (the first point is not repeated).

    Returns
    -------
    outer, inner : ndarray of shape (samples, 2)
        Data units.

    Raises
    ------
    GeomcoreError
        If the run's dataset has no nested rings.
    """
    # Runs recorded by user code may carry no experiment (or no dataset) at all.
    dataset = (trajectory.metadata.get("experiment") or {}).get("dataset") or {}
    if dataset.get("name") != "concentric_circles":
        raise GeomcoreError(f"dataset {dataset.get('name')!r} has no nested rings; expected "
                            "'concentric_circles'")
    # Radii left at their defaults are not in the recorded parameters: take the generator's.
    defaults = inspect.signature(concentric_circles).parameters
    params = {k: dataset.get("params", {}).get(k, defaults[k].default)
              for k in ("outer_radius", "inner_radius")}
    t = np.linspace(0.0, 2 * np.pi, samples, endpoint=False)
    unit = np.column_stack([np.cos(t), np.sin(t)])
    return float(params["outer_radius"]) * unit, float(params["inner_radius"]) * unit


def winding_numbers(curve: np.ndarray, points: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Winding number of a closed polyline around each point.

    Signed crossings of the horizontal ray from each point by the polyline's edges (upward
    crossings with the point on their left count +1, downward ones with it on their right
    -1): Sunday's winding-number algorithm (Hormann and Agathos, "The point in polygon
    problem for arbitrary polygons", 2001), exact for a polyline and without angles. A point
    within rounding error of the curve may get either neighbouring value.

    Parameters
    ----------
    curve : ndarray of shape (n, 2)
        Vertices of the closed polyline (the last joins the first), any units.
    points : ndarray of shape (m, 2)
        Same units.
    chunk
        Points handled at once (memory: ``chunk * n`` floats).

    Returns
    -------
    ndarray of shape (m,), int64
        Positive for counter-clockwise turns.

    Raises
    ------
    GeomcoreError
        If the arrays are not of shape (n >= 3, 2) and (m, 2).
    """
    curve = np.asarray(curve, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    if curve.ndim != 2 or curve.shape[1] != 2 or len(curve) < 3:
        raise GeomcoreError(f"expected a closed curve of shape (n >= 3, 2); got {curve.shape}")
    if points.ndim != 2 or points.shape[1] != 2:
        raise GeomcoreError(f"expected points of shape (m, 2); got {points.shape}")
    a, b = curve, np.roll(curve, -1, axis=0)
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), chunk):
        p = points[start : start + chunk, None, :]
        py = p[..., 1]
        # Which side of each edge the point lies (> 0: left), and the edges crossing the
        # horizontal line through it upwards or downwards.
        left = (b[:, 0] - a[:, 0]) * (py - a[:, 1]) - (p[..., 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
        up = (a[:, 1] <= py) & (b[:, 1] > py) & (left > 0)
        down = (a[:, 1] > py) & (b[:, 1] <= py) & (left < 0)
        out[start : start + chunk] = up.sum(axis=1) - down.sum(axis=1)
    return out


@dataclass(frozen=True)
class Nesting:
    """The rings' images in a 2-unit layer, measured.

    Attributes
    ----------
    windings : ndarray of shape (n,), int64
        Winding number of the outer ring's image around each inner-ring sample's image.
    winding
        The winding number most inner samples share (the readout's value).
    enclosed
        Share of inner samples around which the outer image winds (winding not 0).
    nested
        True when *every* inner sample has winding number +1 or -1: the inner ring's image
        lies wholly inside the outer ring's image, which is what a homeomorphism of the
        plane keeps (Jordan curve theorem: an injective image of a circle winds once around
        every point of its interior).
    """

    windings: np.ndarray
    winding: int
    enclosed: float
    nested: bool


def ring_winding(outer: np.ndarray, inner: np.ndarray) -> Nesting:
    """Nesting of two closed curves' images (see :class:`Nesting`).

    Parameters
    ----------
    outer : ndarray of shape (n, 2)
        The outer ring's image, a closed polyline (layer units).
    inner : ndarray of shape (m, 2)
        The inner ring's image samples (layer units).
    """
    w = winding_numbers(outer, inner)
    values, counts = np.unique(w, return_counts=True)
    return Nesting(w, int(values[np.argmax(counts)]), float(np.mean(w != 0)),
                   bool(np.all(np.abs(w) == 1)))


def _viewed_two_unit_layer(network: Network, layer: int | str | None) -> int:
    """Index of the 2-unit layer where nesting is measured (default: last hidden layer)."""
    i = network.n_layers - 2 if layer is None else network.layer_index(layer)
    if network.widths[i] != 2 or i == network.n_layers - 1:
        raise GeomcoreError(
            f"layer {network.layer_names[i]!r} has {network.widths[i]} units; the winding "
            "number is measured in a 2-unit hidden layer (for a wider layer, measure at the "
            "next 2-unit layer, e.g. hidden_2 of the lecture's runs)")
    return i


def nesting_at(network: Network, rings: tuple[np.ndarray, np.ndarray],
               layer: int | str | None = None) -> Nesting:
    """Push the rings through ``network`` up to a 2-unit ``layer`` and measure their nesting.

    Parameters
    ----------
    network
        The network (recorded or interpolated).
    rings
        ``(outer, inner)`` from :func:`ring_curves`, data units.
    layer
        A 2-unit hidden layer (index or name); default the last hidden layer, the lecture's
        viewed layer. A 3-unit layer is measured after the next, 2-unit, layer.

    Raises
    ------
    GeomcoreError
        If the layer is not 2 units wide.
    """
    i = _viewed_two_unit_layer(network, layer)
    outer, inner = rings
    return ring_winding(network.forward(outer, upto=i), network.forward(inner, upto=i))


@dataclass(frozen=True)
class NestingEvent:
    """When the inner ring left the outer one in a replay.

    Attributes
    ----------
    epoch
        Epoch (fractional, from the interpolated weights) of the first instant found at which
        the rings are no longer nested, after a snapshot at which they were; ``None`` if none.
    progress
        Replay progress of that instant, or ``None``.
    reason
        Why ``epoch`` is ``None`` (or what was found), one line.
    nested : ndarray of shape (S,), bool
        Nesting at each replayed snapshot.
    """

    epoch: float | None
    progress: float | None
    reason: str
    nested: np.ndarray


def nesting_lost(replay: Any, *, tolerance: float = 1.0 / 1200,
                 samples: int = RING_SAMPLES) -> NestingEvent:
    """Find where the inner ring leaves the outer one, to within ``tolerance`` of progress.

    Every snapshot is measured (:func:`nesting_at` in the replay's viewed layer); in the
    first interval from a nested snapshot to one that is not, the replay's progress is
    bisected on the interpolated networks until the bracket is narrower than ``tolerance``
    (default: one frame of a 20 s replay at 60 fps). A change and change back between two
    snapshots is not seen.

    Parameters
    ----------
    replay
        A :class:`geomcore.replay.Replay` whose viewed layer is 2 units wide.
    tolerance
        Width of the final bracket, in progress units.
    samples
        Points per ring.

    Raises
    ------
    GeomcoreError
        If the run's dataset has no nested rings, or the viewed layer is not 2 units wide.
    """
    rings = ring_curves(replay.trajectory, samples)
    nested = np.array([
        nesting_at(replay.network_at_snapshot(float(s)), rings, replay.layer).nested
        for s in range(replay.n_snapshots)
    ])
    lost = np.flatnonzero(nested[:-1] & ~nested[1:])
    if not lost.size:
        why = ("the rings stay nested at every snapshot" if nested.all() else
               "the rings are not nested at any snapshot" if not nested.any() else
               "the rings never go from nested to not nested")
        return NestingEvent(None, None, why, nested)
    i = int(lost[0])
    lo, hi = replay.progress_at(i), replay.progress_at(i + 1)
    while hi - lo > tolerance:
        mid = 0.5 * (lo + hi)
        if nesting_at(replay.network_at(mid), rings, replay.layer).nested:
            lo = mid
        else:
            hi = mid
    epoch = replay.epoch_at_snapshot(replay.snapshot_at(hi))
    return NestingEvent(epoch, hi, f"the inner ring leaves at epoch {epoch:.2f}", nested)


def nesting_lost_at_epoch(trajectory: Trajectory) -> tuple[float | None, str]:
    """``(epoch, reason)``: :func:`nesting_lost` of a recorded run, computed from the file.

    What ``geomcore inspect --json`` reports as ``nesting_lost_at_epoch`` (epochs, rounded
    to 4 decimals) and ``nesting_lost_reason``. Never raises for a valid trajectory: a run
    without nested rings, without a 2-unit last hidden layer or with fewer than two finite
    snapshots gets ``None`` and the reason.
    """
    from geomcore.replay import Replay  # here, so importing this module stays light

    try:
        event = nesting_lost(Replay(trajectory))
    except (GeomcoreError, ValueError) as err:
        return None, " ".join(str(err).split())
    return (None if event.epoch is None else round(event.epoch, 4)), event.reason


# -- unbounded decision regions ------------------------------------------------------------
@dataclass(frozen=True)
class RegionOfRing:
    """The connected decision region holding the inner ring, on a classification grid.

    Attributes
    ----------
    box
        ``(xmin, xmax, ymin, ymax)``, data units.
    mask : ndarray of shape (resolution, resolution), bool
        Grid cells of the region; row ``i`` is ``y = ys[i]``, column ``j`` is ``x = xs[j]``.
    klass
        The class the network gives the region (0 or 1).
    share
        Share of the inner ring's samples inside the region.
    unbounded
        Whether the region reaches the edge of the box.
    """

    box: tuple[float, float, float, float]
    mask: np.ndarray
    klass: int
    share: float
    unbounded: bool


def inner_region(network: Network, rings: tuple[np.ndarray, np.ndarray], *,
                 box: Sequence[float] = (-10.0, 10.0, -10.0, 10.0),
                 resolution: int = 801) -> RegionOfRing:
    """Flood-fill the decision region holding most of the inner ring and test its extent.

    The plane is classified (``p > 0.5``) on a ``resolution x resolution`` grid over ``box``;
    connected regions of one class are labelled (4-connectivity, ``scipy.ndimage.label``);
    the region holding most inner-ring samples is returned. For networks no wider than their
    2-D input, every connected decision region is unbounded (Beise et al., arXiv 1807.01194;
    Johnson, ICLR 2019), so this region reaches the edge of any box holding the data.

    Parameters
    ----------
    network
        The network.
    rings
        ``(outer, inner)`` from :func:`ring_curves`, data units.
    box
        ``(xmin, xmax, ymin, ymax)``, data units; must contain the rings.
    resolution
        Grid samples per axis.

    Raises
    ------
    GeomcoreError
        If ``resolution < 3`` or the box is empty.
    """
    xmin, xmax, ymin, ymax = (float(v) for v in box)
    if resolution < 3 or not (xmin < xmax and ymin < ymax):
        raise GeomcoreError(f"expected resolution >= 3 and a non-empty box; got {resolution}, "
                            f"{tuple(box)}")
    xs, ys = np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)
    klass = network.predict_proba(np.column_stack([gx.ravel(), gy.ravel()])) > 0.5
    klass = klass.reshape(gx.shape)
    labels1, _ = ndimage.label(klass)
    labels0, n1 = ndimage.label(~klass)
    labels = np.where(klass, labels1, labels0 + labels1.max())
    inner = rings[1]
    col = np.clip(np.rint((inner[:, 0] - xmin) / (xmax - xmin) * (resolution - 1)), 0,
                  resolution - 1).astype(int)
    row = np.clip(np.rint((inner[:, 1] - ymin) / (ymax - ymin) * (resolution - 1)), 0,
                  resolution - 1).astype(int)
    hit = labels[row, col]
    values, counts = np.unique(hit, return_counts=True)
    label = values[np.argmax(counts)]
    mask = labels == label
    edge = mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
    return RegionOfRing((xmin, xmax, ymin, ymax), mask, int(klass[mask][0]),
                        float(np.mean(hit == label)), bool(edge))


# -- exact linear regions of ReLU networks -------------------------------------------------
#: Label of a polygon edge: ``("box", side)`` with side 0..3 = xmin, xmax, ymin, ymax, or
#: ``("unit", layer index, unit index)``: the zero line of that unit's pre-activation.
EdgeLabel = tuple


@dataclass(frozen=True)
class Region:
    """One convex region on which the network is affine.

    Attributes
    ----------
    vertices : ndarray of shape (n, 2)
        Counter-clockwise, data units.
    edges : tuple of EdgeLabel, length n
        ``edges[i]`` labels the edge from ``vertices[i]`` to ``vertices[i + 1]``; vertex ``i``
        satisfies the equalities of ``edges[i - 1]`` and ``edges[i]``.
    pattern : tuple of tuple of bool
        Which units of each hidden layer are active (pre-activation > 0) inside.
    logit : ndarray of shape (3,)
        ``(g1, g2, d)``: the output unit's logit is ``g1 x + g2 y + d`` inside.
    boundary : ndarray of shape (2, 2) or None
        The exact decision boundary inside the region (where the logit is 0), or ``None``.
    """

    vertices: np.ndarray
    edges: tuple[EdgeLabel, ...]
    pattern: tuple[tuple[bool, ...], ...]
    logit: np.ndarray
    boundary: np.ndarray | None

    @property
    def area(self) -> float:
        """Shoelace area, data units squared."""
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


@dataclass(frozen=True)
class LinearRegions:
    """The exact partition of a box by a ReLU network (see :func:`linear_regions`).

    Attributes
    ----------
    box
        ``(xmin, xmax, ymin, ymax)``, data units.
    regions
        The convex pieces.
    bound
        :func:`region_bound` of the network's hidden widths.
    """

    box: tuple[float, float, float, float]
    regions: tuple[Region, ...]
    bound: int

    @property
    def count(self) -> int:
        return len(self.regions)

    @property
    def boundary(self) -> list[np.ndarray]:
        """The exact decision boundary: one segment of shape (2, 2) per region crossed."""
        return [r.boundary for r in self.regions if r.boundary is not None]


def region_bound(widths: Sequence[int]) -> int:
    """Upper bound on the linear regions of a ReLU network on a 2-D input.

    Inside each region of the layers before it, a layer of ``n`` units has affine
    pre-activations, so its ``n`` zero lines cut that convex region into at most
    ``1 + n + n(n - 1)/2`` pieces, the most ``n`` lines make of the plane (Zaslavsky 1975,
    reached in general position); the bound is the product over hidden layers (as in
    Montufar et al., NeurIPS 2014; Serra et al., ICML 2018 give a tighter one).

    Parameters
    ----------
    widths
        Units of each hidden ReLU layer.
    """
    out = 1
    for n in widths:
        out *= sum(comb(int(n), j) for j in range(3))
    return out


def _clip(vertices: np.ndarray, edges: list[EdgeLabel], s: np.ndarray, sign: float,
          cut: EdgeLabel) -> tuple[np.ndarray, list[EdgeLabel]]:
    """The part of a convex polygon where ``sign * s >= 0`` (``s`` affine, given at vertices).

    Sutherland-Hodgman against one half-plane, carrying edge labels: the new edge along the
    cut gets the label ``cut``; pieces of old edges keep theirs.
    """
    out_v: list[np.ndarray] = []
    out_e: list[EdgeLabel] = []
    n = len(vertices)
    t = sign * s
    for i in range(n):
        j = (i + 1) % n
        ti, tj = t[i], t[j]
        if ti >= 0:
            out_v.append(vertices[i])
            # Leaving the half-plane from a vertex on the line: the boundary follows the cut.
            out_e.append(cut if (ti == 0 and tj < 0) else edges[i])
        if (ti > 0 and tj < 0) or (ti < 0 and tj > 0):
            p = vertices[i] + ti / (ti - tj) * (vertices[j] - vertices[i])
            out_v.append(p)
            out_e.append(edges[i] if ti < 0 else cut)
    return (np.array(out_v) if out_v else np.zeros((0, 2))), out_e


def _area(vertices: np.ndarray) -> float:
    if len(vertices) < 3:
        return 0.0
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _segment_in(vertices: np.ndarray, g: np.ndarray, d: float) -> np.ndarray | None:
    """Where the line ``g . x + d = 0`` crosses a convex polygon: shape (2, 2) or ``None``."""
    s = vertices @ g + d
    pts = [vertices[i] for i in range(len(s)) if s[i] == 0]
    for i in range(len(s)):
        j = (i + 1) % len(s)
        if s[i] * s[j] < 0:
            pts.append(vertices[i] + s[i] / (s[i] - s[j]) * (vertices[j] - vertices[i]))
    if len(pts) < 2:
        return None
    pts_a = np.array(pts)
    along = pts_a @ np.array([-g[1], g[0]])
    a, b = pts_a[np.argmin(along)], pts_a[np.argmax(along)]
    return np.array([a, b]) if np.hypot(*(b - a)) > 0 else None


def linear_regions(network: Network, box: Sequence[float], *,
                   min_area: float = 1e-12) -> LinearRegions:
    """Exact partition of ``box`` into the convex regions where a ReLU network is affine.

    Layer by layer, every region carries the affine map from the input to the layer's
    inputs; each unit's pre-activation is then affine in the region, so its zero set is a
    line, which cuts the convex polygon in two (exact half-plane clipping). After the last
    hidden layer, the output logit is affine in each region and its zero line, clipped to the
    region, is the exact decision boundary there (the approach of SplineCam, Humayun et al.,
    CVPR 2023, for 2-D inputs). Regions are activation patterns: two neighbours may share an
    affine map (e.g. a dead unit's side).

    Parameters
    ----------
    network
        Hidden layers ``relu`` (or ``linear``), output unit last.
    box
        ``(xmin, xmax, ymin, ymax)``, data units.
    min_area
        Pieces of smaller area (relative to the box's) are dropped as slivers of rounding.

    Returns
    -------
    LinearRegions

    Raises
    ------
    GeomcoreError
        If a hidden layer's activation is not piecewise linear, or the box is empty.
    """
    xmin, xmax, ymin, ymax = (float(v) for v in box)
    if not (xmin < xmax and ymin < ymax):
        raise GeomcoreError(f"expected a non-empty box (xmin, xmax, ymin, ymax); got {box}")
    hidden = range(network.n_layers - 1)
    for i in hidden:
        if network.activations[i] not in ("relu", "linear"):
            raise GeomcoreError(
                f"layer {network.layer_names[i]!r} has activation "
                f"{network.activations[i]!r}; exact regions need 'relu' (or 'linear') layers")
    square = np.array([[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]])
    start_edges: list[EdgeLabel] = [("box", 2), ("box", 1), ("box", 3), ("box", 0)]
    # Each piece: vertices, edge labels, pattern, and the affine map x -> x @ A + c of the
    # current layer's input.
    pieces = [(square, start_edges, (), np.eye(2), np.zeros(2))]
    tiny = min_area * (xmax - xmin) * (ymax - ymin)
    for i in hidden:
        kernel = network.kernels[i].astype(np.float64)
        bias = network.biases[i].astype(np.float64)
        relu = network.activations[i] == "relu"
        new = []
        for verts, edges, pattern, a, c in pieces:
            za, zc = a @ kernel, c @ kernel + bias  # pre-activations: x @ za + zc
            parts = [(verts, edges, ())]
            for unit in range(kernel.shape[1]):
                split = []
                for v, e, signs in parts:
                    s = v @ za[:, unit] + zc[unit]
                    for on, sign in ((True, 1.0), (False, -1.0)):
                        cv, ce = _clip(v, e, s, sign, ("unit", i, unit))
                        if _area(cv) > tiny:
                            split.append((cv, ce, (*signs, on)))
                parts = split
            for v, e, signs in parts:
                mask = np.array(signs, dtype=np.float64) if relu else np.ones(len(signs))
                new.append((v, e, (*pattern, signs), za * mask, zc * mask))
        pieces = new
    w, b = network.kernels[-1][:, 0].astype(np.float64), float(network.biases[-1][0])
    regions = []
    for verts, edges, pattern, a, c in pieces:
        g, d = a @ w, float(c @ w + b)
        regions.append(Region(verts, tuple(edges), pattern, np.array([g[0], g[1], d]),
                              _segment_in(verts, g, d)))
    widths = [network.widths[i] for i in hidden if network.activations[i] == "relu"]
    return LinearRegions((xmin, xmax, ymin, ymax), tuple(regions), region_bound(widths))


# -- stable views of wider layers ----------------------------------------------------------
def aligned_pca_projections(images: np.ndarray) -> list[Projection]:
    """Per-snapshot 3-D principal directions, each rotated to best match the one before.

    Each snapshot's top three principal directions span the 3-D view losing least at that
    snapshot; the basis inside that span is then turned (orthogonal Procrustes,
    ``scipy.linalg.orthogonal_procrustes``; Schoenemann 1966) to lie as close as possible to
    the previous snapshot's, so the view does not flip or spin from one snapshot to the next.

    Parameters
    ----------
    images : ndarray of shape (S, n, k)
        A layer's image of ``n`` points at ``S`` snapshots, ``k >= 3``, layer units.

    Returns
    -------
    list of Projection, length S

    Raises
    ------
    GeomcoreError
        If the images are not of shape (S, n, k >= 3).
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[2] < 3:
        raise GeomcoreError(f"expected images of shape (S, n, k >= 3); got {images.shape}")
    out: list[Projection] = []
    for points in images:
        proj = pca_projection(points)
        if out:
            r, _ = orthogonal_procrustes(proj.components.T, out[-1].components.T)
            proj = Projection(proj.mean, (proj.components.T @ r).T, proj.explained)
        out.append(proj)
    return out


@dataclass(frozen=True)
class AlignedProjection:
    """Per-snapshot projections (:func:`aligned_pca_projections`), at any snapshot coordinate.

    Between snapshots ``i`` and ``i + 1`` the mean, the components and the kept shares are
    interpolated linearly and the components made orthonormal again (their polar factor,
    the nearest orthonormal rows; Higham 1986), so the view turns smoothly.

    Attributes
    ----------
    projections
        One per snapshot.
    """

    projections: tuple[Projection, ...]

    def at(self, snapshot: float) -> Projection:
        """The projection at snapshot coordinate ``snapshot`` (clamped to the snapshots)."""
        last = len(self.projections) - 1
        s = min(max(float(snapshot), 0.0), float(last))
        if s.is_integer():  # at a snapshot: its own projection
            return self.projections[int(s)]
        i = int(np.floor(s))
        f = s - i
        a, b = self.projections[i], self.projections[i + 1]
        u, _, vt = np.linalg.svd((1 - f) * a.components + f * b.components,
                                 full_matrices=False)
        return Projection((1 - f) * a.mean + f * b.mean, u @ vt,
                          (1 - f) * a.explained + f * b.explained)


def mean_displacement(images: np.ndarray, projections: Sequence[Projection]) -> float:
    """Mean distance a projected point moves between consecutive snapshots (layer units).

    Parameters
    ----------
    images : ndarray of shape (S, n, k)
    projections
        One per snapshot (or a single one repeated), each mapping ``(n, k)`` to ``(n, 3)``.
    """
    views = [p(x) for p, x in zip(projections, images)]
    return float(np.mean([np.linalg.norm(b - a, axis=1).mean()
                          for a, b in zip(views[:-1], views[1:])]))
