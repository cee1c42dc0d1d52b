"""Sweeps: many runs of one experiment, the copies that share a shape trained as one program.

A sweep is a grid over an experiment's seeds, hidden widths, learning rates and activations
(:class:`SweepSpec`, from ``geomcore sweep EXPERIMENT --seeds N`` or a sweep TOML file,
:func:`load_sweep`). Each point of the grid is an ordinary :class:`~geomcore.experiment.Experiment`
(the base experiment with those fields replaced, same name), so its trajectory lands in the
cache under the name :func:`geomcore.cache.trajectory_path` gives it, and a later
``geomcore train`` or render of that run finds it.

Runs that differ only in their seed are trained together (:func:`record_batched`): the
kernels of C copies are one tensor ``(C, inputs, units)``, every epoch of every copy is one
XLA-compiled ``tf.function`` call, with the experiment's Keras optimizer and Keras loss. The
loss is summed over copies, so each copy's gradient is its own loss's gradient, and Keras
optimizers update elementwise (SGD, momentum, Adam: the bias correction uses the shared step
count, equal for all copies), so each copy follows exactly the steps the in-graph engine
(:func:`geomcore.engine.record_with_engine`) takes for that run alone: the same initial
weights (its own seed), its own data and batch order, the same snapshot schedule. A copy
whose loss or weights become non-finite is marked diverged at that step; its NaNs stay in
its own slice of the tensors (every operation is per copy), so the others go on. An epoch's
snapshots (their loss and accuracy on each copy's training set, the hidden outputs of its
followed points) are measured by a second compiled function holding no variables
(:func:`_snapshot_program`), which every group of one shape shares (one compilation), on a
second thread while the next epoch trains.

Groups (one batched program each) run in this process, as many at once as the process has
cores (XLA runs each small program on one core, and TensorFlow releases the GIL while it
runs), or as tasks on ``dask.distributed`` (:func:`geomcore.cluster.client`); either way
each task writes its runs' trajectories into the cache folder and returns their summary
rows. The summary of a sweep is written
atomically as CSV and JSON into ``<cache>/sweeps/`` (:func:`write_summary`).

Importing this module is light (numpy only); training imports Keras and TensorFlow.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import itertools
import json
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from geomcore.cluster import default_workers
from geomcore.errors import GeomcoreError
from geomcore.experiment import ACTIVATIONS, MAX_SEED, Experiment, find_experiment
from geomcore.textfile import read_toml
from geomcore.trajectory import Trajectory, _atomic_write

__all__ = [
    "MAX_COPIES",
    "SUMMARY_COLUMNS",
    "SWEEP_KEYS",
    "SweepError",
    "SweepSpec",
    "accuracy_histogram",
    "group_runs",
    "load_or_run_sweep",
    "load_summary",
    "load_sweep",
    "record_batched",
    "record_group",
    "rich_progress",
    "run_sweep",
    "seed_sweep",
    "summary_row",
    "sweep_runs",
    "write_summary",
]

#: Most copies in one batched program. Measured on the 2-core reference machine with
#: circles-2d (40,000 points, 10,400 followed points): one epoch of the training program took
#: 9.0 ms for 16 copies and 17.6 ms for 32 (0.55 ms a copy either way: the batched matmuls
#: of 2x2 to 3x2 kernels cost per copy), measuring its snapshots 4.1 ms for 16 copies, and
#: compiling a training program about 0.5 s of CPU. The 32 seeds of one experiment as one
#: group took 4.3 to 4.6 s and 6.4 to 6.9 s of CPU; as two groups of 16 trained at once, one
#: per core, the same 4.4 to 4.7 s but 7.7 to 8.1 s of CPU (a second compile), because the
#: one group's snapshot measurement and batch orders already keep the second core busy. A
#: group keeps 32 x 21 MB of snapshot rows until its trajectories are written.
MAX_COPIES = 32

#: Keys of a sweep TOML file; any other key is an error.
SWEEP_KEYS = ("experiment", "name", "seeds", "hidden_widths", "learning_rate", "activation",
              "epochs", "max_copies")

#: Columns of the summary table, in order (CSV header, JSON keys of each row).
SUMMARY_COLUMNS = ("experiment", "seed", "widths", "learning_rate", "activation",
                   "final_accuracy", "final_loss", "diverged", "diverged_at_epoch",
                   "nesting_lost_at_epoch", "trajectory")

#: Called after each group (or each epoch of an in-process group) with (runs done, runs in
#: all): the progress of a sweep.
SweepProgress = Callable[[int, int], None]


class SweepError(GeomcoreError):
    """A sweep file or sweep option is invalid."""


# -- the grid -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """A grid of runs around one experiment.

    Attributes
    ----------
    experiment
        The base experiment; every run is it with the grid's fields replaced.
    name
        Names the summary files (``<name>-<digest>.csv``).
    seeds
        Seeds of the runs (data, initial weights, batch order and probe points).
    hidden_widths
        Hidden widths to try (``None``: the experiment's).
    learning_rates
        Learning rates to try, per step (``None``: the experiment's).
    activations
        Hidden activations to try (``None``: the experiment's).
    epochs
        Epochs of every run (``None``: the experiment's).
    max_copies
        Most copies in one batched program (:data:`MAX_COPIES`).
    source
        Where the grid was read from (a sweep file), for messages.

    Raises
    ------
    SweepError
        If the grid has no runs or ``max_copies`` is not a positive integer.
    """

    experiment: Experiment
    name: str
    seeds: tuple[int, ...]
    hidden_widths: tuple[tuple[int, ...], ...] | None = None
    learning_rates: tuple[float, ...] | None = None
    activations: tuple[str, ...] | None = None
    epochs: int | None = None
    max_copies: int = MAX_COPIES
    source: str = dataclasses.field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        where = self.source if self.source != "<memory>" else f"sweep {self.name!r}"
        if not self.seeds:
            raise SweepError(f"{where}: the grid has no runs (no seeds); expected "
                             "seeds = N > 0 or a non-empty list of seeds")
        for key, values in (("hidden_widths", self.hidden_widths),
                            ("learning_rate", self.learning_rates),
                            ("activation", self.activations)):
            if values is not None and not values:
                raise SweepError(f"{where}: the grid has no runs ({key} = []); "
                                 f"expected at least one {key}")
        if not isinstance(self.max_copies, int) or self.max_copies < 1:
            raise SweepError(f"{where}: max_copies = {self.max_copies!r}; expected "
                             "a positive integer")


def _seeds(value: object, where: str) -> tuple[int, ...]:
    """``N`` (seeds 0 .. N-1) or a list of seeds, checked."""
    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if is_int(value):
        if value < 0:  # type: ignore[operator]
            raise SweepError(f"{where}: seeds = {value!r}; expected a number of seeds >= 1 or "
                             "a list of seeds")
        return tuple(range(int(value)))  # type: ignore[call-overload]
    if isinstance(value, list) and all(is_int(v) and 0 <= v <= MAX_SEED for v in value):
        if len(set(value)) != len(value):
            raise SweepError(f"{where}: seeds = {value!r} repeats a seed; expected distinct "
                             "seeds")
        return tuple(value)
    raise SweepError(f"{where}: seeds = {value!r}; expected a number of seeds or a list of "
                     f"integers in [0, {MAX_SEED}]")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep TOML file.

    The format (every key but ``experiment`` optional; a list is a grid axis)::

        experiment = "circles-2d"          # a shipped name, or an experiment .toml path
        name = "widths"                    # names the summary files (default: file stem)
        seeds = 8                          # seeds 0..7, or a list: [0, 4, 9]
        hidden_widths = [[2, 2], [3, 2]]   # default: the experiment's
        learning_rate = [0.001, 0.005]     # per step; default: the experiment's
        activation = ["tanh", "relu"]      # default: the experiment's
        epochs = 20                        # every run's epochs; default: the experiment's
        max_copies = 32                    # most copies in one batched program

    A relative experiment path is read from the sweep file's folder.

    Raises
    ------
    SweepError
        On an unknown key, a value of the wrong kind or a grid with no runs (one line, naming
        the file and the key).
    ExperimentError
        If the experiment cannot be found, or a grid point is not a valid experiment.
    """
    path = Path(path)
    where = str(path)
    data = read_toml(path, what="sweep file", error=SweepError)
    unknown = sorted(set(data) - set(SWEEP_KEYS))
    if unknown:
        raise SweepError(f"{where}: unknown sweep key {unknown[0]!r}; expected one of "
                         f"{list(SWEEP_KEYS)}")
    if not isinstance(data.get("experiment"), str) or not data["experiment"]:
        raise SweepError(f"{where}: experiment = {data.get('experiment')!r}; expected the name "
                         "of a shipped experiment or the path of an experiment .toml file")
    source = data["experiment"]
    if source.endswith(".toml") and not Path(source).is_absolute():
        source = str(path.parent / source)
    experiment = find_experiment(source)

    def axis(key: str, ok: Callable[[object], bool], expected: str) -> tuple | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, list) or not all(ok(v) for v in value):
            raise SweepError(f"{where}: {key} = {value!r}; expected a list of {expected}")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)

    widths = axis("hidden_widths", lambda v: isinstance(v, list) and len(v) > 0 and all(
        isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in v),
        "lists of positive widths, e.g. [[2, 2], [3, 2]]")
    rates = axis("learning_rate", lambda v: isinstance(v, (int, float)) and not isinstance(
        v, bool) and math.isfinite(v) and v > 0, "positive numbers")
    acts = axis("activation", lambda v: v in ACTIVATIONS, f"activations among {ACTIVATIONS}")
    epochs = data.get("epochs")
    if epochs is not None and (not isinstance(epochs, int) or isinstance(epochs, bool)
                               or epochs < 1):
        raise SweepError(f"{where}: epochs = {epochs!r}; expected a positive integer")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name or "/" in name:
        raise SweepError(f"{where}: name = {name!r}; expected a file name without '/'")
    return SweepSpec(
        experiment=experiment, name=name, seeds=_seeds(data.get("seeds", [experiment.seed]),
                                                       where),
        hidden_widths=widths, learning_rates=None if rates is None else tuple(
            float(r) for r in rates), activations=acts, epochs=epochs,
        max_copies=data.get("max_copies", MAX_COPIES), source=where,
    )


def seed_sweep(experiment: Experiment, seeds: int, *, epochs: int | None = None) -> SweepSpec:
    """The sweep of seeds ``0 .. seeds-1`` of one experiment (``geomcore sweep X --seeds N``).

    Raises
    ------
    SweepError
        If ``seeds`` is not a positive integer.
    """
    return SweepSpec(experiment=experiment, name=f"{experiment.name}-seeds{seeds}",
                     seeds=_seeds(seeds, f"sweep {experiment.name}"), epochs=epochs)


def sweep_runs(spec: SweepSpec) -> list[Experiment]:
    """Every run of the grid, as experiments: widths, then learning rate, activation, seed.

    Raises
    ------
    ExperimentError
        If a grid point is not a valid experiment (e.g. a viewed layer not 2 or 3 wide).
    """
    base = spec.experiment
    runs = []
    for widths, rate, act, seed in itertools.product(
        spec.hidden_widths or (base.model.hidden_widths,),
        spec.learning_rates or (base.training.learning_rate,),
        spec.activations or (base.model.activation,),
        spec.seeds,
    ):
        model = dataclasses.replace(base.model, hidden_widths=tuple(widths), activation=act)
        training = dataclasses.replace(base.training, learning_rate=rate,
                                       epochs=spec.epochs or base.training.epochs)
        runs.append(base.replace(seed=seed, model=model, training=training))
    return runs


def _shape_key(experiment: Experiment) -> str:
    """What copies of one program must share: the whole configuration but the seed."""
    d = experiment.to_dict()
    d.pop("seed")
    return json.dumps(d, sort_keys=True)


def group_runs(runs: Sequence[Experiment], max_copies: int = MAX_COPIES
               ) -> list[list[Experiment]]:
    """Split runs into groups trained as one program each.

    Runs share a group only if they differ in nothing but their seed; a shape with more
    than ``max_copies`` runs is split into ``ceil(n / max_copies)`` groups of nearly equal
    size (40 runs, 32 at most: two groups of 20; 20 runs, 16 at most: two of 10).
    """
    shapes: dict[str, list[Experiment]] = {}
    for run in runs:
        shapes.setdefault(_shape_key(run), []).append(run)
    groups = []
    for members in shapes.values():
        parts = math.ceil(len(members) / max_copies)
        size, extra = divmod(len(members), parts)
        at = 0
        for k in range(parts):
            take = size + (1 if k < extra else 0)
            groups.append(members[at:at + take])
            at += take
    return groups


# -- the batched trainer ------------------------------------------------------------------


def _unflatten_graph(flat: Any, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """Split weights flattened into ``(..., size)`` into ``(..., *shape)`` per variable."""
    import tensorflow as tf

    out, at = [], 0
    lead = list(flat.shape[:-1])
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(tf.reshape(flat[..., at:at + size], [*lead, *shape]))
        at += size
    return out


@functools.cache
def _snapshot_program(activations: tuple[Callable[[Any], Any], ...],
                      shapes: tuple[tuple[int, ...], ...], loss: str, jit_compile: bool
                      ) -> Any:
    """The compiled function measuring an epoch's snapshots of C copies (see
    :func:`_snapshot_graph`), one per network shape and loss in the process.

    It holds no variables (the snapshots' weights come in as an argument), so the groups of
    one sweep that share a shape share one trace and one XLA compilation; a new C, number
    of points or of slots is a new trace of the same function.
    """
    import tensorflow as tf

    return tf.function(
        lambda buf, count, x64, labels, points: _snapshot_graph(
            activations, shapes, loss, buf, count, x64, labels, points),
        jit_compile=jit_compile, autograph=False,
    )


def _snapshot_graph(activations: tuple[Callable[[Any], Any], ...],
                    shapes: tuple[tuple[int, ...], ...], loss: str, buf: Any, count: Any,
                    x64: Any, labels: Any, points: Any) -> tuple:
    """Each written snapshot's loss and correct count on its copy's training set, and the
    hidden outputs of its copy's followed points.

    Parameters
    ----------
    activations, shapes
        Each Dense layer's Keras activation; each variable's shape (kernel ``(inputs,
        units)``, bias ``(units,)``, layer by layer).
    loss
        The experiment's loss (the metrics' definitions: :func:`_metrics_graph`).
    buf : Tensor of shape (slots, C, size), float32
        The snapshots' weights, flattened; the first ``count`` slots are written.
    count : int32 Tensor
        Snapshots written.
    x64 : Tensor of shape (C, n, 2), float64
        Each copy's training inputs.
    labels : Tensor of shape (C, n)
        Their labels (int64 class indices for a softmax output, else float64 0/1).
    points : Tensor of shape (C, m, 2), float32
        Each copy's followed points.

    Returns
    -------
    tuple
        ``losses`` and ``hits`` ``(slots, C)`` float64 (zero in unwritten slots), then each
        hidden layer's outputs ``(slots, C, m, units)``.
    """
    import tensorflow as tf

    from geomcore.engine import dense_hidden_graph

    slots, copies = buf.shape[0], buf.shape[1]

    # One slot at a time: memory stays one copy-set's forward pass over the training data
    # whatever the number of slots.
    def measure(s, losses, hits):
        weights = _unflatten_graph(tf.cast(buf[s], tf.float64), shapes)
        loss_s, hit_s = _metrics_graph(activations, loss, x64, labels, weights)
        return (s + 1, tf.tensor_scatter_nd_update(losses, s[None, None], loss_s[None]),
                tf.tensor_scatter_nd_update(hits, s[None, None], hit_s[None]))

    empty = tf.zeros([slots, copies], tf.float64)
    _, losses, hits = tf.while_loop(lambda s, *_: s < count, measure,
                                    (tf.constant(0), empty, empty))
    weights = [tf.reshape(w, [slots * copies, *w.shape[2:]])
               for w in _unflatten_graph(buf, shapes)]
    m = points.shape[1]
    h = tf.reshape(tf.broadcast_to(points[None], [slots, copies, m, 2]), [slots * copies, m, 2])
    # dense_hidden_graph reads each layer's activation only.
    layers = [SimpleNamespace(activation=act) for act in activations]
    hidden = [tf.reshape(o, [slots, copies, m, o.shape[-1]])
              for o in dense_hidden_graph(layers, h, weights)]
    return (losses, hits, *hidden)


def _metrics_graph(activations: Sequence[Callable[[Any], Any]], loss: str, x64: Any,
                   labels: Any, weights: Sequence[Any]) -> tuple[Any, Any]:
    """Each copy's loss and correctly classified points ``(C,)`` on its whole training set
    ``x64`` ``(C, n, 2)``, for weights ``(C, ...)`` (float64); float64 (the accuracy is the
    count over ``n``, taken in numpy).

    The definitions of :meth:`geomcore.geometry.Network.loss_and_accuracy` (what a
    trajectory stores): mean squared error or binary cross-entropy of the output
    probability clipped to ``[1e-7, 1 - 1e-7]``, accuracy of ``p > 0.5``; for a softmax
    output, the mean of ``-log`` of the label's clipped probability and accuracy of the
    argmax. Each layer applies its own Keras activation.

    Each layer is broadcast products summed over its (2 to 4) inputs, not a batched matmul:
    XLA's CPU batched dot is a separate kernel whose ``(C, n, units)`` result goes through
    memory, while the products fuse with the activations into one loop over the points;
    measured on 16 copies of circles-3d, 4.1 ms a snapshot against 5.3 ms, the same values.
    """
    import tensorflow as tf

    h = x64
    for i, act in enumerate(activations):
        kernel, bias = weights[2 * i], weights[2 * i + 1]
        z = bias[:, None, :]
        for k in range(kernel.shape[1]):
            z = z + h[:, :, k:k + 1] * kernel[:, None, k, :]
        h = act(z)
    eps = tf.constant(1e-7, tf.float64)
    if loss == "sparse_categorical_crossentropy":
        picked = tf.clip_by_value(tf.gather(h, labels, axis=2, batch_dims=2), eps, 1 - eps)
        value = tf.reduce_mean(-tf.math.log(picked), axis=1)
        hit = tf.equal(tf.argmax(h, axis=2), labels)
    else:
        p, y = h[:, :, 0], labels
        if loss == "mse":
            value = tf.reduce_mean(tf.square(p - y), axis=1)
        else:
            q = tf.clip_by_value(p, eps, 1 - eps)
            value = tf.reduce_mean(-(y * tf.math.log(q) + (1 - y) * tf.math.log(1 - q)),
                                   axis=1)
        hit = tf.equal(p > 0.5, tf.equal(y, 1.0))
    # The hits counted, not averaged: numpy's mean divides the exact count by n, and a
    # reduce_mean (a multiplication by 1/n) can differ from it in the last bit.
    return value, tf.reduce_sum(tf.cast(hit, tf.float64), axis=1)


class _BatchedTrainer:
    """C copies of one network, their optimizer and the compiled epoch function.

    The copies' kernels are variables ``(C, inputs, units)``, their biases ``(C, units)``;
    each copy has its own data ``(C, n, 2)``, batch order and followed points ``(C, m, 2)``.
    The training graph mirrors :class:`geomcore.engine._GraphTrainer` step for step (the
    same Keras activations, loss, optimizer and snapshot scatter), with the loss summed
    over copies; the snapshots are measured by a second compiled function
    (:func:`_snapshot_program`), shared by every trainer of the same shape in the process.

    The layers' products stay ``tf.matmul`` in training: measured on 16 copies of
    circles-3d, an epoch took 10 ms with batched matmuls against 16 ms with broadcast
    products (their gradients are reductions over the batch that XLA fuses poorly).
    """

    def __init__(self, models: list[Any], optimizer: Any, loss: str, xs: np.ndarray,
                 targets: np.ndarray, *, labels: np.ndarray, batch_size: int,
                 points: np.ndarray, slots: int, jit_compile: bool) -> None:
        import tensorflow as tf

        from geomcore.engine import KERAS_LOSSES
        from geomcore.recording import dense_layers

        self.layers = dense_layers(models[0])
        self.copies = len(models)
        self.variables = [
            tf.Variable(np.stack([np.asarray(m.trainable_variables[i].numpy()) for m in models]),
                        dtype=tf.float32, name=f"batched_{i}")
            for i in range(len(models[0].trainable_variables))
        ]
        self.shapes = tuple(tuple(int(d) for d in v.shape[1:]) for v in self.variables)
        self.optimizer = optimizer
        optimizer.build(self.variables)
        # Per-point losses (no reduction): the mean over each copy's batch is taken below, as
        # the Keras Loss object's "sum_over_batch_size" does for one run.
        self.loss_fn = KERAS_LOSSES[loss](reduction=None)
        self.x = tf.constant(xs, dtype=tf.float32)
        self.targets = tf.constant(targets, dtype=tf.float32)
        self.points = tf.constant(points, dtype=tf.float32)
        # The snapshots' loss and accuracy are measured in a graph, in float64 as the numpy
        # recording path measures them (Network.loss_and_accuracy), on these (C, n) labels.
        self.x64 = tf.constant(xs, dtype=tf.float64)
        self.labels = tf.constant(labels, dtype=tf.int64 if loss == "sparse_categorical_"
                                  "crossentropy" else tf.float64)
        self.measure = _snapshot_program(tuple(lay.activation for lay in self.layers),
                                         self.shapes, loss, jit_compile)
        self.batch_size = batch_size
        n = xs.shape[1]
        self.n = n
        self.full_steps, self.tail = divmod(n, batch_size)
        self.steps_per_epoch = self.full_steps + (1 if self.tail else 0)
        self.slots = slots
        self.epochs_run = 0
        self._epoch = tf.function(
            lambda x, targets, order, mask: self._epoch_graph(x, targets, order, mask),
            jit_compile=jit_compile, autograph=False,
        )

    def _forward(self, xb: Any) -> Any:
        import tensorflow as tf

        h = xb
        for i, lay in enumerate(self.layers):
            h = lay.activation(tf.matmul(h, self.variables[2 * i])
                               + self.variables[2 * i + 1][:, None, :])
        return h

    def _epoch_graph(self, x: Any, targets: Any, order: Any, mask: Any) -> tuple:
        import tensorflow as tf

        xe = tf.gather(x, order, batch_dims=1)
        ye = tf.gather(targets, order, batch_dims=1)
        bs, copies = self.batch_size, self.copies
        size = sum(int(np.prod(s)) for s in self.shapes)
        buf = tf.zeros([self.slots, copies, size], dtype=tf.float32)

        def train_step(i, xb, yb, count, ok, failed, loss_sum, buf):
            with tf.GradientTape() as tape:
                pred = self._forward(xb)
                per_copy = tf.reduce_mean(self.loss_fn(yb, pred), axis=1)  # (C,)
                loss = tf.reduce_sum(per_copy)
            grads = tape.gradient(loss, self.variables)
            self.optimizer.apply_gradients(zip(grads, self.variables))
            finite = tf.math.is_finite(per_copy)
            failed = tf.where(ok & ~finite, i, failed)
            ok = ok & finite
            take = mask[i]
            buf = tf.cond(
                take,
                lambda: tf.tensor_scatter_nd_update(
                    buf, count[None, None],
                    tf.concat([tf.reshape(v, [copies, -1]) for v in self.variables],
                              axis=1)[None]),
                lambda: buf,
            )
            count = count + tf.cast(take, tf.int32)
            # Diverged copies add nothing: their NaN would make the sum NaN.
            loss_sum = loss_sum + tf.where(ok, per_copy, 0.0) * xb.shape[1]
            return i + 1, count, ok, failed, loss_sum, buf

        def body(i, count, ok, failed, loss_sum, buf):
            xb = tf.slice(xe, [0, i * bs, 0], [copies, bs, 2])
            yb = tf.slice(ye, [0, i * bs, 0], [copies, bs, ye.shape[2]])
            return train_step(i, xb, yb, count, ok, failed, loss_sum, buf)

        state = (tf.constant(0), tf.constant(0), tf.ones([copies], tf.bool),
                 tf.fill([copies], -1), tf.zeros([copies]), buf)
        state = tf.while_loop(
            lambda i, count, ok, *_: (i < self.full_steps) & tf.reduce_any(ok), body, state)
        if self.tail:
            start = self.full_steps * bs
            i, count, ok, failed, loss_sum, buf = state
            state = tf.cond(
                tf.reduce_any(ok),
                lambda: train_step(i, xe[:, start:], ye[:, start:], count, ok, failed,
                                   loss_sum, buf),
                lambda: state,
            )
        i, count, ok, failed, loss_sum, buf = state
        return count, i, failed, loss_sum, buf

    def current(self) -> np.ndarray:
        """Weights now, flat ``(1, C, size)``."""
        return np.concatenate([v.numpy().reshape(self.copies, -1) for v in self.variables],
                              axis=1)[None]

    def hidden(self, flat: np.ndarray) -> list[np.ndarray]:
        """The hidden outputs ``(1, C, m, units)`` of each copy's points for weights ``flat``
        ``(1, C, size)``."""
        import tensorflow as tf

        # In the first of `slots` rows: the shape the snapshot program was traced for.
        buf = np.pad(flat, [(0, self.slots - 1), (0, 0), (0, 0)])
        out = self.measure(tf.constant(buf), tf.constant(0), self.x64, self.labels,
                           self.points)
        return [np.asarray(h[:1]) for h in out[2:]]

    def unflatten(self, flat: np.ndarray, copy: int) -> list[np.ndarray]:
        """Copy ``copy``'s weights ``(slots, *variable shape)`` per variable, from
        ``(slots, C, size)``."""
        out, at = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(flat[:, copy, at:at + size].reshape(-1, *shape))
            at += size
        return out

    def run_epoch(self, orders: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
        """Run one epoch of every copy; copy ``c`` visits ``x[c][orders[c]]``.

        The snapshots are not measured yet: :meth:`measure_epoch` does it (another thread
        may, while the next epoch trains).
        """
        import tensorflow as tf

        self.epochs_run += 1
        out = self._epoch(self.x, self.targets, tf.constant(orders, dtype=tf.int32),
                          tf.constant(mask, dtype=tf.bool))
        return {"count": int(out[0]), "steps": int(out[1]), "failed": np.asarray(out[2]),
                "loss_sum": np.asarray(out[3]), "buf": out[4]}

    def measure_epoch(self, out: dict[str, Any]) -> dict[str, Any]:
        """Add to an epoch's :meth:`run_epoch` output its snapshots' weights ``"flat"``
        ``(slots, C, size)``, ``"metrics"`` (losses and accuracies ``(slots, C)``) and
        ``"hidden"`` (per hidden layer, ``(slots, C, m, units)``)."""
        import tensorflow as tf

        res = self.measure(out["buf"], tf.constant(out["count"], dtype=tf.int32), self.x64,
                           self.labels, self.points)
        return {**out, "flat": np.asarray(out["buf"]),
                "metrics": (np.asarray(res[0]), np.asarray(res[1]) / self.n),
                "hidden": [np.asarray(h) for h in res[2:]]}


def record_batched(
    experiments: Sequence[Experiment],
    *,
    progress: Callable[[int, int, float], None] | None = None,
    jit_compile: bool = True,
    sink: Callable[[int, Trajectory], None] | None = None,
) -> list[Trajectory]:
    """Train runs that differ only in their seed as one batched program; their trajectories.

    Each copy starts from the initial weights :func:`geomcore.models.build_model` gives its
    seed, trains on its own dataset (its seed's), visits its batches in its own plan's order
    (:meth:`~geomcore.recording.RecordingPlan.epoch_order`) and is recorded by its plan through
    :class:`geomcore.engine.RunAssembly`, as :func:`geomcore.engine.record_with_engine` records
    it alone; weights equal those of the lone run to float32 round-off. Each snapshot's loss
    and accuracy on the copy's whole training set are measured in a compiled program in
    float64 with the definitions of :meth:`geomcore.geometry.Network.loss_and_accuracy` (the
    numpy path the lone run takes: the same values to float64 round-off, the accuracy exactly
    but for a point exactly on the decision boundary), not copy by copy in numpy.

    Parameters
    ----------
    experiments
        Runs equal in everything but the seed (:func:`group_runs` makes such groups).
    progress
        Called after each epoch with ``(epochs_done, epochs_total, loss)``, the loss the
        mean over the copies still training of their epoch loss.
    jit_compile
        Compile the epoch function with XLA.
    sink
        If given, called with ``(index, trajectory)`` for each run as soon as its
        trajectory is assembled, and the trajectory is not kept (nor returned): a group
        then holds its snapshot rows and one trajectory at a time, not all of them twice.

    Returns
    -------
    list of Trajectory
        One per experiment, in order (empty with a ``sink``);
        ``metadata["trainer"] == "engine"`` and ``metadata["batched_copies"]`` the group's
        size. A copy that diverged is marked so
        (at the epoch of its first non-finite value) and stops being recorded there.

    Raises
    ------
    SweepError
        If the runs differ in more than their seed, or the list is empty.
    ValueError
        If the engine does not support the experiments' loss or optimizer.
    """
    from geomcore.datasets import make_dataset
    from geomcore.engine import TRAINER_NAME, EpochResult, RunAssembly, unsupported_reason
    from geomcore.models import build_model, make_optimizer
    from geomcore.recording import SnapshotRows, recording_plan

    if not experiments:
        raise SweepError("record_batched got no experiments; expected at least one")
    if len({_shape_key(e) for e in experiments}) != 1:
        raise SweepError("record_batched trains runs that differ only in their seed; got "
                         f"{sorted({e.name for e in experiments})} with other differences")
    first = experiments[0]
    reason = unsupported_reason(first)
    if reason is not None:
        raise ValueError(f"{first.source}: the engine cannot train {reason}")
    t = first.training
    plans = [recording_plan(*make_dataset(e.dataset.name, seed=e.seed, **e.dataset.params),
                            experiment=e) for e in experiments]
    masks = [plans[0].snapshot_steps(epoch) for epoch in range(t.epochs)]
    models = [build_model(e, seed=p.seed) for e, p in zip(experiments, plans)]
    trainer = _BatchedTrainer(
        models, make_optimizer(first), t.loss,
        np.stack([p.x for p in plans]),
        np.stack([p.y.astype(np.float32)[:, None] for p in plans]),
        labels=np.stack([p.y for p in plans]), batch_size=t.batch_size,
        points=np.stack([p.points for p in plans]),
        slots=max(int(m.sum()) for m in masks), jit_compile=jit_compile,
    )
    spe = int(plans[0].steps_per_epoch)
    runs = [RunAssembly(p, trainer.layers, spe) for p in plans]
    alive = [True] * len(runs)
    flat0 = trainer.current()
    initial = [trainer.unflatten(flat0, c) for c in range(len(runs))]

    def start() -> None:
        """Append every copy's initial snapshot (off the training thread: compiling the
        snapshot program overlaps compiling the training program)."""
        hidden0 = trainer.hidden(flat0)
        for c, run in enumerate(runs):
            run.add(0.0, 0, [w[0] for w in initial[c]], [h[0, c] for h in hidden0])

    def measure(epoch: int, out: dict[str, Any]) -> None:
        """Measure the epoch's snapshots and append every live copy's (off the training
        thread)."""
        out = trainer.measure_epoch(out)
        mask = masks[epoch]
        steps = np.flatnonzero(mask) + 1  # 1-based steps of the epoch's snapshots
        for c, run in enumerate(runs):
            if not alive[c]:
                continue
            failed = int(out["failed"][c])
            # As the engine: no snapshot at or after the step whose loss was not finite.
            count = out["count"] if failed < 0 else int(np.count_nonzero(steps <= failed))
            res = EpochResult(
                count=count, steps_done=out["steps"], failed_step=failed, loss=float("nan"),
                step=epoch * spe + steps[:count].astype(np.int64),
                step_in_epoch=steps[:count].astype(np.int32),
                weights=trainer.unflatten(out["flat"], c),
                hidden=[h[:, c] for h in out["hidden"]],
                metrics=(out["metrics"][0][:, c], out["metrics"][1][:, c]),
            )
            alive[c] = run.add_epoch(epoch, res)

    def orders_of(epoch: int) -> np.ndarray:
        # The program's int32 indices, converted here, off the training thread.
        return np.stack([p.epoch_order(epoch) for p in plans]).astype(np.int32)

    with ThreadPoolExecutor(max_workers=1) as pool:
        ordering = pool.submit(orders_of, 0)
        measuring: Future[None] | None = pool.submit(start)
        for epoch in range(t.epochs):
            orders = ordering.result()
            ordering = pool.submit(orders_of, epoch + 1)
            out = trainer.run_epoch(orders, masks[epoch])
            if measuring is not None:
                measuring.result()
            if not any(alive):
                measuring = None
                break
            measuring = pool.submit(measure, epoch, out)
            if progress is not None:
                live = np.isfinite(out["loss_sum"]) & (out["failed"] < 0)
                loss = float(np.mean(out["loss_sum"][live])) / trainer.n if live.any() else (
                    float("nan"))
                progress(epoch + 1, t.epochs, loss)
        if measuring is not None:
            measuring.result()
    extra = {"batched_copies": len(runs)}
    out = []
    for c, run in enumerate(runs):
        trajectory = run.trajectory([w[0] for w in initial[c]], trainer=TRAINER_NAME,
                                    extra_metadata=extra)
        run.records = SnapshotRows()  # the rows are in the trajectory now
        if sink is None:
            out.append(trajectory)
        else:
            sink(c, trajectory)
    return out


# -- groups, the summary ------------------------------------------------------------------


def summary_row(trajectory: Trajectory, path: str | Path, *, nesting: bool = True
                ) -> dict[str, Any]:
    """One run's row of the summary table (JSON-able), keys :data:`SUMMARY_COLUMNS`.

    ``nesting_lost_at_epoch`` is :func:`geomcore.topology.nesting_lost_at_epoch` (what
    ``geomcore inspect --json`` reports), ``None`` where it does not apply (not nested rings,
    a viewed layer not 2 wide) or when ``nesting`` is false.
    """
    exp = trajectory.metadata["experiment"]
    lost = None
    if nesting:
        from geomcore.topology import nesting_lost_at_epoch

        lost, _ = nesting_lost_at_epoch(trajectory)
    at = trajectory.metadata.get("diverged_at_epoch")
    return {
        "experiment": exp["name"],
        "seed": int(trajectory.metadata["seed"]),
        "widths": "-".join(str(w) for w in exp["model"]["hidden_widths"]),
        "learning_rate": float(exp["training"]["learning_rate"]),
        "activation": exp["model"]["activation"],
        "final_accuracy": float(trajectory.accuracy[-1]),
        "final_loss": float(trajectory.loss[-1]),
        "diverged": bool(trajectory.metadata["diverged"]),
        "diverged_at_epoch": None if at is None else float(at),
        "nesting_lost_at_epoch": lost,
        "trajectory": str(path),
    }


def record_group(
    experiments: Sequence[Experiment],
    directory: str | Path,
    *,
    force: bool = False,
    nesting: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
    jit_compile: bool = True,
) -> list[dict[str, Any]]:
    """Record one group into the cache folder (the runs not cached yet) and summarise it.

    A run already in ``directory`` (a whole, valid file) is read, not trained again, unless
    ``force``. Each trajectory is written atomically under its experiment's lock, as
    :func:`geomcore.cache.load_or_record` writes it. This is the task a Dask worker runs.

    Returns
    -------
    list of dict
        One summary row per experiment, in order (:func:`summary_row`).
    """
    from geomcore.cache import _locked, _remove_temporaries, trajectory_path
    from geomcore.errors import TrajectoryError

    paths = [trajectory_path(e, directory) for e in experiments]
    found: dict[int, Trajectory] = {}
    if not force:
        for i, path in enumerate(paths):
            if path.is_file():
                try:
                    found[i] = Trajectory.load(path)
                except TrajectoryError:
                    pass
    rows: dict[int, dict[str, Any]] = {i: summary_row(t, paths[i], nesting=nesting)
                                       for i, t in found.items()}
    todo = [i for i in range(len(experiments)) if i not in found]
    found.clear()

    def save(k: int, trajectory: Trajectory) -> None:
        i = todo[k]
        with _locked(paths[i]):
            _remove_temporaries(paths[i])
            trajectory.save(paths[i])
        rows[i] = summary_row(trajectory, paths[i], nesting=nesting)

    # Two files written at once (training is over: the other core is free). At most two
    # trajectories wait in memory for their writer.
    with ThreadPoolExecutor(max_workers=2) as writers:
        pending: list[Future[None]] = []

        def write(k: int, trajectory: Trajectory) -> None:
            if len(pending) == 2:
                pending.pop(0).result()
            pending.append(writers.submit(save, k, trajectory))

        if todo:
            record_batched([experiments[i] for i in todo], progress=progress,
                           jit_compile=jit_compile, sink=write)
        for future in pending:
            future.result()
    return [rows[i] for i in range(len(experiments))]


def _summary_paths(name: str, trajectories: Sequence[str], directory: Path
                   ) -> tuple[Path, Path]:
    # The runs' file names (each holds its experiment's content hash), not their paths: the
    # same sweep in a cache folder moved or mounted elsewhere keeps its summary's name.
    names = "\n".join(Path(t).name for t in trajectories)
    digest = hashlib.sha256(names.encode()).hexdigest()[:12]
    folder = directory / "sweeps"
    return folder / f"{name}-{digest}.csv", folder / f"{name}-{digest}.json"


def write_summary(name: str, rows: Sequence[dict[str, Any]], directory: str | Path
                  ) -> tuple[Path, Path]:
    """Write the summary table as CSV and JSON into ``<directory>/sweeps/``, atomically.

    Files are named ``<name>-<12 hex digits>.csv`` and ``.json``, the digits hashing the
    runs' trajectory paths (so another grid under the same name gets other files). The JSON
    file holds ``{"name": name, "columns": [...], "runs": [row, ...]}``; the CSV file a
    header of :data:`SUMMARY_COLUMNS` and one line per run (empty cells for ``None``).

    Returns
    -------
    (Path, Path)
        The CSV file and the JSON file.
    """
    csv_path, json_path = _summary_paths(name, [r["trajectory"] for r in rows],
                                         Path(directory).absolute())
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in SUMMARY_COLUMNS})
    blob = json.dumps({"name": name, "columns": list(SUMMARY_COLUMNS), "runs": list(rows)},
                      indent=1) + "\n"
    _atomic_write(csv_path, lambda f: f.write(text.getvalue().encode("utf-8")))
    _atomic_write(json_path, lambda f: f.write(blob.encode("utf-8")))
    return csv_path, json_path


def load_summary(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a summary JSON file written by :func:`write_summary`.

    Raises
    ------
    SweepError
        If the file cannot be read or is not a sweep summary.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = data["runs"]
        if not isinstance(rows, list) or any(set(SUMMARY_COLUMNS) - set(r) for r in rows):
            raise KeyError("runs")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SweepError(f"{path}: not a sweep summary ({type(err).__name__}: {err}); "
                         "expected the JSON file geomcore sweep writes") from None
    return rows


def run_sweep(
    spec: SweepSpec,
    *,
    directory: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    in_process: bool = False,
    force: bool = False,
    nesting: bool = True,
    progress: SweepProgress | None = None,
) -> tuple[list[dict[str, Any]], Path, Path]:
    """Record every run of the grid and write its summary.

    Parameters
    ----------
    spec
        The grid.
    directory
        Cache folder (:func:`geomcore.cache.cache_dir` when ``None``); with a remote
        scheduler the workers must see it at the same path.
    scheduler
        Address of a Dask scheduler; ``None`` with ``in_process`` false starts a
        LocalCluster (:func:`geomcore.cluster.client`).
    workers
        Local Dask worker processes (default: one per core).
    in_process
        Train the groups in this process, without Dask, as many at once as it has cores
        (:func:`geomcore.cluster.default_workers`).
    force
        Record runs again even if cached.
    nesting
        Measure when each run loses the rings' nesting (:func:`summary_row`).
    progress
        Called with ``(runs done, runs in all)`` as groups finish (and, in process, after
        each epoch with fractional runs done).

    Returns
    -------
    (rows, csv_path, json_path)
        The summary rows in grid order and the files they were written to.

    Raises
    ------
    GeomcoreError
        If the scheduler does not answer (one line), or a run is not a valid experiment.
    """
    from geomcore.cache import cache_dir

    folder = Path(directory).absolute() if directory is not None else cache_dir()
    runs = sweep_runs(spec)
    groups = group_runs(runs, spec.max_copies)
    total = len(runs)
    done = 0
    results: dict[int, list[dict[str, Any]]] = {}
    if in_process:
        # Groups run on threads, one per core: TensorFlow releases the GIL while a compiled
        # program runs, and XLA runs each (small) program on one core.
        lock = threading.Lock()
        fraction = [0.0] * len(groups)

        def record(g: int) -> list[dict[str, Any]]:
            def epoch_progress(epochs_done: int, epochs: int, _loss: float) -> None:
                if progress is not None:
                    with lock:
                        fraction[g] = len(groups[g]) * epochs_done / epochs
                        progress(sum(fraction), total)

            return record_group(groups[g], folder, force=force, nesting=nesting,
                                progress=epoch_progress)

        with ThreadPoolExecutor(max_workers=min(len(groups), default_workers())) as pool:
            for g, rows in enumerate(pool.map(record, range(len(groups)))):
                results[g] = rows
    else:
        from distributed import as_completed

        from geomcore.cluster import client

        with client(scheduler, n_workers=workers) as c:
            futures = {c.submit(record_group, group, str(folder), force=force,
                                nesting=nesting, pure=False): g
                       for g, group in enumerate(groups)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += len(groups[futures[future]])
                if progress is not None:
                    progress(done, total)
    # Back in grid order (groups gather runs of one shape from anywhere in the grid).
    by_run = {id(e): row for g, group in enumerate(groups) for e, row in zip(group, results[g])}
    rows = [by_run[id(e)] for e in runs]
    csv_path, json_path = write_summary(spec.name, rows, folder)
    return rows, csv_path, json_path


def accuracy_histogram(rows: Sequence[dict[str, Any]], *, bins: int = 10, width: int = 40
                       ) -> str:
    """A text histogram of final accuracy per configuration (widths, learning rate,
    activation), one block per configuration, ``bins`` equal bins over [0, 1].

    Returns
    -------
    str
        Lines such as ``"  [0.90, 1.00]  ################  16"``.
    """
    configs: dict[tuple, list[float]] = {}
    for r in rows:
        key = (r["experiment"], r["widths"], r["learning_rate"], r["activation"])
        configs.setdefault(key, []).append(r["final_accuracy"])
    lines = []
    for (name, widths, rate, act), accs in configs.items():
        counts, edges = np.histogram(np.clip(accs, 0, 1), bins=bins, range=(0.0, 1.0))
        lines.append(f"{name}  widths {widths}  learning rate {rate:g}  {act}  "
                     f"({len(accs)} runs): final accuracy")
        top = max(int(counts.max()), 1)
        used = np.flatnonzero(counts)
        # The bins from the lowest to the highest accuracy: empty ones between them show gaps.
        for k in range(int(used[0]), int(used[-1]) + 1):
            count = int(counts[k])
            bar = "#" * round(width * count / top)
            close = "]" if k == bins - 1 else ")"
            lines.append(f"  [{edges[k]:.2f}, {edges[k + 1]:.2f}{close}  {bar:<{width}}  {count}")
    return "\n".join(lines)


def load_or_run_sweep(
    spec: SweepSpec,
    *,
    directory: str | Path | None = None,
    progress: SweepProgress | None = None,
) -> list[dict[str, Any]]:
    """The summary rows of a sweep: read from its summary file, or recorded in this process.

    The summary's file name follows from the runs' trajectory paths (:func:`write_summary`),
    so a sweep recorded before (by this function or by ``geomcore sweep``) is read without
    loading a trajectory; otherwise :func:`run_sweep` records the runs not cached yet, in
    this process and without the nesting measurement, and writes the summary.

    Returns
    -------
    list of dict
        One row per run, in grid order (:data:`SUMMARY_COLUMNS`).
    """
    from geomcore.cache import cache_dir, trajectory_path

    folder = Path(directory).absolute() if directory is not None else cache_dir()
    expected = [str(trajectory_path(e, folder)) for e in sweep_runs(spec)]
    _, json_path = _summary_paths(spec.name, expected, folder)
    if json_path.is_file():
        try:
            rows = load_summary(json_path)
        except SweepError:
            rows = []
        if [Path(r["trajectory"]).name for r in rows] == [Path(e).name for e in expected]:
            return rows
    rows, _, _ = run_sweep(spec, directory=folder, in_process=True, nesting=False,
                           progress=progress)
    return rows


def rich_progress(name: str) -> tuple[SweepProgress, Callable[[], None]]:
    """A rich progress bar on stderr counting a sweep's runs: ``(report, stop)``.

    ``report(done, total)`` starts the bar on its first call; ``stop()`` ends it.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(f"sweep {name}"), BarColumn(),
                   TextColumn("{task.completed:.1f}/{task.total:g} runs"),
                   TimeRemainingColumn(), console=Console(stderr=True))
    task = None

    def report(done: float, total: int) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(name, total=total)
        bar.update(task, completed=done)

    return report, bar.stop
