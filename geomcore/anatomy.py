"""What one layer does, and what the composition does to the plane: numpy geometry.

- the three visible steps of a Dense layer (linear map, bias, activation) as a homotopy;
- the ellipse a kernel makes of the unit circle (singular values and vectors);
- determinants of 2x2 kernels along training (a 2->2 tanh layer with an invertible kernel is
  a homeomorphism onto its image);
- fold curves: where the Jacobian determinant of the map from the input plane to a 2-unit
  layer vanishes or changes sign;
- the decision surface in a 3-unit layer (the preimage of the decision line);
- projections for drawing 3-D and 4-D layers in the plane (orthographic camera, PCA).

Conventions follow :mod:`geomcore.geometry` (row vectors, ``x @ kernel + bias``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import contourpy
import numpy as np

from geomcore.geometry import Network, clip_line_to_box
from geomcore.trajectory import Trajectory

__all__ = [
    "KernelEllipse",
    "Projection",
    "SpaceContent",
    "replay_space",
    "steps_space",
    "decision_surface",
    "embed",
    "fold_curves",
    "kernel_determinants",
    "kernel_ellipse",
    "layer_steps",
    "orbit_camera",
    "pca_projection",
]


def embed(points: np.ndarray, dim: int) -> np.ndarray:
    """Pad points ``(..., k)`` with zeros (or cut them) to ``(..., dim)``."""
    p = np.asarray(points, dtype=np.float64)
    out = np.zeros((*p.shape[:-1], dim))
    k = min(dim, p.shape[-1])
    out[..., :k] = p[..., :k]
    return out


def layer_steps(network: Network, layer: int | str, x: np.ndarray, t: float) -> np.ndarray:
    """Points on their way through one layer's three steps, for animating a layer.

    ``t`` in [0, 3]: 0 the layer's inputs, 1 after the linear map ``h @ kernel``, 2 after
    the bias, 3 after the activation; straight-line motion in between. When the layer
    changes dimension both ends are embedded in the larger space (zeros padded), so a 2->3
    layer lifts the plane into space and a 3->2 layer flattens space onto a plane.

    Parameters
    ----------
    network
        The network.
    layer
        Index or name of the layer.
    x : ndarray of shape (n, 2)
        Points in the input plane, data units.
    t
        Progress through the steps, in [0, 3].

    Returns
    -------
    ndarray of shape (n, max(in, out))
    """
    st = network.stages(x, layer)
    dim = max(st.inputs.shape[1], st.outputs.shape[1])
    keys = [embed(a, dim) for a in (st.inputs, st.linear, st.affine, st.outputs)]
    t = float(np.clip(t, 0.0, 3.0))
    i = min(int(np.floor(t)), 2)
    frac = t - i
    return (1 - frac) * keys[i] + frac * keys[i + 1]


@dataclass(frozen=True)
class KernelEllipse:
    """The image of the unit circle under ``x -> x @ kernel`` for a 2x2 kernel.

    With ``kernel = U diag(s) V^T`` (SVD), the image is an ellipse whose semi-axes are
    ``s[i] * V^T[i]``: the kernel stretches by the singular values along the rows of
    ``V^T`` after a rotation (or reflection, when ``det < 0``) given by ``U``.

    Attributes
    ----------
    singular_values : ndarray of shape (2,)
        Descending.
    axes : ndarray of shape (2, 2)
        Rows: the semi-axes as vectors (``singular_values[i] * directions[i]``).
    rotation_degrees
        Angle of the major axis from the first coordinate axis, degrees in (-90, 90].
    determinant
        ``det(kernel)``; its sign says whether the map keeps or flips orientation.
    """

    singular_values: np.ndarray
    axes: np.ndarray
    rotation_degrees: float
    determinant: float

    def boundary(self, samples: int = 200) -> np.ndarray:
        """Points on the ellipse, shape (samples, 2)."""
        theta = np.linspace(0, 2 * np.pi, samples)
        return np.outer(np.cos(theta), self.axes[0]) + np.outer(np.sin(theta), self.axes[1])


def kernel_ellipse(kernel: np.ndarray) -> KernelEllipse:
    """The ellipse a 2x2 kernel makes of the unit circle (see :class:`KernelEllipse`).

    Raises
    ------
    ValueError
        If ``kernel`` is not 2x2.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.shape != (2, 2):
        raise ValueError(f"expected a 2x2 kernel. Received shape {k.shape}")
    _, s, vt = np.linalg.svd(k)
    axes = s[:, None] * vt
    angle = float(np.degrees(np.arctan2(vt[0, 1], vt[0, 0])))
    angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
    return KernelEllipse(s, axes, angle, float(np.linalg.det(k)))


