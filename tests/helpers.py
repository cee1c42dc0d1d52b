"""Shared test helpers (plain functions and constants; fixtures live in ``conftest.py``).

Test files import these as ``from helpers import ...`` (pytest puts ``tests/`` on the path).
The synthetic trajectories here are built in numpy from hand-set weights, so the replay,
anatomy and view tests draw a real network's geometry without training one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geomcore.geometry import ACTIVATION_FUNCTIONS, grid_lines, padded_bounds, sigmoid
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

#: The checkout under test (the folder holding ``geomcore/`` and ``tests/``).
ROOT = Path(__file__).resolve().parent.parent

#: The lecture's experiments: first hidden width and learning rate.
LECTURE = {"circles-2d": (2, 0.001), "circles-3d": (3, 0.005), "circles-4d": (4, 0.005)}

#: A tiny experiment: 2 x 200 points, a 2-3-2-1 tanh network, 3 epochs of 13 steps.
TINY: dict[str, Any] = {
    "name": "tiny",
    "seed": 3,
    "description": "a tiny run for tests",
    "dataset": {"name": "concentric_circles", "n_per_class": 200},
    "model": {"hidden_widths": [3, 2], "activation": "tanh"},
    "training": {"loss": "mse", "optimizer": "sgd", "learning_rate": 0.05, "batch_size": 32,
                 "epochs": 3},
    "recording": {"probe_size": 100},
}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``changes`` merged in (nested dicts merged key by key)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """TOML text for nested plain data: top-level values, then one ``[table]`` per dict."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for section, table in data.items():
        if isinstance(table, dict):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


# -- an independent forward pass --------------------------------------------------------


def hidden_images(
    kernels: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[str],
    x: np.ndarray,
) -> list[np.ndarray]:
    """Every hidden layer's image of points ``x``, written here apart from the code under test.

    Parameters
    ----------
    kernels, biases
        Per layer, Keras layout: kernel ``(in, out)``, bias ``(out,)``.
    activations
        Per layer, names from :data:`geomcore.geometry.ACTIVATION_FUNCTIONS`.
    x : ndarray of shape (n, 2)
        Points, data units.

    Returns
    -------
    list of ndarray, one per hidden layer (not the output), shape (n, units), float64
        ``h_l = act_l(h_{l-1} @ W_l + b_l)`` (the Keras ``Dense`` convention).
    """
    h = np.asarray(x, dtype=np.float64)
    out = []
    for kernel, bias, act in zip(kernels[:-1], biases[:-1], activations[:-1]):
        h = ACTIVATION_FUNCTIONS[act](h @ np.asarray(kernel, np.float64) + bias)
        out.append(h)
    return out


def output_probability(
    kernels: Sequence[np.ndarray], biases: Sequence[np.ndarray], activations: Sequence[str],
    x: np.ndarray,
) -> np.ndarray:
    """Probability of class 1 at points ``x`` ``(n, 2)``: the sigmoid of the output unit."""
    h = hidden_images(kernels, biases, activations, x)[-1]
    return sigmoid(h @ np.asarray(kernels[-1], np.float64)[:, 0] + biases[-1][0])


