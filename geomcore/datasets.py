"""Datasets in the plane with K >= 2 classes.

Every generator takes keyword-only options and a ``seed``, and returns inputs ``x`` of shape
``(n, 2)`` (float32, data units) and labels ``y`` of shape ``(n,)`` (int64, values 0 … K-1).
The lecture's datasets have two classes; :func:`blobs` and :func:`spirals` take ``classes``.
The dataset ``csv`` reads the user's own points from a file instead (:func:`load_csv`).
Numpy only: this module never imports TensorFlow or Manim.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from geomcore.errors import DatasetError
from geomcore.textfile import read_text

__all__ = [
    "CSV_COLUMNS",
    "CURVES",
    "above_curve",
    "blobs",
    "DATASETS",
    "concentric_circles",
    "csv_points",
    "data_hash",
    "epoch_order",
    "dataset_parameters",
    "file_hash",
    "gaussian_blobs",
    "load_csv",
    "make_dataset",
    "spirals",
    "two_moons",
    "two_spirals",
    "xor_quadrants",
]


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DatasetError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _check_non_negative(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise DatasetError(f"{name} must be a number. Received: {name}={value!r}")
    if not np.isfinite(value) or value < 0:
        raise DatasetError(f"{name} must be finite and >= 0. Received: {name}={value!r}")
    return float(value)


def _finish(parts: list[np.ndarray], labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate(parts).astype(np.float32)
    y = np.concatenate([np.full(len(p), lab, dtype=np.int64) for p, lab in zip(parts, labels)])
    return x, y


def concentric_circles(
    *,
    n_per_class: int = 20_000,
    outer_radius: float = 1.0,
    inner_radius: float = 0.5,
    noise: float = 0.005,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy concentric rings: the outer ring is class 1, the inner ring class 0.

    The recipe of the lecture: ``t = linspace(0, 2, n)``, outer points
    ``outer_radius * (sin(pi t), cos(pi t))``, inner points ``inner_radius * (sin(pi t),
    cos(pi t))``, then independent Gaussian noise of standard deviation ``noise`` on each
    coordinate.

    Parameters
    ----------
    n_per_class
        Points in each ring.
    outer_radius, inner_radius
        Ring radii in data units; the outer must be larger.
    noise
        Standard deviation of the Gaussian noise, data units.
    seed
        Seed of the noise.

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
        Outer ring first, then inner ring.
    y : ndarray of shape (2 * n_per_class,), int64
        1 for the outer ring, 0 for the inner ring.

    Raises
    ------
    DatasetError
        If a count is not a positive integer, a radius or the noise is negative, or the
        inner radius is not smaller than the outer.
    """
    n = _check_positive_int("n_per_class", n_per_class)
    r_out = _check_non_negative("outer_radius", outer_radius)
    r_in = _check_non_negative("inner_radius", inner_radius)
    sigma = _check_non_negative("noise", noise)
    if not r_in < r_out:
        raise DatasetError(
            "inner_radius must be smaller than outer_radius. "
            f"Received: inner_radius={inner_radius!r}, outer_radius={outer_radius!r}"
        )
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 2.0, n)
    ring = np.stack([np.sin(np.pi * t), np.cos(np.pi * t)], axis=1)
    outer = r_out * ring + rng.normal(0.0, sigma, size=(n, 2))
    inner = r_in * ring + rng.normal(0.0, sigma, size=(n, 2))
    return _finish([outer, inner], [1, 0])


