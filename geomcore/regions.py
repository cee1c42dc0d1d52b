"""K-class decision regions: the cells where one class logit is the largest.

In the viewed layer the class logits ``z = h @ kernel + bias`` (kernel (k, K), bias (K,)) are
affine in ``h``, so the region of class ``i``, ``{h : z_i >= z_j for all j}``, is an
intersection of half-planes: a convex polygon in a 2-unit layer. :func:`decision_regions`
clips the view box by those half-planes exactly (Sutherland–Hodgman clipping of a convex
polygon by one half-plane at a time: Sutherland & Hodgman, "Reentrant polygon clipping",
CACM 17(1), 1974). A class may own no cell. Pulled back to the input plane the boundaries
are curves where the two largest logits tie; :func:`pulled_back_boundaries` traces them by
marching squares (contourpy) like :func:`geomcore.replay.boundary_contours`.

In a 3-unit viewed layer the cells are convex polyhedra clipped to the view cube
(:func:`decision_cells`) and two cells meet on a convex polygon of the plane where their
logits tie (:func:`decision_faces`): the same clipping, one half-space at a time, applied to
a square of that plane (:func:`clip_polygon_to_half_space`).

Numpy and contourpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import contourpy
import numpy as np

from geomcore.geometry import Network

__all__ = [
    "clip_polygon_to_half_plane",
    "clip_polygon_to_half_space",
    "decision_cells",
    "decision_faces",
    "decision_regions",
    "polygon_area",
    "polygon_area_3d",
    "pulled_back_boundaries",
    "top_two_gap",
]


def clip_polygon_to_half_space(polygon: np.ndarray, normal: np.ndarray,
                               offset: float) -> np.ndarray:
    """The part of a convex planar polygon where ``polygon @ normal + offset >= 0``.

    One step of Sutherland–Hodgman clipping (Sutherland & Hodgman, "Reentrant polygon
    clipping", CACM 17(1), 1974), in any dimension: a plane polygon in 3-D is clipped by a
    half-space exactly as a polygon in 2-D by a half-plane.

    Parameters
    ----------
    polygon : ndarray of shape (m, d)
        Vertices in order (either orientation), the first not repeated at the end.
    normal : ndarray of shape (d,)
        Half-space normal (the same units as the polygon).
    offset
        Half-space offset.

    Returns
    -------
    ndarray of shape (m', d), float64
        The clipped polygon's vertices in the same order, ``m' = 0`` when nothing is left.
        A new vertex where an edge crosses the boundary is placed by linear interpolation of
        the signed values ``p @ normal + offset`` at the edge's ends, so it lies on the
        boundary to float64 round-off.
    """
    poly = np.asarray(polygon, dtype=np.float64)
    dim = len(np.asarray(normal))
    if len(poly) == 0:
        return poly.reshape(0, dim)
    s = poly @ np.asarray(normal, dtype=np.float64) + float(offset)
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
        return np.empty((0, dim))
    result = np.array(out)
    # Drop repeated vertices (an edge ending on the boundary gives its end twice).
    keep = np.ones(len(result), dtype=bool)
    for i in range(len(result)):
        if np.array_equal(result[i], result[i - 1]) and len(result) > 1:
            keep[i] = False
    return result[keep]


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
        The clipped polygon's vertices in the same order, ``m' = 0`` when nothing is left
        (see :func:`clip_polygon_to_half_space`).
    """
    return clip_polygon_to_half_space(polygon, np.array([a, b], dtype=np.float64), c)


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


def polygon_area_3d(polygon: np.ndarray) -> float:
    """Area of a planar polygon in space, shape (m, 3) -> float, units squared.

    Half the norm of the sum of the cross products of consecutive vertices (the vector
    area; Stokes' theorem, the shoelace formula's 3-D form).
    """
    p = np.asarray(polygon, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    return float(np.linalg.norm(np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)) / 2.0)


def _check_space_layer(kernel: np.ndarray, bias: np.ndarray,
                       half_side: float) -> tuple[np.ndarray, np.ndarray, float]:
    kernel = np.asarray(kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != 3 or bias.shape != (kernel.shape[1],):
        raise ValueError(f"expected a kernel of shape (3, K) and a bias of shape (K,). "
                         f"Received: {kernel.shape}, {bias.shape}")
    half = float(half_side)
    if not half > 0:
        raise ValueError(f"expected a cube half-side > 0. Received: half_side={half_side!r}")
    return kernel, bias, half


def _cube_clip(polygon: np.ndarray, half: float) -> np.ndarray:
    """``polygon`` (m, 3) clipped to the cube ``[-half, half]^3`` (six half-spaces)."""
    for k in range(3):
        for sign in (1.0, -1.0):
            normal = np.zeros(3)
            normal[k] = sign  # sign * h_k + half >= 0
            polygon = clip_polygon_to_half_space(polygon, normal, half)
    return polygon


def _plane_in_cube(normal: np.ndarray, offset: float, half: float) -> np.ndarray:
    """The polygon ``{h : h @ normal + offset = 0}`` inside the cube, shape (m, 3).

    A square in the plane centred on the point nearest the origin, large enough to hold the
    cube's section (every cube point is within ``sqrt(3) half`` of the origin), clipped by
    the cube's six faces.
    """
    n2 = float(normal @ normal)
    distance = abs(offset) / np.sqrt(n2)
    if distance > np.sqrt(3.0) * half:
        return np.empty((0, 3))
    unit = normal / np.sqrt(n2)
    p0 = -offset * normal / n2
    axis = np.eye(3)[int(np.argmin(np.abs(unit)))]
    e1 = np.cross(unit, axis)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(unit, e1)
    r = 1.01 * np.sqrt(3.0) * half
    square = np.array([p0 + r * (su * e1 + sv * e2)
                       for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
    return _cube_clip(square, half)


def decision_faces(
    kernel: np.ndarray, bias: np.ndarray, half_side: float = 1.0, *, min_area: float = 1e-9
) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """The boundary faces between the K classes' cells in a 3-unit viewed layer.

    With class logits ``z = h @ kernel + bias`` the cell of class ``i`` is the convex
    polyhedron ``{h : z_i >= z_j for all j}`` (an intersection of half-spaces) clipped to
    the view cube; two cells meet on a convex polygon of the plane ``z_i = z_j`` where
    ``i`` and ``j`` are the two largest logits. Each face is built by clipping a square of
    that plane by the cube's six faces and by the half-spaces ``z_i >= z_k`` for every other
    class ``k`` (Sutherland–Hodgman clipping one half-space at a time, see
    :func:`clip_polygon_to_half_space`), so every vertex lies on the tie to float64
    round-off. For one sigmoid unit (K = 2 written as the logits ``(0, z)``,
    :meth:`~geomcore.geometry.Network.class_weights`) there is one face, the plane
    ``w.h + c = 0`` in the cube; a 2-unit softmax output gives the same plane.

    Parameters
    ----------
    kernel : ndarray of shape (3, K)
        The output layer's kernel as class logits (:meth:`Network.class_weights`).
    bias : ndarray of shape (K,)
        Its bias.
    half_side
        Half the side of the view cube ``[-half_side, half_side]^3``, layer units.
    min_area
        Faces of at most this area (layer units squared) are left out: a face that is a
        segment or a point (where three cells meet, or the plane only touches the cube).

    Returns
    -------
    list of (ndarray of shape (m, 3), (i, j))
        One convex polygon per pair of classes ``i < j`` whose cells meet inside the cube,
        vertices in order around it, layer units; pairs that do not meet are absent
        (a class may own no cell at all). Class ``j`` lies on the side the normal
        ``kernel[:, j] - kernel[:, i]`` points to.

    Raises
    ------
    ValueError
        If the shapes do not match or ``half_side`` is not positive.
    """
    kernel, bias, half = _check_space_layer(kernel, bias, half_side)
    k = kernel.shape[1]
    scale = max(float(np.abs(kernel).max(initial=0.0)), 1e-300)
    faces: list[tuple[np.ndarray, tuple[int, int]]] = []
    for i in range(k):
        for j in range(i + 1, k):
            normal = kernel[:, j] - kernel[:, i]
            if np.linalg.norm(normal) <= 1e-12 * scale:
                continue  # parallel logits: they tie everywhere or nowhere, no plane
            poly = _plane_in_cube(normal, bias[j] - bias[i], half)
            for other in range(k):
                if other in (i, j) or len(poly) == 0:
                    continue
                poly = clip_polygon_to_half_space(poly, kernel[:, i] - kernel[:, other],
                                                  bias[i] - bias[other])
            if len(poly) >= 3 and polygon_area_3d(poly) > min_area:
                faces.append((poly, (i, j)))
    return faces


def decision_cells(
    kernel: np.ndarray, bias: np.ndarray, half_side: float = 1.0, *, min_area: float = 1e-9
) -> list[list[np.ndarray] | None]:
    """The cell of each class in a 3-unit viewed layer, as the polygons bounding it.

    The cell of class ``i``, ``{h in cube : z_i >= z_j for all j}``, is a convex polyhedron
    (an intersection of half-spaces). Its boundary is made of the cube's faces clipped by the
    half-spaces ``z_i >= z_j`` (Sutherland–Hodgman, :func:`clip_polygon_to_half_space`) and
    of the decision faces of :func:`decision_faces` that involve ``i``.

    Parameters
    ----------
    kernel : ndarray of shape (3, K)
        The output layer's kernel as class logits.
    bias : ndarray of shape (K,)
        Its bias.
    half_side
        Half the side of the view cube, layer units.
    min_area
        Boundary polygons of at most this area (layer units squared) are left out.

    Returns
    -------
    list of K entries, each a list of ndarray of shape (m, 3), or None
        Entry ``i``: the convex polygons bounding class ``i``'s cell (its vertices are
        those of the polyhedron), or ``None`` if class ``i`` owns no cell in the cube.

    Raises
    ------
    ValueError
        If the shapes do not match or ``half_side`` is not positive.
    """
    kernel, bias, half = _check_space_layer(kernel, bias, half_side)
    k = kernel.shape[1]
    faces = decision_faces(kernel, bias, half, min_area=min_area)
    squares = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            corners = []
            for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = np.empty(3)
                p[axis] = sign * half
                p[[a for a in range(3) if a != axis]] = (su * half, sv * half)
                corners.append(p)
            squares.append(np.array(corners))
    cells: list[list[np.ndarray] | None] = []
    for i in range(k):
        bounding = []
        for square in squares:
            poly = square
            for j in range(k):
                if j == i or len(poly) == 0:
                    continue
                poly = clip_polygon_to_half_space(poly, kernel[:, i] - kernel[:, j],
                                                  bias[i] - bias[j])
            if len(poly) >= 3 and polygon_area_3d(poly) > min_area:
                bounding.append(poly)
        bounding += [poly for poly, pair in faces if i in pair]
        cells.append(bounding or None)
    return cells


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