def recompute_images(arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Recompute in place every recorded image from the ``kernel.*`` / ``bias.*`` arrays.

    The probe and grid images of every hidden layer, the boundary coefficients, loss (MSE)
    and accuracy on the probe points, snapshot by snapshot, so the arrays are what a
    recording of such a network would hold.
    """
    names, acts = metadata["layer_names"], metadata["activations"]
    probe_in, labels = arrays["probe_inputs"], arrays["probe_labels"]
    grid_in = arrays["grid_inputs"]
    for s in range(arrays["epoch"].shape[0]):
        kernels = [arrays[f"kernel.{n}"][s] for n in names]
        biases = [arrays[f"bias.{n}"][s] for n in names]
        probe = hidden_images(kernels, biases, acts, probe_in)
        grid = hidden_images(kernels, biases, acts, grid_in.reshape(-1, 2))
        for n, p, g in zip(names[:-1], probe, grid):
            arrays[f"probe.{n}"][s] = p
            arrays[f"grid.{n}"][s] = g.reshape(*grid_in.shape[:2], -1)
        arrays["boundary"][s] = np.append(kernels[-1][:, 0], biases[-1][0])
        p = sigmoid(probe[-1] @ np.asarray(kernels[-1], np.float64)[:, 0] + biases[-1][0])
        arrays["loss"][s] = np.mean((p - labels) ** 2)
        arrays["accuracy"][s] = np.mean((p > 0.5) == (labels == 1))


def crafted(trajectory: Trajectory, edit: Callable[[dict], None] | None = None,
            **metadata: Any) -> Trajectory:
    """A copy of ``trajectory`` with hand-made weights, every recorded image recomputed.

    ``edit(arrays)`` changes the ``kernel.*`` / ``bias.*`` arrays in place; the probe and
    grid images of every hidden layer and the boundary coefficients are then recomputed from
    the new weights (loss and accuracy are kept), so the file is what a recording of such a
    network would hold. ``metadata`` entries replace the metadata's.
    """
    arrays = {k: v.copy() for k, v in trajectory.arrays.items()}
    meta = {**json.loads(json.dumps(trajectory.metadata)), **metadata}
    if edit is not None:
        edit(arrays)
    loss, accuracy = arrays["loss"].copy(), arrays["accuracy"].copy()
    recompute_images(arrays, meta)
    arrays["loss"], arrays["accuracy"] = loss, accuracy
    return Trajectory(arrays, meta)


# -- synthetic trajectories ---------------------------------------------------------------

#: Radii of the synthetic data's two rings (class 0 inside, class 1 outside), data units.
SYNTHETIC_RADII = (0.5, 1.0)


def ring_points(n_per_ring: int = 60, radii: Sequence[float] = SYNTHETIC_RADII,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Probe points on two rings, evenly spaced in angle, and their labels (ring index).

    Returns
    -------
    x : ndarray of shape (2 n, 2), float32, data units
    y : ndarray of shape (2 n,), int64
    """
    angles = np.linspace(0.0, 2 * np.pi, n_per_ring, endpoint=False)
    parts, labels = [], []
    for label, r in enumerate(radii):
        # A different phase on each ring so no probe point hides another in any layer.
        a = angles + 0.37 * label
        parts.append(np.stack([r * np.cos(a), r * np.sin(a)], axis=1))
        labels.append(np.full(n_per_ring, label, dtype=np.int64))
    return np.concatenate(parts).astype(np.float32), np.concatenate(labels)


def _separating_end_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    """Hand-set 2-3-2-1 tanh weights that separate the rings of :func:`ring_points`.

    ``hidden_1`` looks along three directions 120 degrees apart with a bias of 0.7, so the
    sum of its units falls with the radius (the linear terms cancel, the quadratic ones add
    up to ``-(3/2) k^2 r^2 sech^2(b) tanh(b)``): about 1.53 on the inner ring, at most 1.13
    on the outer one. ``hidden_2``'s first unit thresholds that sum at 1.33, its second one
    shows a tilt (no pre-activation of either vanishes on the corners of the cube
    ``{-1, 1}^3``, so saturated copies stay saturated); the output reads the first unit.
    """
    angles = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
    directions = np.stack([np.cos(angles), np.sin(angles)])  # (2, 3): columns are units
    return [
        (1.5 * directions, np.full(3, 0.7)),
        (np.array([[4.0, 1.0], [4.0, -1.0], [4.0, 0.5]]), np.array([-4.0 * 1.33, 0.3])),
        (np.array([[-3.0], [0.5]]), np.array([0.0])),
    ]


def synthetic_trajectory(
    widths: Sequence[int] = (3, 2),
    *,
    snapshots: int = 7,
    steps_per_epoch: int = 10,
    seed: int = 0,
    name: str | None = None,
    grid: tuple[int, int] = (21, 41),
) -> Trajectory:
    """A trajectory of a tanh network with hand-set weights, built without training.

    The weights follow a smooth, non-polynomial path through weight space (so a cubic spline
    through the snapshots is not the straight line between them) from seeded random weights
    to end weights: for hidden widths ``(3, 2)`` hand-set ones that separate the two rings
    (:data:`SYNTHETIC_RADII`, see :func:`_separating_end_weights`), else seeded random ones. Every
    image is computed by :func:`hidden_images`; loss (MSE) and accuracy are on the probe
    points.

    Parameters
    ----------
    widths
        Hidden widths; the last one is 2 (the viewed plane).
    snapshots
        Snapshots, one per epoch, epochs ``0 .. snapshots - 1``.
    steps_per_epoch
        Optimizer steps per epoch (the ``step`` array).
    seed
        Seed of the random starting weights.
    name
        The experiment's name (default ``synthetic-2-<widths>-1``).
    grid
        Grid lines per direction and samples per line.

    Returns
    -------
    Trajectory
        Validated; layers ``hidden_1 .. hidden_k, output``; kernels float32.
    """
    rng = np.random.default_rng(seed)
    x, y = ring_points()
    bounds = padded_bounds(x)
    grid_in = grid_lines(bounds, *grid)
    names = [f"hidden_{i + 1}" for i in range(len(widths))] + ["output"]
    full = [*widths, 1]
    acts = ["tanh"] * len(widths) + ["sigmoid"]
    t = np.arange(snapshots, dtype=np.float64) / max(snapshots - 1, 1)
    # A path from a random start to the end weights: smoothstep plus a wobble that vanishes
    # at both ends (sin), so the path is neither linear nor a cubic polynomial in t.
    ramp = t * t * (3 - 2 * t)
    wobble = np.sin(np.pi * t) * np.sin(3.0 * np.pi * t)
    ends = _separating_end_weights() if tuple(widths) == (3, 2) else None
    arrays: dict[str, np.ndarray] = {}
    fan_in = 2
    for i, (n, w) in enumerate(zip(names, full)):
        start = rng.normal(0.0, 0.6, size=(fan_in, w))
        side = rng.normal(0.0, 0.4, size=(fan_in, w))
        b0, b_side = rng.normal(0.0, 0.2, size=w), rng.normal(0.0, 0.2, size=w)
        if ends is not None:
            end, b1 = ends[i]
        else:
            end, b1 = rng.normal(0.0, 1.5, size=(fan_in, w)), rng.normal(0.0, 0.5, size=w)
        kernel = start + ramp[:, None, None] * (end - start) + wobble[:, None, None] * side
        bias = b0 + ramp[:, None] * (b1 - b0) + wobble[:, None] * b_side
        arrays[f"kernel.{n}"] = kernel.astype(np.float32)
        arrays[f"bias.{n}"] = bias.astype(np.float32)
        fan_in = w
    s = snapshots
    g, m = grid_in.shape[:2]
    arrays.update({
        "epoch": np.arange(s, dtype=np.float64),
        "step": np.arange(s, dtype=np.int64) * steps_per_epoch,
        "loss": np.zeros(s), "accuracy": np.zeros(s),
        "boundary": np.zeros((s, full[-2] + 1)),
        "probe_inputs": x, "probe_labels": y, "grid_inputs": grid_in,
    })
    for n, w in zip(names[:-1], full[:-1]):
        arrays[f"probe.{n}"] = np.zeros((s, len(x), w), np.float32)
        arrays[f"grid.{n}"] = np.zeros((s, g, m, w), np.float32)
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "experiment": {"name": name or "synthetic-2-" + "-".join(map(str, widths)) + "-1",
                       "training": {"epochs": s - 1}},
        "seed": seed,
        "data_hash": "synthetic",
        "versions": {"numpy": np.__version__},
        "created": "2026-01-01T00:00:00+00:00",
        "layer_names": names,
        "activations": acts,
        "widths": full,
        "loss": "mse",
        "steps_per_epoch": steps_per_epoch,
        "bounds": [float(b) for b in bounds],
        "trainer": "synthetic",
        "diverged": False,
        "diverged_at_epoch": None,
        "class_counts": [int(np.sum(y == 0)), int(np.sum(y == 1))],
    }
    recompute_images(arrays, metadata)
    return Trajectory(arrays, metadata)