def two_moons(
    *, n_per_class: int = 2_000, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (the recipe of scikit-learn's ``make_moons``).

    Class 0 is ``(cos s, sin s)``, class 1 is ``(1 - cos s, 0.5 - sin s)``, ``s`` in
    ``[0, pi]``, plus Gaussian noise of standard deviation ``noise`` (data units).

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
    y : ndarray of shape (2 * n_per_class,), int64

    Raises
    ------
    DatasetError
        If ``n_per_class`` is not a positive integer or ``noise`` is negative.
    """
    n = _check_positive_int("n_per_class", n_per_class)
    sigma = _check_non_negative("noise", noise)
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, np.pi, n)
    upper = np.stack([np.cos(s), np.sin(s)], axis=1)
    lower = np.stack([1.0 - np.cos(s), 0.5 - np.sin(s)], axis=1)
    upper += rng.normal(0.0, sigma, size=upper.shape)
    lower += rng.normal(0.0, sigma, size=lower.shape)
    return _finish([upper, lower], [0, 1])


def xor_quadrants(
    *, n_per_class: int = 2_000, margin: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in ``[-1, 1]^2``; class 1 where ``x1 * x2 > 0`` (XOR of the signs).

    Points closer than ``margin`` (data units) to either axis are left out, so the classes
    are separated by a gap.

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
    y : ndarray of shape (2 * n_per_class,), int64

    Raises
    ------
    DatasetError
        If ``n_per_class`` is not a positive integer or ``margin`` is not in ``[0, 0.5)``.
    """
    n = _check_positive_int("n_per_class", n_per_class)
    m = _check_non_negative("margin", margin)
    if m >= 0.5:
        raise DatasetError(f"margin must be smaller than 0.5. Received: margin={margin!r}")
    rng = np.random.default_rng(seed)
    # Sample magnitudes in [margin, 1] and signs per quadrant: exact counts per class.
    mags = rng.uniform(m, 1.0, size=(2, n, 2))
    signs_same = rng.choice([-1.0, 1.0], size=(n, 1))
    signs_diff = rng.choice([-1.0, 1.0], size=(n, 1))
    positive = mags[0] * np.hstack([signs_same, signs_same])
    negative = mags[1] * np.hstack([signs_diff, -signs_diff])
    return _finish([negative, positive], [0, 1])


def two_spirals(
    *, n_per_class: int = 2_000, turns: float = 1.5, noise: float = 0.02, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved Archimedean spirals, the second the first turned by half a turn.

    Radius grows linearly from 0.1 to 1 (data units) over ``turns`` turns.

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
    y : ndarray of shape (2 * n_per_class,), int64

    Raises
    ------
    DatasetError
        If ``n_per_class`` is not a positive integer or ``turns``/``noise`` is negative.
    """
    n = _check_positive_int("n_per_class", n_per_class)
    k = _check_non_negative("turns", turns)
    sigma = _check_non_negative("noise", noise)
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, 1.0, n)
    radius = 0.1 + 0.9 * s
    angle = 2.0 * np.pi * k * s
    first = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    second = -first
    first += rng.normal(0.0, sigma, size=first.shape)
    second += rng.normal(0.0, sigma, size=second.shape)
    return _finish([first, second], [0, 1])


def gaussian_blobs(
    *, n_per_class: int = 2_000, distance: float = 1.0, std: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two isotropic Gaussian blobs centred at ``(-distance/2, 0)`` and ``(distance/2, 0)``.

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
    y : ndarray of shape (2 * n_per_class,), int64

    Raises
    ------
    DatasetError
        If ``n_per_class`` is not a positive integer or ``distance``/``std`` is negative.
    """
    n = _check_positive_int("n_per_class", n_per_class)
    d = _check_non_negative("distance", distance)
    sigma = _check_non_negative("std", std)
    rng = np.random.default_rng(seed)
    left = rng.normal(0.0, sigma, size=(n, 2)) + [-d / 2, 0.0]
    right = rng.normal(0.0, sigma, size=(n, 2)) + [d / 2, 0.0]
    return _finish([left, right], [0, 1])


# -- K classes ----------------------------------------------------------------------------


def _check_classes(classes: object, *, smallest: int = 2, largest: int = 8) -> int:
    if (isinstance(classes, bool) or not isinstance(classes, (int, np.integer))
            or not smallest <= classes <= largest):
        raise DatasetError(
            f"classes must be an integer from {smallest} to {largest}. "
            f"Received: classes={classes!r}"
        )
    return int(classes)


def blobs(
    *,
    classes: int = 3,
    n_per_class: int = 1_000,
    radius: float = 1.0,
    std: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` isotropic Gaussian blobs whose centres sit evenly on a circle.

    Centre of class ``k`` (``k = 0 … K-1``): ``radius * (cos a_k, sin a_k)`` with
    ``a_k = pi/2 + 2 pi k / K``, so class 0 is at the top and the classes go round
    anticlockwise. Each point is its centre plus Gaussian noise of standard deviation
    ``std`` on each coordinate.

    Parameters
    ----------
    classes
        Number of classes K, 2 to 8.
    n_per_class
        Points in each blob.
    radius
        Distance of every centre from the origin, data units.
    std
        Standard deviation of each blob, data units.
    seed
        Seed of the noise.

    Returns
    -------
    x : ndarray of shape (K * n_per_class, 2), float32
        Class 0's points first, then class 1's, and so on.
    y : ndarray of shape (K * n_per_class,), int64
        Labels 0 … K-1, ``n_per_class`` of each.

    Raises
    ------
    DatasetError
        If ``classes`` is not an integer from 2 to 8, ``n_per_class`` is not a positive
        integer, or ``radius``/``std`` is negative.
    """
    k = _check_classes(classes)
    n = _check_positive_int("n_per_class", n_per_class)
    r = _check_non_negative("radius", radius)
    sigma = _check_non_negative("std", std)
    rng = np.random.default_rng(seed)
    angles = np.pi / 2 + 2 * np.pi * np.arange(k) / k
    centres = r * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    parts = [c + rng.normal(0.0, sigma, size=(n, 2)) for c in centres]
    return _finish(parts, list(range(k)))


def spirals(
    *,
    classes: int = 3,
    n_per_class: int = 1_000,
    turns: float = 1.0,
    noise: float = 0.02,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved Archimedean spirals (arms), arm ``k`` turned by ``2 pi k / K``.

    Along each arm the radius grows linearly from 0.1 to 1 (data units) over ``turns``
    turns: arm ``k`` is ``(0.1 + 0.9 s) * (cos t, sin t)``, ``t = 2 pi (turns s + k / K)``,
    ``s`` evenly spaced in ``[0, 1]``, plus Gaussian noise of standard deviation ``noise`` on
    each coordinate. With K = 2 and ``turns = 1.5`` the arms are those of
    :func:`two_spirals` (the noise is drawn differently).

    Parameters
    ----------
    classes
        Number of arms (classes) K, 2 to 8.
    n_per_class
        Points on each arm.
    turns
        Turns of each arm.
    noise
        Standard deviation of the Gaussian noise, data units.
    seed
        Seed of the noise.

    Returns
    -------
    x : ndarray of shape (K * n_per_class, 2), float32
        Arm 0 first, then arm 1, and so on.
    y : ndarray of shape (K * n_per_class,), int64
        Labels 0 … K-1 (the arm), ``n_per_class`` of each.

    Raises
    ------
    DatasetError
        If ``classes`` is not an integer from 2 to 8, ``n_per_class`` is not a positive
        integer, or ``turns``/``noise`` is negative.
    """
    k = _check_classes(classes)
    n = _check_positive_int("n_per_class", n_per_class)
    t_turns = _check_non_negative("turns", turns)
    sigma = _check_non_negative("noise", noise)
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, 1.0, n)
    radius = 0.1 + 0.9 * s
    parts = []
    for arm in range(k):
        angle = 2.0 * np.pi * (t_turns * s + arm / k)
        points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        parts.append(points + rng.normal(0.0, sigma, size=points.shape))
    return _finish(parts, list(range(k)))


#: The curves ``y = f(x)`` of :func:`above_curve`, for ``x`` in ``[-1, 1]`` (data units).
CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sine": lambda x: 0.5 * np.sin(np.pi * x),
    "cubic": lambda x: x**3,
    "abs": lambda x: np.abs(x) - 0.5,
    "step": lambda x: np.where(x < 0.0, -0.5, 0.5),
}


def above_curve(
    *,
    curve: str = "sine",
    n_per_class: int = 2_000,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Points in the square ``[-1, 1]^2``; class 1 above the curve ``y = f(x)``, class 0 below.

    The curves (:data:`CURVES`): ``"sine"`` ``f(x) = 0.5 sin(pi x)`` (one period),
    ``"cubic"`` ``f(x) = x^3``, ``"abs"`` ``f(x) = |x| - 0.5`` and ``"step"``
    ``f(x) = -0.5`` for ``x < 0``, ``0.5`` otherwise. Points are drawn uniformly in the
    square and labelled by the sign of ``y - f(x)`` until each class has ``n_per_class``
    of them (so the classes are balanced exactly); then Gaussian noise of standard
    deviation ``noise`` is added to each coordinate, which moves some points across the
    curve (label noise near the boundary).

    Parameters
    ----------
    curve
        One of ``"sine"``, ``"cubic"``, ``"abs"``, ``"step"``.
    n_per_class
        Points of each class.
    noise
        Standard deviation of the Gaussian noise, data units.
    seed
        Seed of the sampling and the noise.

    Returns
    -------
    x : ndarray of shape (2 * n_per_class, 2), float32
        Class 0 (below) first, then class 1 (above).
    y : ndarray of shape (2 * n_per_class,), int64

    Raises
    ------
    DatasetError
        If ``curve`` is not one of the four, ``n_per_class`` is not a positive integer, or
        ``noise`` is negative.
    """
    if curve not in CURVES:
        raise DatasetError(f"unknown curve {curve!r}; expected one of {sorted(CURVES)}")
    n = _check_positive_int("n_per_class", n_per_class)
    sigma = _check_non_negative("noise", noise)
    f = CURVES[curve]
    rng = np.random.default_rng(seed)
    below: list[np.ndarray] = []
    above: list[np.ndarray] = []
    n_below = n_above = 0
    # Rejection sampling: each curve leaves at least a quarter of the square to each class,
    # so a few rounds suffice.
    while n_below < n or n_above < n:
        p = rng.uniform(-1.0, 1.0, size=(max(4 * n, 64), 2))
        is_above = p[:, 1] > f(p[:, 0])
        below.append(p[~is_above])
        above.append(p[is_above])
        n_below += int((~is_above).sum())
        n_above += int(is_above.sum())
    lower = np.concatenate(below)[:n]
    upper = np.concatenate(above)[:n]
    lower = lower + rng.normal(0.0, sigma, size=lower.shape)
    upper = upper + rng.normal(0.0, sigma, size=upper.shape)
    return _finish([lower, upper], [0, 1])


#: Columns a CSV of points must name in its header line (in any order).
CSV_COLUMNS = ("x1", "x2", "label")


def load_csv(path: str | Path, *, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Read points and labels from a CSV file with the header ``x1,x2,label``.

    The first line names the columns (any order; other columns are ignored); every other
    non-blank line is one point: ``x1`` and ``x2`` finite numbers (data units), ``label``
    an integer class 0 … K-1 (0 or 1 for the default K = 2). Every class must be present.
    UTF-8 text, with or without a byte-order mark.

    Parameters
    ----------
    path
        The CSV file.
    classes
        Number of classes K, 2 to 8.

    Returns
    -------
    x : ndarray of shape (n, 2), float32
        The points, in file order.
    y : ndarray of shape (n,), int64
        Their labels, 0 … K-1.

    Raises
    ------
    DatasetError
        Naming the file (and the line and column where there is one) if the file is missing
        or unreadable, is not UTF-8 text, has no header or lacks a column, a row has too few
        fields, a value is not a number or not finite, a label is not one of 0 … K-1, or a
        class has no point; or if ``classes`` is not an integer from 2 to 8.
    """
    k = _check_classes(classes)
    if k == 2:
        labels_rule = "labels must be 0 or 1 (two classes)"
        all_classes = "both classes 0 and 1"
    else:
        labels_rule = f"labels must be integers 0 to {k - 1} ({k} classes)"
        all_classes = f"every class 0 to {k - 1}"
    if not str(path).strip():
        raise DatasetError("dataset 'csv' needs a file: path = \"points.csv\" (x1,x2,label)")
    path = Path(path)
    try:
        is_file = path.is_file()
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot read CSV file ({err})") from None
    if not is_file:
        raise DatasetError(f"{path}: no such CSV file")
    text = read_text(path, what="CSV file", error=DatasetError)
    try:
        rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1)
                if any(field.strip() for field in row)]
    except csv.Error as err:
        raise DatasetError(f"{path}: not valid CSV ({err})") from None
    expected = f"expected a header line {','.join(CSV_COLUMNS)}"
    if not rows:
        raise DatasetError(f"{path}: empty; {expected}")
    header_line, header = rows[0]
    names = [field.strip().lower() for field in header]
    missing = [c for c in CSV_COLUMNS if c not in names]
    if missing:
        raise DatasetError(
            f"{path}, line {header_line}: missing column(s) {missing} in the header "
            f"{header!r}; {expected}"
        )
    index = {c: names.index(c) for c in CSV_COLUMNS}
    width = max(index.values()) + 1
    values = np.empty((len(rows) - 1, 3), dtype=np.float64)
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) < width:
            raise DatasetError(
                f"{path}, line {line}: {len(row)} field(s); expected {len(names)} "
                f"({','.join(names)})"
            )
        for j, column in enumerate(CSV_COLUMNS):
            field = row[index[column]].strip()
            try:
                value = float(field)
            except ValueError:
                raise DatasetError(
                    f"{path}, line {line}, column {column!r}: {field!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise DatasetError(
                    f"{path}, line {line}, column {column!r}: {field!r} is not finite; "
                    "expected a finite number"
                )
            if column == "label" and not (value.is_integer() and 0 <= value < k):
                raise DatasetError(
                    f"{path}, line {line}, column 'label': {field!r} is not a class; "
                    f"{labels_rule}"
                )
            values[i, j] = value
    if values.shape[0] == 0:
        raise DatasetError(f"{path}: no data rows after the header; expected points of "
                           f"{all_classes}")
    if np.any(np.abs(values[:, :2]) > np.finfo(np.float32).max):
        raise DatasetError(f"{path}: coordinates too large for float32; expected |x| < 3e38")
    x = values[:, :2].astype(np.float32)
    y = values[:, 2].astype(np.int64)
    present = sorted(set(y.tolist()))
    if len(present) == 1:
        raise DatasetError(
            f"{path}: every point has label {present[0]}; expected {all_classes}"
        )
    missing_classes = sorted(set(range(k)) - set(present))
    if missing_classes:
        raise DatasetError(
            f"{path}: no point has label {', '.join(map(str, missing_classes))}; expected "
            f"{all_classes}"
        )
    return x, y


def csv_points(
    *, path: str = "", classes: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The dataset ``csv``: points and labels read from a file by :func:`load_csv`.

    ``classes`` is the number of classes K the labels run over (0 … K-1). ``seed`` is
    accepted like every generator's and ignored: the file fixes the data. In an experiment
    file, ``path`` is relative to the experiment file.

    Returns
    -------
    x : ndarray of shape (n, 2), float32
    y : ndarray of shape (n,), int64

    Raises
    ------
    DatasetError
        See :func:`load_csv`.
    """
    if not isinstance(path, (str, Path)):
        raise DatasetError(f"path must be a string. Received: path={path!r}")
    return load_csv(path, classes=classes)


DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "concentric_circles": concentric_circles,
    "two_moons": two_moons,
    "xor_quadrants": xor_quadrants,
    "two_spirals": two_spirals,
    "gaussian_blobs": gaussian_blobs,
    "blobs": blobs,
    "spirals": spirals,
    "above_curve": above_curve,
    "csv": csv_points,
}


def dataset_parameters(name: str) -> dict[str, object]:
    """Keyword parameters (and defaults) a named dataset accepts, ``seed`` excluded.

    Raises
    ------
    DatasetError
        If ``name`` is not a known dataset.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    sig = inspect.signature(DATASETS[name])
    return {k: p.default for k, p in sig.parameters.items() if k != "seed"}


def make_dataset(name: str, *, seed: int = 0, **params: object) -> tuple[np.ndarray, np.ndarray]:
    """Generate the dataset registered as ``name`` with ``params``.

    Returns
    -------
    x : ndarray of shape (n, 2), float32
    y : ndarray of shape (n,), int64

    Raises
    ------
    DatasetError
        If the name is unknown, a parameter is not accepted, or a value is invalid.
    """
    allowed = dataset_parameters(name)
    for key in params:
        if key not in allowed:
            raise DatasetError(
                f"dataset {name!r} has no parameter {key!r}; expected one of {sorted(allowed)}"
            )
    return DATASETS[name](seed=seed, **params)


def data_hash(x: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the inputs and labels (their bytes, shapes and dtypes), as hex."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(x), np.ascontiguousarray(y)):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def file_hash(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes.

    Raises
    ------
    DatasetError
        If the file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except (OSError, ValueError) as err:
        raise DatasetError(f"{path}: cannot read file ({err})") from None
    return h.hexdigest()


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which training visits ``n`` points in epoch ``epoch`` (0-based).

    Every trainer in geomcore shuffles with this function, so two trainers given the same
    seed see the same batches in the same order.

    Returns
    -------
    ndarray of shape (n,), int64
        A permutation of ``range(n)`` drawn from ``numpy.random.default_rng([seed, epoch])``.
    """
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)