def kernel_determinants(trajectory: Trajectory) -> dict[str, np.ndarray]:
    """``det(kernel)`` of every 2x2 layer at every snapshot.

    Returns
    -------
    dict of layer name -> ndarray of shape (S,)
        Only layers whose kernel is 2x2 (a map from a plane to a plane).
    """
    out = {}
    for name in trajectory.layer_names:
        k = trajectory.arrays[f"kernel.{name}"]
        if k.shape[1:] == (2, 2):
            out[name] = np.linalg.det(k.astype(np.float64))
    return out


def fold_curves(
    network: Network, box: Sequence[float], *, upto: int | str | None = None,
    resolution: int = 160,
) -> list[np.ndarray]:
    """Curves in the input plane where the map to a 2-unit layer folds.

    The map ``f`` from the input plane to the layer is sampled on a grid and
    ``det J_f`` computed by central finite differences
    (:meth:`geomcore.geometry.Network.jacobian_determinant`); the fold curves are its zero
    set, traced by marching squares. There ``f`` stops being locally invertible: on either
    side of a sign change the plane is laid over itself in opposite orientations.

    Parameters
    ----------
    network
        The network.
    box
        ``(xmin, xmax, ymin, ymax)``, data units.
    upto
        The 2-unit layer; default the last hidden layer.
    resolution
        Samples per axis.

    Returns
    -------
    list of ndarray of shape (k, 2)
        Polylines in data units; empty where the map does not fold (e.g. every layer a
        2->2 tanh with an invertible kernel). Where ``det J`` vanishes on whole regions
        (ReLU), the edges of those regions.
    """
    xmin, xmax, ymin, ymax = (float(v) for v in box)
    xs = np.linspace(xmin, xmax, resolution)
    ys = np.linspace(ymin, ymax, resolution)
    gx, gy = np.meshgrid(xs, ys)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    det = network.jacobian_determinant(pts, upto=upto).reshape(gx.shape)
    scale = np.max(np.abs(det))
    if not np.isfinite(scale) or scale == 0:
        return []
    det = det / scale
    gen = contourpy.contour_generator(xs, ys, det, line_type=contourpy.LineType.Separate)
    # A smooth map folds where det J changes sign: the zero level. A piecewise-linear one
    # (ReLU) has whole regions where det J is exactly 0; their edges are traced just above
    # and just below zero instead, since the zero level would wander inside the plateau.
    if np.mean(np.abs(det) <= 1e-12) > 0.005:
        levels = (1e-6, -1e-6)
    else:
        levels = (0.0,)
    return [
        np.asarray(c, dtype=np.float64)
        for level in levels
        for c in gen.lines(level)
        if len(c) >= 2
    ]


