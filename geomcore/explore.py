"""The offline explorer: one self-contained HTML page that replays a recorded run.

The page holds the run's recorded weights, probe points and grid inputs, and recomputes
every frame in the browser exactly as :class:`geomcore.replay.Replay` does for the video:

- the weights between snapshots come from the same cubic spline in the snapshot index (its
  piecewise-polynomial coefficients, ``CubicSpline.c`` and breakpoints ``.x``, are computed
  here and stored in the page; the page evaluates the same polynomials);
- progress ``u`` maps to the snapshot coordinate ``s`` through the same monotone PCHIP warp
  (``PchipInterpolator.c`` and ``.x``), one warp per hidden layer as each layer's video has;
- the forward pass uses the Keras row-vector convention ``h = act(x @ kernel + bias)`` and
  the activations of :data:`geomcore.geometry.ACTIVATION_FUNCTIONS`.

No network access at view time: script, style and data are inline. The class colours are
read from :mod:`geomcore.views.style` (its source text, so Manim is not imported here).

What it may import: numpy, scipy and the numpy core (:mod:`geomcore.replay`,
:mod:`geomcore.trajectory`, :mod:`geomcore.extents`, :mod:`geomcore.anatomy`); never
Manim, never TensorFlow.
"""

from __future__ import annotations

import ast
import base64
import html
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from geomcore.anatomy import pca_projection
from geomcore.errors import GeomcoreError
from geomcore.replay import Replay
from geomcore.trajectory import Trajectory, _atomic_write

__all__ = [
    "DEFAULT_MAX_PROBE_POINTS",
    "explorer_data",
    "explorer_html",
    "style_colors",
    "write_explorer",
]

#: Probe points kept in a page by default; more are subsampled (the page says so).
DEFAULT_MAX_PROBE_POINTS = 4000

#: The colours of :mod:`geomcore.views.style` the page uses, by their names there.
_STYLE_NAMES = ("BOUNDARY_COLOR", "GRID_COLOR", "TEXT_COLOR", "WARNING_COLOR", "ELLIPSE_COLOR")

#: Manim's background colour for the lecture (``manim.cfg``); the page uses the same.
_BACKGROUND = "#101418"


def style_colors() -> dict[str, Any]:
    """The video's colours, read from the source of :mod:`geomcore.views.style`.

    The module is parsed, not imported, so writing a page does not import Manim.

    Returns
    -------
    dict
        ``{"CLASS_COLORS": {0: "#rrggbb", 1: "#rrggbb"}, "BOUNDARY_COLOR": "#rrggbb", ...}``
        (lower-case hex).

    Raises
    ------
    GeomcoreError
        If a colour is missing or not written as ``ManimColor("#rrggbb")``.
    """
    source = resources.files("geomcore.views").joinpath("style.py").read_text(encoding="utf-8")
    found: dict[str, Any] = {}

    def hex_of(node: ast.expr) -> str | None:
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            return node.args[0].value.lower()
        return None

    for stmt in ast.parse(source).body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            continue
        name = stmt.targets[0].id
        if name == "CLASS_COLORS" and isinstance(stmt.value, ast.Dict):
            found[name] = {
                k.value: hex_of(v) for k, v in zip(stmt.value.keys, stmt.value.values)
                if isinstance(k, ast.Constant)
            }
        elif name in _STYLE_NAMES:
            found[name] = hex_of(stmt.value)
    classes = found.get("CLASS_COLORS", {})
    bad = [n for n in _STYLE_NAMES if not _is_hex(found.get(n))]
    if set(classes) != {0, 1} or not all(_is_hex(v) for v in classes.values()):
        bad.insert(0, "CLASS_COLORS")
    if bad:
        raise GeomcoreError(
            f"geomcore/views/style.py: cannot read the colours {bad}; expected each written "
            "as ManimColor(\"#rrggbb\")"
        )
    return found


