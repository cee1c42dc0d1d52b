"""Boxes, ranges and outlines that the Manim building blocks draw: numpy geometry only.

What lives here: the extent of a layer's recorded images (:func:`layer_box`), the box that
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

import numpy as np

from geomcore.anatomy import layer_steps
from geomcore.errors import GeomcoreError
from geomcore.geometry import Network
from geomcore.trajectory import Trajectory

__all__ = [
    "cube_edges",
    "layer_box",
    "layer_steps_box",
    "log_range",
    "padded_range",
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
    pts = np.concatenate([arrays[keys[0]].reshape(-1, 2),
                          arrays[keys[1]].reshape(-1, 2)]).astype(np.float64)
    lo, hi = np.nanmin(pts, axis=0), np.nanmax(pts, axis=0)
    # 1e-6: a layer that collapsed to a point still gets a box of positive size.
    mid, half = 0.5 * (lo + hi), 0.5 * float(np.max(hi - lo)) * (1 + margin) + 1e-6
    return (mid[0] - half, mid[0] + half, mid[1] - half, mid[1] + half)


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