def decision_surface(
    network: Network, *, samples: int = 40, cube: float = 1.0, margin: float = 1e-3
) -> np.ndarray | None:
    """The decision surface in a 3-unit layer followed by a 3->2 tanh layer and the output.

    With ``h`` in the 3-unit layer, ``u = tanh(h @ W + b)`` in the 2-unit layer and the
    decision line ``a u1 + b u2 + c = 0``, the surface is ``{h : u(h) on the line}``. Each
    point ``u`` of the line inside the open square ``(-1, 1)^2`` has the preimage
    ``z = artanh(u)`` and the affine line ``h0 + s n`` of solutions of ``h @ W = z - b``,
    with ``h0`` the least-norm solution and ``n`` the kernel's null direction
    (``n`` orthogonal to both columns of ``W``). The surface is the union of those lines:
    a ruled surface, sampled here and clipped to the cube ``[-cube, cube]^3`` where a tanh
    layer's outputs live.

    Parameters
    ----------
    network
        Layers ``... -> 3 units -> 2 units (tanh) -> 1``.
    samples
        Samples along the decision line and along each ruling.
    cube
        Half-side of the cube the surface is clipped to, layer units.
    margin
        Distance kept from the square's edge, where ``artanh`` diverges.

    Returns
    -------
    ndarray of shape (samples, samples, 3) or None
        Vertices ``[i, j]`` (line sample ``i``, ruling sample ``j``); ``None`` when there is
        no decision line in the square or no ruling meets the cube. Rows whose ruling misses
        the cube repeat the nearest valid row.

    Raises
    ------
    ValueError
        If the network's last hidden layers are not 3 then 2 units with tanh.
    """
    widths = network.widths
    if len(widths) < 3 or widths[-3] != 3 or widths[-2] != 2 or network.activations[-2] != "tanh":
        raise ValueError(
            "decision_surface needs layers ... -> 3 units -> 2 units (tanh) -> 1. "
            f"Received widths {widths} and activations {network.activations}"
        )
    w = network.kernels[-2].astype(np.float64)  # (3, 2)
    bias = network.biases[-2].astype(np.float64)
    a, b, c = network.boundary_coefficients()
    lim = 1.0 - margin
    segment = clip_line_to_box(a, b, c, (-lim, lim, -lim, lim))
    if segment is None:
        return None
    n = np.cross(w[:, 0], w[:, 1])
    if np.linalg.norm(n) < 1e-12:
        return None
    n /= np.linalg.norm(n)
    u = segment[0] + np.linspace(0, 1, samples)[:, None] * (segment[1] - segment[0])
    z = np.arctanh(u) - bias  # (samples, 2): need h @ w = z
    h0 = z @ np.linalg.pinv(w)  # least-norm solutions, (samples, 3)
    # Clip each ruling h0 + s n to the cube: s in [lo, hi] (slab method, axis by axis).
    lo = np.full(samples, -np.inf)
    hi = np.full(samples, np.inf)
    valid = np.ones(samples, dtype=bool)
    for k in range(3):
        if abs(n[k]) > 1e-12:
            s1, s2 = (-cube - h0[:, k]) / n[k], (cube - h0[:, k]) / n[k]
            lo, hi = np.maximum(lo, np.minimum(s1, s2)), np.minimum(hi, np.maximum(s1, s2))
        else:
            valid &= np.abs(h0[:, k]) <= cube
    valid &= lo <= hi
    if not valid.any():
        return None
    idx = np.arange(samples)
    nearest = np.array([idx[valid][np.argmin(np.abs(idx[valid] - i))] for i in idx])
    lo, hi, h0 = lo[nearest], hi[nearest], h0[nearest]
    s = lo[:, None] + np.linspace(0, 1, samples)[None, :] * (hi - lo)[:, None]
    return h0[:, None, :] + s[..., None] * n


@dataclass(frozen=True)
class Projection:
    """A linear map from k-D layer units to 3-D for drawing, with what it keeps.

    Attributes
    ----------
    mean : ndarray of shape (k,)
    components : ndarray of shape (3, k)
        Orthonormal rows.
    explained : ndarray of shape (3,)
        Share of the variance each component keeps; ``1 - explained.sum()`` is hidden.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Project points ``(..., k)`` to ``(..., 3)``."""
        return (np.asarray(points, dtype=np.float64) - self.mean) @ self.components.T


