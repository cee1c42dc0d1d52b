"""Geometry of a recorded network, numpy only (scipy's error function for gelu, when used).

The forward pass from recorded weights, stage by stage; a line clipped to a box (the decision
line of a 2-unit layer is :func:`clip_line_to_box` of :meth:`Network.boundary_coefficients`);
the grid laid over the input plane; accuracy and loss from weights.

Conventions follow Keras ``Dense``: row vectors, ``h = activation(x @ kernel + bias)`` with
``kernel`` of shape ``(inputs, units)`` (``keras/src/layers/core/dense.py``). Computation is
in float64 whatever the recorded dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "Network",
    "Stages",
    "clip_line_to_box",
    "grid_lines",
    "padded_bounds",
    "sigmoid",
    "softmax",
]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-z))``, computed without overflow."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, ``exp(z_i - max z) / sum_j exp(z_j - max z)``.

    Subtracting the row's largest logit first keeps ``exp`` from overflowing (as Keras does).
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _hard_sigmoid(z: np.ndarray) -> np.ndarray:
    return np.clip(z + 3.0, 0.0, 6.0) / 6.0


def _elu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def _gelu(z: np.ndarray) -> np.ndarray:
    # Keras' default, approximate=False: the exact form with the error function.
    from scipy.special import erf

    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


#: SELU's constants, Klambauer et al. 2017 "Self-Normalizing Neural Networks" (as in Keras).
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

#: Element-wise activations by their Keras names (``keras.activations.get(name).__name__``),
#: each with Keras' default arguments (``keras/src/activations/activations.py``);
#: ``swish`` is Keras' alias of ``silu``. ``abs`` is ours: a non-injective fold.
ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
    "abs": np.abs,
    "relu6": lambda z: np.clip(z, 0.0, 6.0),
    "leaky_relu": lambda z: np.where(z >= 0, z, 0.2 * z),  # Keras' negative_slope=0.2
    "elu": _elu,  # alpha=1
    "selu": lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0))),
    "gelu": _gelu,
    "silu": lambda z: z * sigmoid(z),
    "hard_silu": lambda z: z * _hard_sigmoid(z),
    "mish": lambda z: z * np.tanh(_softplus(z)),
    "softplus": _softplus,
    "softsign": lambda z: z / (1.0 + np.abs(z)),
    "hard_sigmoid": _hard_sigmoid,
    "hard_tanh": lambda z: np.clip(z, -1.0, 1.0),
    # Not element-wise: over a layer's units (the last axis), the K-class output layer's.
    "softmax": softmax,
}


@dataclass(frozen=True)
class Stages:
    """One Dense layer applied in visible steps.

    Attributes
    ----------
    inputs : ndarray of shape (n, in)
    linear : ndarray of shape (n, out)
        ``inputs @ kernel`` (stretch, rotate, project).
    affine : ndarray of shape (n, out)
        ``linear + bias`` (translate): the pre-activation.
    outputs : ndarray of shape (n, out)
        ``activation(affine)`` (bend).
    """

    inputs: np.ndarray
    linear: np.ndarray
    affine: np.ndarray
    outputs: np.ndarray


@dataclass(frozen=True)
class Network:
    """A Dense network's weights: the layers in order, the last one the sigmoid output unit.

    Attributes
    ----------
    kernels : tuple of ndarray, each of shape (inputs, units)
    biases : tuple of ndarray, each of shape (units,)
    activations : tuple of str
        Names from :data:`ACTIVATION_FUNCTIONS`, one per layer.
    layer_names : tuple of str
        The Keras layer names, e.g. ``("hidden_1", "hidden_2", "output")``.

    Raises
    ------
    ValueError
        If the shapes do not chain, or an activation is unknown.
    """

    kernels: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    layer_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.kernels)
        if not (len(self.biases) == len(self.activations) == len(self.layer_names) == n) or n < 1:
            raise ValueError(
                "kernels, biases, activations and layer_names must have the same non-zero "
                f"length. Received: {len(self.kernels)}, {len(self.biases)}, "
                f"{len(self.activations)}, {len(self.layer_names)}"
            )
        fan_in = 2
        for name, k, b, act in zip(self.layer_names, self.kernels, self.biases, self.activations):
            if k.ndim != 2 or k.shape[0] != fan_in or b.shape != (k.shape[1],):
                raise ValueError(
                    f"layer {name!r}: expected kernel of shape ({fan_in}, units) and bias of "
                    f"shape (units,). Received: kernel {k.shape}, bias {b.shape}"
                )
            if act not in ACTIVATION_FUNCTIONS:
                raise ValueError(
                    f"layer {name!r}: unknown activation {act!r}; expected one of "
                    f"{sorted(ACTIVATION_FUNCTIONS)}"
                )
            fan_in = k.shape[1]

    @property
    def widths(self) -> tuple[int, ...]:
        """Units of every layer, output unit included."""
        return tuple(k.shape[1] for k in self.kernels)

    @property
    def n_layers(self) -> int:
        return len(self.kernels)

    def layer_index(self, layer: int | str) -> int:
        """Index of a layer given by index (negative allowed) or by name.

        Raises
        ------
        ValueError
            If there is no such layer.
        """
        if isinstance(layer, str):
            if layer not in self.layer_names:
                raise ValueError(f"no layer named {layer!r}; expected one of {self.layer_names}")
            return self.layer_names.index(layer)
        if not -self.n_layers <= layer < self.n_layers:
            raise ValueError(f"layer index {layer} out of range for {self.n_layers} layers")
        return layer % self.n_layers

    def stages(self, x: np.ndarray, layer: int | str) -> Stages:
        """Apply the layers before ``layer``, then ``layer`` step by step.

        Parameters
        ----------
        x : ndarray of shape (n, 2)
            Points in the input plane, data units.
        layer
            Index or name of the layer to split into stages.
        """
        i = self.layer_index(layer)
        h = self.forward(x, upto=i - 1) if i > 0 else np.asarray(x, dtype=np.float64)
        linear = h @ self.kernels[i].astype(np.float64)
        affine = linear + self.biases[i].astype(np.float64)
        out = ACTIVATION_FUNCTIONS[self.activations[i]](affine)
        return Stages(h, linear, affine, out)

    def forward(self, x: np.ndarray, upto: int | str | None = None) -> np.ndarray:
        """Outputs of layer ``upto`` (default: the output unit's probability column).

        Parameters
        ----------
        x : ndarray of shape (n, 2)
            Points in the input plane, data units.
        upto
            Index (negative counts from the output) or name of the last layer applied.

        Returns
        -------
        ndarray of shape (n, units of that layer), float64
        """
        h = np.asarray(x, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != 2:
            raise ValueError(f"expected points of shape (n, 2). Received: {h.shape}")
        last = self.n_layers - 1 if upto is None else self.layer_index(upto)
        for i in range(last + 1):
            z = h @ self.kernels[i].astype(np.float64) + self.biases[i].astype(np.float64)
            h = ACTIVATION_FUNCTIONS[self.activations[i]](z)
        return h

    def logit(self, x: np.ndarray) -> np.ndarray:
        """Pre-activation of the output unit, shape (n,)."""
        h = self.forward(x, upto=self.n_layers - 2) if self.n_layers > 1 else np.asarray(x)
        return (h @ self.kernels[-1].astype(np.float64) + self.biases[-1].astype(np.float64))[:, 0]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of class 1 for each point, shape (n,) (the output layer's first column;
        for a softmax output that is class 0's probability: use :meth:`class_probabilities`)."""
        return self.forward(x)[:, 0]

    @property
    def classes(self) -> int:
        """Number of classes K: 2 for one sigmoid output unit, else the output layer's units."""
        return 2 if self.widths[-1] == 1 else self.widths[-1]

    def class_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The output layer as K class logits: kernel of shape (k, K) and bias of shape (K,).

        A softmax output layer is returned as it is. One sigmoid unit ``z = w.h + c`` is
        written as the two logits ``(0, z)``: ``softmax((0, z))_1 = sigmoid(z)``, so both
        outputs have the same decision boundary ``z_1 = z_0`` (float64).
        """
        kernel = self.kernels[-1].astype(np.float64)
        bias = self.biases[-1].astype(np.float64)
        if self.widths[-1] == 1:
            return (np.hstack([np.zeros_like(kernel), kernel]), np.concatenate([[0.0], bias]))
        return kernel, bias

    def class_logits(self, x: np.ndarray) -> np.ndarray:
        """The K class logits of each point (see :meth:`class_weights`), shape (n, K)."""
        h = self.forward(x, upto=self.n_layers - 2) if self.n_layers > 1 else np.asarray(x)
        kernel, bias = self.class_weights()
        return np.asarray(h, dtype=np.float64) @ kernel + bias

    def class_probabilities(self, x: np.ndarray) -> np.ndarray:
        """Probability of each class, shape (n, K); ``(1 - p, p)`` for a sigmoid unit."""
        out = self.forward(x)
        if self.widths[-1] == 1:
            return np.hstack([1.0 - out, out])
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class of each point, shape (n,), int64: ``p > 0.5`` for a sigmoid unit
        (as :meth:`accuracy` has always thresholded), else the argmax of the logits."""
        if self.widths[-1] == 1:
            return (self.predict_proba(x) > 0.5).astype(np.int64)
        return np.argmax(self.class_logits(x), axis=1).astype(np.int64)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """Fraction of points whose predicted class (:meth:`predict`) equals the label."""
        if self.widths[-1] == 1:
            return _accuracy(self.predict_proba(x), y)
        return float(np.mean(self.predict(x) == np.asarray(y)))

    def per_class_accuracy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Accuracy on the points of each class (recall), shape (K,); NaN for a class with
        no point."""
        pred = self.predict(x)
        y = np.asarray(y)
        out = np.full(self.classes, np.nan)
        for c in range(self.classes):
            mine = y == c
            if np.any(mine):
                out[c] = float(np.mean(pred[mine] == c))
        return out

    def loss(self, x: np.ndarray, y: np.ndarray, kind: str = "mse") -> float:
        """Mean loss over the points, as Keras computes it.

        ``mse``: mean of ``(p - y)^2``; ``binary_crossentropy``: mean of
        ``-(y log p + (1 - y) log(1 - p))`` with ``p`` clipped to ``[1e-7, 1 - 1e-7]`` as
        Keras does (``keras.backend.epsilon()``); ``sparse_categorical_crossentropy`` (a
        softmax output of K units, labels 0 … K-1): mean of ``-log p_y``, ``p`` clipped the
        same way (Keras' ``sparse_categorical_crossentropy`` with ``from_logits=False``).

        Raises
        ------
        ValueError
            If ``kind`` is not one of those, or does not fit the output layer.
        """
        return self.loss_and_accuracy(x, y, kind)[0]

    def loss_and_accuracy(
        self, x: np.ndarray, y: np.ndarray, kind: str = "mse"
    ) -> tuple[float, float]:
        """``(loss(x, y, kind), accuracy(x, y))`` from one forward pass (the same values).

        Raises
        ------
        ValueError
            If ``kind`` is not a known loss.
        """
        if self.widths[-1] == 1:
            if kind == "sparse_categorical_crossentropy":
                raise ValueError("sparse_categorical_crossentropy needs a softmax output of K "
                                 "units; this network has one sigmoid unit")
            p = self.predict_proba(x)
            return _loss(p, y, kind), _accuracy(p, y)
        if kind != "sparse_categorical_crossentropy":
            raise ValueError(f"a {self.widths[-1]}-unit output takes the loss "
                             f"'sparse_categorical_crossentropy'. Received: {kind!r}")
        probs = self.forward(x)
        y = np.asarray(y).astype(np.int64)
        picked = np.clip(probs[np.arange(len(y)), y], 1e-7, 1 - 1e-7)
        accuracy = float(np.mean(np.argmax(probs, axis=1) == y))
        return float(np.mean(-np.log(picked))), accuracy

    def boundary_coefficients(self) -> np.ndarray:
        """Decision boundary in the viewed layer: ``(w_1, ..., w_k, c)``, shape (k + 1,).

        For a 2-unit viewed layer this is ``(a, b, c)`` and the boundary ``p = 0.5`` is the
        line ``a h1 + b h2 + c = 0``, since ``logit(0.5) = 0``.
        """
        return np.concatenate(
            [self.kernels[-1][:, 0].astype(np.float64), self.biases[-1].astype(np.float64)]
        )

    def jacobian_determinant(
        self, x: np.ndarray, upto: int | str | None = None, eps: float = 1e-5
    ) -> np.ndarray:
        """Determinant of the Jacobian of the map from the input plane to a 2-unit layer.

        Central finite differences with step ``eps`` (data units).

        Returns
        -------
        ndarray of shape (n,)

        Raises
        ------
        ValueError
            If the layer is not 2 units wide.
        """
        i = self.n_layers - 2 if upto is None else self.layer_index(upto)
        if self.widths[i] != 2:
            raise ValueError(f"layer {self.layer_names[i]!r} has {self.widths[i]} units, not 2")
        x = np.asarray(x, dtype=np.float64)
        ex = np.array([eps, 0.0])
        ey = np.array([0.0, eps])
        dx = (self.forward(x + ex, i) - self.forward(x - ex, i)) / (2 * eps)
        dy = (self.forward(x + ey, i) - self.forward(x - ey, i)) / (2 * eps)
        return dx[:, 0] * dy[:, 1] - dx[:, 1] * dy[:, 0]


def _loss(p: np.ndarray, y: np.ndarray, kind: str) -> float:
    y = np.asarray(y, dtype=np.float64)
    if kind == "mse":
        return float(np.mean((p - y) ** 2))
    if kind == "binary_crossentropy":
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    raise ValueError(f"unknown loss {kind!r}; expected 'mse' or 'binary_crossentropy'")


def _accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((p > 0.5) == (np.asarray(y) == 1)))


def clip_line_to_box(
    a: float, b: float, c: float, box: Sequence[float], *, eps: float = 1e-12
) -> np.ndarray | None:
    """Segment of the line ``a u + b v + c = 0`` inside an axis-aligned box.

    The line is kept in general form, so vertical lines (``b = 0``) are handled like any
    other (never ``v = (-c - a u) / b``).

    Parameters
    ----------
    a, b, c
        Line coefficients.
    box
        ``(umin, umax, vmin, vmax)``.
    eps
        Tolerance, relative to ``hypot(a, b)``, for treating ``a = b = 0``.

    Returns
    -------
    ndarray of shape (2, 2) or None
        The two end points (rows), or ``None`` when there is no line (``a = b = 0``) or it
        misses the box.
    """
    umin, umax, vmin, vmax = (float(t) for t in box)
    norm = float(np.hypot(a, b))
    if not np.isfinite(norm) or not np.isfinite(c) or norm <= eps * max(1.0, abs(c)):
        return None
    a, b, c = a / norm, b / norm, c / norm
    # Parametrise the line as p0 + s * d with d along the line, p0 the foot of the origin.
    d = np.array([-b, a])
    p0 = np.array([-a * c, -b * c])
    lo, hi = -np.inf, np.inf
    for k, (mn, mx) in enumerate(((umin, umax), (vmin, vmax))):
        if abs(d[k]) < 1e-15:
            if not mn <= p0[k] <= mx:
                return None
            continue
        s1, s2 = (mn - p0[k]) / d[k], (mx - p0[k]) / d[k]
        lo, hi = max(lo, min(s1, s2)), min(hi, max(s1, s2))
    if lo > hi:
        return None
    return np.array([p0 + lo * d, p0 + hi * d])


def padded_bounds(x: np.ndarray, padding: float = 0.1) -> tuple[float, float, float, float]:
    """Bounding box of points, padded by ``padding`` times its larger side on every edge.

    Parameters
    ----------
    x : ndarray of shape (n, 2)

    Returns
    -------
    (xmin, xmax, ymin, ymax), data units
    """
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(axis=0), x.max(axis=0)
    extent = float(max(hi - lo))
    # A single point (no extent) still gets a box of positive size; padding 0 means none.
    pad = padding * extent if extent > 0 else 1.0
    return (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)


def grid_lines(
    bounds: Sequence[float], lines: int = 21, samples: int = 200
) -> np.ndarray:
    """A grid over a box: ``lines`` vertical then ``lines`` horizontal lines.

    Parameters
    ----------
    bounds
        ``(xmin, xmax, ymin, ymax)``, data units.
    lines
        Lines in each direction.
    samples
        Points along each line.

    Returns
    -------
    ndarray of shape (2 * lines, samples, 2), float64
        Vertical lines first (constant x, rising y), then horizontal lines (constant y).
    """
    xmin, xmax, ymin, ymax = (float(t) for t in bounds)
    xs = np.linspace(xmin, xmax, lines)
    ys = np.linspace(ymin, ymax, lines)
    sx = np.linspace(xmin, xmax, samples)
    sy = np.linspace(ymin, ymax, samples)
    vertical = np.stack(np.broadcast_arrays(xs[:, None], sy[None, :]), axis=-1)
    horizontal = np.stack(np.broadcast_arrays(sx[None, :], ys[:, None]), axis=-1)
    return np.concatenate([vertical, horizontal], axis=0)