def _is_hex(value: object) -> bool:
    return (isinstance(value, str) and len(value) == 7 and value[0] == "#"
            and all(c in "0123456789abcdef" for c in value[1:]))


def _b64(values: np.ndarray) -> str:
    """Little-endian float64 bytes of ``values`` (C order), base64: exact and compact."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def explorer_data(
    trajectory: Trajectory,
    *,
    max_probe_points: int = DEFAULT_MAX_PROBE_POINTS,
    min_speed: float = 0.25,
) -> dict[str, Any]:
    """Everything the page needs, as JSON-able data (float arrays as base64 float64).

    Parameters
    ----------
    trajectory
        The recorded run. Only its finite snapshots are kept (as :class:`Replay` does).
    max_probe_points
        At most this many probe points are stored, an evenly spaced subsample (both classes
        keep their share); the page says when it shows a subsample.
    min_speed
        Passed to :class:`Replay`: the same warp as the video's.

    Returns
    -------
    dict
        Keys include ``weights`` (spline coefficients ``(4, S - 1, parameters)``), ``final``
        (the last snapshot's weights), ``clocks`` (per hidden layer: breakpoints ``(S,)`` and
        coefficients ``(4, S - 1)``), ``probe`` ``(P, 2)``, ``labels``, ``probeIndex``
        (indices into the trajectory's probe points), ``grid`` ``(G, M, 2)``, ``bounds``
        (data units), ``epochs``, ``loss``, ``accuracy``, ``views`` (per hidden layer: how
        it is drawn) and ``notices``.

    Raises
    ------
    TrajectoryError
        If fewer than two finite snapshots are left.
    GeomcoreError
        If ``max_probe_points`` is below 1.
    """
    if max_probe_points < 1:
        raise GeomcoreError(f"max_probe_points must be at least 1. Received: {max_probe_points}")
    hidden = trajectory.hidden_layer_names
    replays = {name: Replay(trajectory, layer=name, min_speed=min_speed) for name in hidden}
    replay = replays[hidden[-1]]
    count = replay.n_snapshots
    spline = replay.weight_spline
    kernels, biases = trajectory.weights(count - 1)
    final = np.concatenate([np.concatenate([k.reshape(-1), b]) for k, b in zip(kernels, biases)])

    n_probe = trajectory.probe_inputs.shape[0]
    if n_probe > max_probe_points:
        index = np.unique(np.linspace(0, n_probe - 1, max_probe_points).round().astype(int))
    else:
        index = np.arange(n_probe)

    views = []
    for name, width in zip(hidden, trajectory.widths[:-1]):
        views.append(_layer_view(trajectory, name, width, count))

    notices = [n for n in (replay.notice, trajectory.learning_verdict()) if n]
    if len(index) < n_probe:
        notices.append(f"showing {len(index)} of the {n_probe} recorded probe points "
                       "(an evenly spaced subsample) to keep the page small")
    colors = style_colors()
    return {
        "name": trajectory.name,
        "layerNames": trajectory.layer_names,
        "widths": trajectory.widths,
        "activations": list(trajectory.metadata["activations"]),
        "snapshots": count,
        "weights": _b64(spline.c),
        "parameters": int(spline.c.shape[2]),
        "final": _b64(final),
        "clocks": {
            name: {"x": _b64(r.clock.x), "c": _b64(r.clock.c)} for name, r in replays.items()
        },
        "epochs": _b64(replay.epochs),
        "loss": _b64(trajectory.loss[:count]),
        "accuracy": _b64(trajectory.accuracy[:count]),
        "lossName": str(trajectory.metadata["loss"]),
        "probe": _b64(trajectory.probe_inputs[index]),
        "labels": trajectory.probe_labels[index].astype(int).tolist(),
        "probeIndex": index.tolist(),
        "grid": _b64(trajectory.grid_inputs),
        "gridShape": list(trajectory.grid_inputs.shape[:2]),
        "bounds": list(trajectory.bounds),
        "views": views,
        "notices": notices,
        "colors": {
            "class": [colors["CLASS_COLORS"][0], colors["CLASS_COLORS"][1]],
            "boundary": colors["BOUNDARY_COLOR"],
            "grid": colors["GRID_COLOR"],
            "text": colors["TEXT_COLOR"],
            "warning": colors["WARNING_COLOR"],
            "accuracy": colors["ELLIPSE_COLOR"],
            "background": _BACKGROUND,
        },
    }


def _layer_view(trajectory: Trajectory, name: str, width: int, count: int) -> dict[str, Any]:
    """How a hidden layer is drawn: a plane (2 units) or a rotatable space (3 or more)."""
    # The stored images of the replayed snapshots (a long run stores some of them only).
    rows = trajectory.image_snapshots < count
    probe = trajectory.arrays[f"probe.{name}"][rows].astype(np.float64)
    grid = trajectory.arrays[f"grid.{name}"][rows].astype(np.float64)
    pts = np.concatenate([probe.reshape(-1, width), grid.reshape(-1, width)])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    view: dict[str, Any] = {"name": name, "width": width}
    if width == 1:
        # A 1-unit layer: drawn against a zero second coordinate.
        view["kind"] = "line"
    elif width == 2:
        view["kind"] = "plane"
    else:
        view["kind"] = "space"
    if width > 3:
        # Wider layers are seen through their 3 principal components at the last snapshot.
        projection = pca_projection(probe[-1])
        view["mean"] = projection.mean.tolist()
        view["components"] = projection.components.tolist()
        view["explained"] = float(projection.explained.sum())
        pts = projection(pts)
    index = trajectory.hidden_layer_names.index(name)
    if width == 3 and trajectory.metadata["activations"][index] == "tanh":
        # A tanh layer lives in the cube [-1, 1]^3, the video's cube and the one its decision
        # surface is clipped to.
        view["center"], view["half"] = [0.0, 0.0, 0.0], 1.0
        return view
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid = 0.5 * (lo + hi)
    half = 0.5 * float(np.max(hi - lo)) * 1.08 + 1e-6
    view["center"] = mid.tolist()
    view["half"] = half
    return view


def explorer_html(trajectory: Trajectory, **options: Any) -> str:
    """The explorer page for ``trajectory``: one HTML document, nothing loaded from outside.

    Parameters
    ----------
    trajectory
        The recorded run.
    **options
        Passed to :func:`explorer_data`.

    Returns
    -------
    str
        The page.

    Raises
    ------
    TrajectoryError
        If fewer than two finite snapshots are left.
    """
    data = explorer_data(trajectory, **options)
    # "</" inside a <script> element would end it; JSON allows "<\/".
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    assets = resources.files("geomcore").joinpath("data", "explorer")
    page = assets.joinpath("explorer.html").read_text(encoding="utf-8")
    script = assets.joinpath("explorer.js").read_text(encoding="utf-8")
    fills = {
        "TITLE": html.escape(f"{trajectory.name}: geomcore explorer"),
        "BACKGROUND": _BACKGROUND,
        "DATA": payload,
        "SCRIPT": script,
    }
    # One pass, so a placeholder-like text inside the data or the script stays as it is.
    return re.sub(r"__(TITLE|BACKGROUND|DATA|SCRIPT)__", lambda m: fills[m.group(1)], page)


def write_explorer(
    trajectory: Trajectory, output: str | os.PathLike[str], **options: Any
) -> Path:
    """Write the explorer page for ``trajectory`` to ``output``, atomically.

    The page is built first and written to a temporary file renamed over ``output``, so a
    failure leaves nothing (or the old file) at ``output``.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    TrajectoryError
        If fewer than two finite snapshots are left.
    """
    text = explorer_html(trajectory, **options)
    path = Path(output)
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path