# -- child processes ----------------------------------------------------------------------

#: Environment variable naming the file a child writes the ``geomcore`` it imported to.
IMPORT_REPORT = "GEOMCORE_TEST_IMPORTED"

#: Python source a child runs first: it writes ``geomcore.__file__`` to the report file.
REPORT_IMPORT = (
    "import os as _os, geomcore as _geomcore\n"
    f"with open(_os.environ[{IMPORT_REPORT!r}], 'w') as _f:\n"
    "    _f.write(_geomcore.__file__)\n"
)


def child_env(report: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process that must run the checkout under test.

    The checkout goes first on ``PYTHONPATH`` (so an installed ``geomcore`` elsewhere is not
    what runs), ``report`` is where a child running :data:`REPORT_IMPORT` writes the module
    file it imported (check it with :func:`assert_imported_checkout`), and ``extra``
    variables are added.
    """
    before = os.environ.get("PYTHONPATH")
    path = os.pathsep.join([str(ROOT), before] if before else [str(ROOT)])
    return {**os.environ, "PYTHONPATH": path, IMPORT_REPORT: str(report), **extra}


def assert_imported_checkout(report: Path) -> None:
    """Assert the child that wrote ``report`` imported ``geomcore`` from this checkout."""
    assert report.is_file(), "the child never imported geomcore"
    imported = Path(report.read_text(encoding="utf-8")).resolve()
    assert imported == (ROOT / "geomcore" / "__init__.py").resolve(), (
        f"the child imported {imported}, not the checkout under test {ROOT}"
    )


def skip_or_fail(reason: str) -> None:
    """Skip the test because a tool is missing, or fail it under ``CI`` (tools must be there).

    Raises
    ------
    pytest.skip.Exception, pytest.fail.Exception
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (the CI environment variable is set: missing tools fail)")
    pytest.skip(reason)


# -- headless Chromium --------------------------------------------------------------------

#: Debian's chromium (Playwright cannot download a browser here); GEOMCORE_CHROMIUM overrides.
CHROMIUM = Path(os.environ.get("GEOMCORE_CHROMIUM", "/usr/bin/chromium"))
#: A quiet, offline headless Chromium; a fresh profile each run (user_data_dir).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@contextlib.contextmanager
def chromium_context(profile: Path, viewport: dict[str, int]) -> Iterator[Any]:
    """A Playwright browser context of Debian's headless Chromium, 1 CSS px = 1 px.

    Skips (fails under CI, :func:`skip_or_fail`) with the reason when Playwright or the
    browser is missing.
    """
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright is not installed (pip install -e '.[dev]')"
    if why is None and not CHROMIUM.is_file():
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if why is not None:
        skip_or_fail(why)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport=viewport, device_scale_factor=1,
        )
        try:
            yield context
        finally:
            context.close()


def x264_options(movie: Path) -> dict[str, str]:
    """The encoder settings x264 writes into its first frame (``"subme": "2"``, ...).

    x264 stores them as text in an SEI message: ``x264 - core N ... - options: k=v k=v``.
    Raises AssertionError if ``movie`` holds no such text (not an x264 stream).
    """
    import re

    head = Path(movie).read_bytes()[: 1 << 20]
    match = re.search(rb"x264 - core .*? - options: ([^\x00]*)", head)
    assert match, f"{movie}: no x264 settings in its first MiB"
    return dict(item.split("=", 1) for item in match[1].decode("ascii").split() if "=" in item)


#: What x264's "veryfast" preset sets (x264 --fullhelp; "medium" has subme=7, ref=3,
#: rc_lookahead=40): the lecture's manim.cfg and geomcore render ask for it.
VERYFAST = {"subme": "2", "ref": "1", "rc_lookahead": "10", "me": "hex"}