def pca_projection(points: np.ndarray) -> Projection:
    """Principal components of points ``(n, k)``, ``k >= 3``: the 3-D view losing least.

    Raises
    ------
    ValueError
        If the points are not at least 3-dimensional.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"expected points of shape (n, k >= 3). Received {p.shape}")
    mean = p.mean(axis=0)
    _, s, vt = np.linalg.svd(p - mean, full_matrices=False)
    var = s**2
    total = var.sum() if var.sum() > 0 else 1.0
    return Projection(mean, vt[:3], var[:3] / total)


def orbit_camera(
    points: np.ndarray, azimuth_degrees: float, elevation_degrees: float
) -> tuple[np.ndarray, np.ndarray]:
    """Orthographic view of 3-D points from a camera orbiting the origin.

    The camera looks at the origin from azimuth ``azimuth_degrees`` (about the third axis,
    from the first) and elevation ``elevation_degrees`` (above the plane of the first two).

    Parameters
    ----------
    points : ndarray of shape (..., 3)

    Returns
    -------
    screen : ndarray of shape (..., 2)
        Screen coordinates (right, up), same units as the points.
    depth : ndarray of shape (...)
        Distance towards the camera (larger is nearer), for draw order.
    """
    az, el = np.radians(azimuth_degrees), np.radians(elevation_degrees)
    right = np.array([-np.sin(az), np.cos(az), 0.0])
    toward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    up = np.cross(toward, right)
    p = np.asarray(points, dtype=np.float64)
    return np.stack([p @ right, p @ up], axis=-1), p @ toward



@dataclass(frozen=True)
class SpaceContent:
    """What a 3-D view draws at one instant, in layer units.

    Attributes
    ----------
    probe : ndarray of shape (P, 3)
    grid : ndarray of shape (G, M, 3)
    surface : ndarray of shape (I, J, 3) or None
        A parametric surface (the decision surface), drawn as a wireframe.
    class_weights : (ndarray of shape (3, K), ndarray of shape (K,)) or None
        The output layer as class logits on this layer
        (:meth:`~geomcore.geometry.Network.class_weights`) when the layer feeds the output
        directly: the view draws the faces between the classes' cells
        (:func:`geomcore.regions.decision_faces`) clipped to its own cube.
    """

    probe: np.ndarray
    grid: np.ndarray
    surface: np.ndarray | None = None
    class_weights: tuple[np.ndarray, np.ndarray] | None = None


def replay_space(
    replay: object, layer: str = "hidden_1", projection: object | None = None,
    grid_stride: int = 4,
) -> Callable[[float], SpaceContent]:
    """Content of a 3-D view of ``layer`` along a replay: ``progress -> SpaceContent``.

    Parameters
    ----------
    replay
        A :class:`geomcore.replay.Replay`.
    layer
        A hidden layer 3 units wide, or wider with a ``projection`` to 3-D.
    projection
        Applied to the layer's outputs (e.g. :func:`pca_projection` for a 4-unit layer); or
        an object with ``at(snapshot) -> Projection`` (a projection that follows training,
        :class:`geomcore.topology.AlignedProjection`), asked at the replay's snapshot.
    grid_stride
        Every ``grid_stride``-th sample of each grid line is computed.

    The decision surface is included when ``layer`` is 3 wide and followed by the 3->2 tanh
    layer before the output (with any other activation there is none). When ``layer`` is 3
    wide and feeds the output directly (sigmoid or K-unit softmax), the output layer's class
    weights are included instead: the view draws the faces between the classes' cells.
    """
    traj = replay.trajectory  # type: ignore[attr-defined]
    probe_in = traj.probe_inputs
    grid_in = traj.grid_inputs[:, ::grid_stride]
    names = traj.layer_names
    with_surface = (
        projection is None and len(names) >= 3 and names[-3] == layer
        and traj.widths[-3] == 3 and traj.widths[-2] == 2
        # decision_surface solves for tanh's inverse: other activations show no surface.
        and traj.network(0).activations[-2] == "tanh"
    )
    with_faces = projection is None and names[-2] == layer and traj.widths[-2] == 3

    def content(progress: float) -> SpaceContent:
        if with_faces and layer == getattr(replay, "layer", None):
            # The replay's own frame (cached): the other views on this clock computed it.
            frame = replay.frame(progress)  # type: ignore[attr-defined]
            return SpaceContent(frame.probe, frame.grid[:, ::grid_stride],
                                class_weights=frame.network.class_weights())
        net = replay.network_at(progress)  # type: ignore[attr-defined]
        probe = net.forward(probe_in, upto=layer)
        grid = net.forward(grid_in.reshape(-1, 2), upto=layer).reshape(*grid_in.shape[:2], -1)
        if with_faces:
            return SpaceContent(probe, grid, class_weights=net.class_weights())
        if projection is not None:
            at = getattr(projection, "at", None)
            proj = at(replay.snapshot_at(progress)) if at else projection  # type: ignore
            probe, grid = proj(probe), proj(grid)
        surface = decision_surface(net, samples=30) if with_surface else None
        return SpaceContent(probe, grid, surface)

    return content


def steps_space(
    network: Network, layer: int | str, probe: np.ndarray, grid: np.ndarray
) -> Callable[[float], SpaceContent]:
    """Content of a 3-D view of one layer's steps (``t`` in [0, 3], see :func:`layer_steps`).

    For a 2->3 layer the plane is lifted into space; for a 3->2 layer space is flattened
    onto the plane ``h3 = 0``.

    Parameters
    ----------
    probe : ndarray of shape (P, 2)
        Data points, data units.
    grid : ndarray of shape (G, M, 2)
        Grid lines, data units.
    """
    shape = grid.shape[:2]

    def content(t: float) -> SpaceContent:
        p = embed(layer_steps(network, layer, probe, t), 3)
        g = embed(layer_steps(network, layer, grid.reshape(-1, 2), t), 3).reshape(*shape, 3)
        return SpaceContent(p, g)

    return content
