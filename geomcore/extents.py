"""Boxes, ranges and outlines that the Manim building blocks draw: numpy geometry only.

What lives here: the extent of a layer's recorded images (:func:`layer_box`), of what a
replay draws in a layer (:func:`replay_box`), of points travelling through the layers
(:func:`homotopy_box`), a box widened to hold given points (:func:`covering_box`), the box that
holds every step of a layer (:func:`layer_steps_box`), the edges of the cube around a 3-D
layer (:func:`cube_edges`), the unit circle on its way to a kernel's ellipse
(:func:`unit_circle_image`), the wireframe of a decision surface (:func:`surface_wireframe`)
and the value ranges of plots (:func:`log_range`, :func:`padded_range`).

What it may import: numpy and the numpy core (:mod:`geomcore.geometry`,
:mod:`geomcore.anatomy`, :mod:`geomcore.trajectory`); never Manim, never TensorFlow.
:mod:`geomcore.views` maps the results to scene units and draws them.

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations. Boxes are ``(umin, umax, vmin, vmax)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from geomcore.anatomy import layer_steps
from geomcore.errors import GeomcoreError
from geomcore.geometry import Network
from geomcore.trajectory import Trajectory

if TYPE_CHECKING:
    from geomcore.replay import Replay

__all__ = [
    "covering_box",
    "cube_edges",
    "homotopy_box",
    "layer_box",
    "layer_steps_box",
    "log_range",
    "padded_range",
    "replay_box",
    "square_box",
    "surface_wireframe",
    "unit_circle_image",
]

Box = tuple[float, float, float, float]


def layer_box(trajectory: Trajectory, layer: str, margin: float = 0.08) -> Box:
    """A square box holding a layer's recorded grid and probe images at every snapshot.

    For tanh layers this is about ``(-1, 1)^2``; unbounded activations (ReLU) need it.
    Non-finite values (a diverged run) are ignored.

    Parameters
    ----------
    trajectory
        A recorded run with arrays ``grid.<layer>`` of shape ``(S, G, M, 2)`` and
        ``probe.<layer>`` of shape ``(S, P, 2)``.
    layer
        Name of a 2-unit layer.
    margin
        Fraction of the largest side added to the box (half on each side).

    Returns
    -------
    tuple of 4 floats
        ``(umin, umax, vmin, vmax)`` in layer units; ``umax - umin == vmax - vmin``.

    Raises
    ------
    GeomcoreError
        If the trajectory has no 2-unit grid or probe images for ``layer``.
    """
    arrays = trajectory.arrays
    keys = (f"grid.{layer}", f"probe.{layer}")
    missing = [k for k in keys if k not in arrays]
    if missing or any(arrays[k].shape[-1] != 2 for k in keys):
        raise GeomcoreError(
            f"layer_box: no 2-unit images of layer {layer!r} in the trajectory "
            f"(missing or not 2-wide: {missing or list(keys)}); expected a 2-unit recorded layer"
        )
    return square_box([arrays[keys[0]], arrays[keys[1]]], margin)


def square_box(arrays: Sequence[np.ndarray], margin: float = 0.08) -> Box:
    """The smallest square holding the finite points of ``arrays`` (each ``(..., 2)``),
    widened by ``margin`` of its side; ``(-1, 1)^2`` if no point is finite.

    Returns
    -------
    tuple of 4 floats
        ``(umin, umax, vmin, vmax)``, the arrays' units; ``umax - umin == vmax - vmin``.
    """
    pts = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    # 1e-6: a layer that collapsed to a point still gets a box of positive size.
    mid, half = 0.5 * (lo + hi), 0.5 * float(np.max(hi - lo)) * (1 + margin) + 1e-6
    return (float(mid[0] - half), float(mid[0] + half), float(mid[1] - half),
            float(mid[1] + half))


def replay_box(replay: Replay, layer: str | None = None, margin: float = 0.08,
               between: int = 1) -> Box:
    """A square box holding everything a replay draws in a 2-unit layer, start to end.

    The probe points and grid lines are sent through the network of every snapshot the
    replay shows (up to a divergence) and of ``between`` evenly spaced instants inside
    each interval (the replay's weights are a spline through the snapshots and may
    overshoot them), exactly as :meth:`geomcore.replay.Replay.frame` does; the box holds
    all their finite images, for any activation (bounded or not).

    Parameters
    ----------
    replay
        The replay.
    layer
        A 2-unit layer; the replay's viewed layer by default.
    margin
        Fraction of the side added (half on each side).
    between
        Instants sampled strictly inside each interval between snapshots.

    Returns
    -------
    tuple of 4 floats
        ``(umin, umax, vmin, vmax)`` in layer units; ``umax - umin == vmax - vmin``.

    Raises
    ------
    GeomcoreError
        If ``layer`` is not 2 units wide.
    """
    traj = replay.trajectory
    layer = layer or replay.layer
    first = traj.network(0)
    if first.widths[first.layer_index(layer)] != 2:
        raise GeomcoreError(f"replay_box: layer {layer!r} is "
                            f"{first.widths[first.layer_index(layer)]} units wide; expected 2")
    inputs = np.concatenate([traj.probe_inputs.reshape(-1, 2), traj.grid_inputs.reshape(-1, 2)])
    steps = np.arange(replay.n_snapshots, dtype=np.float64)
    inside = (steps[:-1, None] + np.arange(1, between + 1) / (between + 1)).ravel()
    images = [replay.network_at_snapshot(s).forward(inputs, upto=layer)
              for s in np.concatenate([steps, inside])]
    return square_box(images, margin)


def homotopy_box(network: Network, points: np.ndarray, grid: np.ndarray,
                 margin: float = 0.08) -> Box:
    """A square box holding points and grid at every depth of
    :func:`geomcore.replay.layer_homotopy`: the inputs and the output of each leading
    2-unit layer (in between they move in straight lines, so stay inside).

    Parameters
    ----------
    network
        The network.
    points : ndarray of shape (P, 2)
        Data points, data units.
    grid : ndarray of shape (G, M, 2)
        Grid lines, data units.
    margin
        Fraction of the side added (half on each side).

    Returns
    -------
    tuple of 4 floats
        ``(umin, umax, vmin, vmax)`` in data and layer units, a square.
    """
    inputs = np.concatenate([np.asarray(points).reshape(-1, 2), np.asarray(grid).reshape(-1, 2)])
    images = [inputs]
    for i, width in enumerate(network.widths):
        if width != 2:
            break
        images.append(network.forward(inputs, upto=i))
    return square_box(images, margin)


def covering_box(box: Box, *arrays: np.ndarray, margin: float = 0.05) -> Box:
    """``box``, or, if some finite points of ``arrays`` lie outside it, ``box`` scaled about
    its centre (aspect ratio kept) until they fit, plus ``margin`` of its size.

    Keeping the aspect ratio keeps a view's frame the same size in the scene.

    Parameters
    ----------
    box
        ``(umin, umax, vmin, vmax)``, data or layer units.
    *arrays : ndarrays of shape (..., 2)
        Points that must be inside.
    margin
        Fraction added when the box has to grow.

    Returns
    -------
    tuple of 4 floats
        A box with the same centre and aspect ratio as ``box``, at least as large.
    """
    if not arrays:
        return box
    pts = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    cu, cv = 0.5 * (box[0] + box[1]), 0.5 * (box[2] + box[3])
    hu, hv = 0.5 * (box[1] - box[0]), 0.5 * (box[3] - box[2])
    if len(pts) == 0:
        return box
    factor = max(float(np.max(np.abs(pts[:, 0] - cu))) / hu,
                 float(np.max(np.abs(pts[:, 1] - cv))) / hv)
    if factor <= 1.0:
        return box
    factor *= 1 + margin
    return (cu - factor * hu, cu + factor * hu, cv - factor * hv, cv + factor * hv)


def layer_steps_box(network: Network, layer: int | str, grid: np.ndarray,
                    margin: float = 0.1) -> Box:
    """A square box about the origin holding a grid at every step of a 2->2 layer.

    The steps are those of :func:`geomcore.anatomy.layer_steps` (inputs, linear map, bias,
    activation); the half-side is the largest absolute coordinate reached at any step, at
    least 1 (so the unit circle fits), times ``1 + margin``.

    Parameters
    ----------
    network
        The network.
    layer
        A 2->2 layer, by index or name.
    grid : ndarray of shape (..., 2)
        Grid points in the input plane, data units.
    margin
        Fraction added to the reach.

    Returns
    -------
    tuple of 4 floats
        ``(-r, r, -r, r)`` in data and layer units.
    """
    flat = np.asarray(grid).reshape(-1, 2)
    reach = max(float(np.abs(layer_steps(network, layer, flat, t)).max())
                for t in (0.0, 1.0, 2.0, 3.0))
    reach = max(reach, 1.0) * (1 + margin)
    return (-reach, reach, -reach, reach)


def cube_edges(half_side: float = 1.0) -> np.ndarray:
    """The 12 edges of the cube ``[-half_side, half_side]^3`` as 2-point polylines.

    Parameters
    ----------
    half_side
        Half the side length, layer units.

    Returns
    -------
    ndarray of shape (12, 2, 3)
        Start and end of each edge, layer units; corners ordered as ``(x, y, z)`` in
        ``itertools.product`` order, edges ``(i, j)`` with ``i < j``.
    """
    h = float(half_side)
    corners = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)])
    # An edge joins two corners that differ in exactly one coordinate.
    edges = [(i, j) for i in range(8) for j in range(i + 1, 8)
             if np.sum(corners[i] != corners[j]) == 1]
    return np.stack([np.linspace(corners[i], corners[j], 2) for i, j in edges])


def unit_circle_image(kernel: np.ndarray, s: float, samples: int = 120) -> np.ndarray:
    """The unit circle on a straight-line way to its image under a kernel.

    Row vectors, as everywhere in geomcore: a point ``x`` goes to
    ``(1 - s) x + s x @ kernel``; at ``s = 1`` the circle is the kernel's ellipse (see
    :func:`geomcore.anatomy.kernel_ellipse`).

    Parameters
    ----------
    kernel : ndarray of shape (2, 2)
        A 2->2 layer's kernel.
    s
        Progress of the linear step, clipped to [0, 1].
    samples
        Points on the circle (the first and last coincide).

    Returns
    -------
    ndarray of shape (samples, 2)
        Data and layer units.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.shape != (2, 2):
        raise GeomcoreError(f"unit_circle_image: kernel of shape {k.shape}; expected (2, 2)")
    theta = np.linspace(0, 2 * np.pi, samples)
    circle = np.column_stack([np.cos(theta), np.sin(theta)])
    s = float(np.clip(s, 0, 1))
    return (1 - s) * circle + s * circle @ k


