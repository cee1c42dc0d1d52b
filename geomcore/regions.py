"""K-class decision regions: the cells where one class logit is the largest.

In the viewed layer the class logits ``z = h @ kernel + bias`` (kernel (k, K), bias (K,)) are
affine in ``h``, so the region of class ``i``, ``{h : z_i >= z_j for all j}``, is an
intersection of half-planes: a convex polygon in a 2-unit layer. :func:`decision_regions`
clips the view box by those half-planes exactly (Sutherland–Hodgman clipping of a convex
polygon by one half-plane at a time: Sutherland & Hodgman, "Reentrant polygon clipping",
CACM 17(1), 1974). A class may own no cell. Pulled back to the input plane the boundaries
are curves where the two largest logits tie; :func:`pulled_back_boundaries` traces them by
marching squares (contourpy) like :func:`geomcore.replay.boundary_contours`.

Numpy and contourpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import contourpy
import numpy as np

from geomcore.geometry import Network

__all__ = [
    "clip_polygon_to_half_plane",
    "decision_regions",
    "polygon_area",
    "pulled_back_boundaries",
    "top_two_gap",
]


def clip_polygon_to_half_plane(polygon: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """The part of a convex polygon where ``a u + b v + c >= 0``.

    Parameters
    ----------
    polygon : ndarray of shape (m, 2)
        Vertices in order (either orientation), the first not repeated at the end.
    a, b, c
        Half-plane coefficients (the same units as the polygon).

    Returns
    -------
    ndarray of shape (m', 2), float64
        The clipped polygon's vertices in the same order, ``m' = 0`` when nothing is left.
        A new vertex where an edge crosses the line is placed by linear interpolation of the
        signed values ``a u + b v + c`` at the edge's ends, so it lies on the line to
        float64 round-off.
    """
    poly = np.asarray(polygon, dtype=np.float64)
    if len(poly) == 0:
        return poly.reshape(0, 2)
    s = poly @ np.array([a, b], dtype=np.float64) + c
    out: list[np.ndarray] = []
    m = len(poly)
    for i in range(m):
        j = (i + 1) % m
        p, q, sp, sq = poly[i], poly[j], s[i], s[j]
        if sp >= 0:
            out.append(p)
        if (sp >= 0) != (sq >= 0) and sp != sq:
            t = sp / (sp - sq)
            out.append(p + t * (q - p))
    if not out:
        return np.empty((0, 2))
    result = np.array(out)
    # Drop repeated vertices (an edge ending on the line gives its end twice).
    keep = np.ones(len(result), dtype=bool)
    for i in range(len(result)):
        if np.array_equal(result[i], result[i - 1]) and len(result) > 1:
            keep[i] = False
    return result[keep]


def polygon_area(polygon: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula), shape (m, 2) -> float, units squared."""
    p = np.asarray(polygon, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    u, v = p[:, 0], p[:, 1]
    return float(abs(np.dot(u, np.roll(v, -1)) - np.dot(v, np.roll(u, -1))) / 2.0)


def decision_regions(
    kernel: np.ndarray, bias: np.ndarray, box: Sequence[float], *, min_area: float = 0.0
) -> list[np.ndarray | None]:
    """The cell of each class in a 2-unit viewed layer, clipped to the view box.

    Parameters
    ----------
    kernel : ndarray of shape (2, K)
        The output layer's kernel as class logits (:meth:`Network.class_weights`).
    bias : ndarray of shape (K,)
        Its bias.
    box
        ``(umin, umax, vmin, vmax)``, the view box in the layer's units.
    min_area
        Cells of at most this area (units squared) count as empty: with the default 0,
        a cell that is a segment or a point (ties only) is empty.

    Returns
    -------
    list of K entries, each ndarray of shape (m, 2) or None
        Entry ``i``: the convex polygon ``{h in box : z_i(h) >= z_j(h) for all j}``,
        anticlockwise from the box's lower-left side, or ``None`` if class ``i`` owns no
        cell in the box.

    Raises
    ------
    ValueError
        If the shapes do not match or the box is empty.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != 2 or bias.shape != (kernel.shape[1],):
        raise ValueError(f"expected a kernel of shape (2, K) and a bias of shape (K,). "
                         f"Received: {kernel.shape}, {bias.shape}")
    umin, umax, vmin, vmax = (float(v) for v in box)
    if not (umin < umax and vmin < vmax):
        raise ValueError(f"expected a box (umin, umax, vmin, vmax) with min < max. "
                         f"Received: {tuple(box)}")
    rect = np.array([[umin, vmin], [umax, vmin], [umax, vmax], [umin, vmax]])
    k = kernel.shape[1]
    regions: list[np.ndarray | None] = []
    for i in range(k):
        poly = rect
        for j in range(k):
            if j == i or len(poly) == 0:
                continue
            d = kernel[:, i] - kernel[:, j]
            poly = clip_polygon_to_half_plane(poly, d[0], d[1], bias[i] - bias[j])
        regions.append(poly if len(poly) >= 3 and polygon_area(poly) > min_area else None)
    return regions


def top_two_gap(logits: np.ndarray) -> np.ndarray:
    """Largest minus second largest logit of each row, shape (n, K) -> (n,); 0 on a tie."""
    z = np.sort(np.asarray(logits, dtype=np.float64), axis=1)
    return z[:, -1] - z[:, -2]


def pulled_back_boundaries(
    network: Network, box: Sequence[float], resolution: int = 160
) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """The K-class decision boundaries in the input plane: where the two largest logits tie.

    For each pair of classes ``i < j`` the zero set of ``z_j - z_i`` is traced on a
    ``resolution x resolution`` grid over ``box`` (marching squares, contourpy), and only the
    pieces where ``i`` and ``j`` are the two largest logits are kept: each polyline is cut
    at its vertices where another class's logit is larger. The curves are exact up to the
    grid's linear interpolation (and stop up to one grid cell short of a point where three
    classes tie). For one sigmoid unit (K = 2) this is :func:`geomcore.replay.boundary_contours`'s
    curve.

    Parameters
    ----------
    network
        The network (sigmoid or K-unit softmax output).
    box
        ``(xmin, xmax, ymin, ymax)`` in data units.
    resolution
        Samples per axis.

    Returns
    -------
    list of (ndarray of shape (m, 2), (i, j))
        Polylines in data units with the pair of classes they separate; empty when no two
        classes tie in the box.
    """
    xmin, xmax, ymin, ymax = (float(v) for v in box)
    xs = np.linspace(xmin, xmax, resolution)
    ys = np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)
    z = network.class_logits(np.column_stack([gx.ravel(), gy.ravel()]))
    if not np.all(np.isfinite(z)):
        return []
    k = z.shape[1]
    out: list[tuple[np.ndarray, tuple[int, int]]] = []
    for i in range(k):
        for j in range(i + 1, k):
            # z_j - z_i, as today's logit: class j on the positive side, same orientation.
            diff = (z[:, j] - z[:, i]).reshape(gx.shape)
            gen = contourpy.contour_generator(xs, ys, diff, line_type=contourpy.LineType.Separate)
            for line in gen.lines(0.0):
                line = np.asarray(line, dtype=np.float64)
                if len(line) < 2:
                    continue
                zl = network.class_logits(line)
                others = np.delete(zl, [i, j], axis=1)
                pair_low = np.minimum(zl[:, i], zl[:, j])
                ok = (np.all(others <= pair_low[:, None], axis=1) if others.shape[1]
                      else np.ones(len(line), dtype=bool))
                # Split the polyline into runs of consecutive vertices where (i, j) lead.
                edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
                for start, stop in zip(edges[::2], edges[1::2]):
                    if stop - start >= 2:
                        out.append((line[start:stop], (i, j)))
    return out