def surface_wireframe(surface: np.ndarray, rulings: int = 12,
                      across: int = 6) -> list[np.ndarray]:
    """About ``rulings`` lines along a sampled surface and ``across`` lines across it.

    Parameters
    ----------
    surface : ndarray of shape (R, C, 3)
        A surface sampled on an ``R x C`` grid, layer units (e.g. the decision surface of
        :func:`geomcore.anatomy.decision_surface`).
    rulings, across
        Wanted number of lines of each family; every ``max(1, R // rulings)``-th row and
        every ``max(1, C // across)``-th column is kept.

    Returns
    -------
    list of ndarray
        The kept rows, each ``(C, 3)``, then the kept columns, each ``(R, 3)``.
    """
    s = np.asarray(surface)
    rows = s[:: max(1, s.shape[0] // rulings)]
    cols = s[:, :: max(1, s.shape[1] // across)].transpose(1, 0, 2)
    return [*rows, *cols]


def log_range(values: np.ndarray, floor: float = 1e-12,
              min_span: float = 0.5) -> tuple[float, float]:
    """Decimal-log range of positive values, widened to half decades.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Values (e.g. a loss per snapshot); values below ``floor`` count as ``floor``.
    floor
        Smallest value taken.
    min_span
        Smallest span of the range, decades.

    Returns
    -------
    tuple of 2 floats
        ``(lo, hi)`` in decades (``log10``), multiples of 0.5, ``hi - lo >= min_span``.
    """
    logs = np.log10(np.maximum(np.asarray(values, dtype=np.float64), floor))
    lo, hi = float(np.floor(logs.min() * 2) / 2), float(np.ceil(logs.max() * 2) / 2)
    if hi - lo < min_span:
        hi = lo + min_span
    return lo, hi


def padded_range(values: np.ndarray, pad: float = 0.1) -> tuple[float, float]:
    """The range of ``values`` and 0, widened by ``pad`` of its span at each end.

    Parameters
    ----------
    values : ndarray of shape (...,)
        Values of a plotted quantity.
    pad
        Fraction of the span added at each end (of 1 when the span is 0).

    Returns
    -------
    tuple of 2 floats
        ``(lo, hi)`` in the values' units, ``lo < hi``.
    """
    v = np.concatenate([np.asarray(values, dtype=np.float64).ravel(), [0.0]])
    lo, hi = float(v.min()), float(v.max())
    margin = pad * (hi - lo or 1.0)
    return lo - margin, hi + margin
