"""An in-graph trainer: a whole epoch of Keras optimizer steps in one compiled ``tf.function``.

``model.fit`` spends almost all of its time on per-step overhead for our networks of a few
dozen weights (on a 2-core CPU, one ``fit`` per epoch takes over a second for 1,250 steps).
This trainer runs every step of an epoch inside one XLA-compiled ``tf.function`` with the
same Keras model (:func:`geomcore.models.build_model`), the same Keras optimizer (SGD with
or without momentum, or Adam: :func:`geomcore.models.make_optimizer`,
``optimizer.apply_gradients`` in the graph) and the same Keras loss, on batches visited in
the order the recording plan gives (:meth:`~geomcore.recording.RecordingPlan.epoch_order`),
so its weights equal those of ``model.fit(x[order], y[order], shuffle=False)`` to float32
round-off.

Snapshots are written inside the graph into a preallocated tensor: after a step that the
plan's schedule marks, the weights are scattered into the next free row, so a dense
snapshot schedule costs one small write per snapshot and no extra call; the hidden outputs
of the plan's probe points and grid are computed for every row at the end of the call (the
trajectory keeps them at a bounded schedule, :class:`~geomcore.recording.SnapshotRows`). The
rows and the trajectory are made by the same :class:`~geomcore.recording.RecordingPlan` the
callback :class:`~geomcore.recording.TrajectoryRecorder` uses, with ``"trainer": "engine"``.

Imports Keras (and TensorFlow) when imported; the replay side never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from geomcore.errors import ExperimentError
from geomcore.experiment import LOSSES, OPTIMIZERS, Experiment
from geomcore.geometry import Network
from geomcore.models import build_model, import_keras, make_optimizer
from geomcore.recording import (
    ProgressFn,
    RecordingPlan,
    SnapshotRows,
    dense_layers,
    layer_network,
    recording_plan,
)
from geomcore.trajectory import Trajectory

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras, which silences TensorFlow)

__all__ = [
    "KERAS_LOSSES",
    "SUPPORTED_LOSSES",
    "SUPPORTED_OPTIMIZERS",
    "TRAINER_NAME",
    "EpochResult",
    "RunAssembly",
    "dense_hidden_graph",
    "record_with_engine",
    "unsupported_reason",
]

#: Losses the engine computes with the Keras loss of the same name: every loss an experiment
#: accepts today (a loss added to :data:`~geomcore.experiment.LOSSES` that the engine cannot
#: run belongs in the experiment's list only, and falls back to ``fit``).
SUPPORTED_LOSSES = LOSSES
#: Optimizers (``training.optimizer``) the engine drives through the Keras optimizer.
SUPPORTED_OPTIMIZERS = OPTIMIZERS
#: Value of the ``trainer`` metadata key in trajectories the engine records.
TRAINER_NAME = "engine"
#: Compile the epoch function with XLA. Measured on the 2-core reference machine with the
#: circles-3d experiment: about 20x faster per epoch than the plain graph
#: (``record_with_engine(..., jit_compile=False)``), same weights to float32 round-off.
#: bench/train.py times the XLA engine only.
JIT_COMPILE = True

#: The Loss classes ``compile(loss=name)`` wraps the named functions in: mean over the batch
#: ("sum_over_batch_size"), and binary cross-entropy from the sigmoid's logits.
KERAS_LOSSES = {
    "mse": keras.losses.MeanSquaredError,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    # Labels (n, 1) as class indices against a softmax of K units.
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
}


def unsupported_reason(experiment: Experiment) -> str | None:
    """Why the engine cannot train ``experiment``, or ``None`` if it can.

    The engine supports the losses in :data:`SUPPORTED_LOSSES` and the optimizers in
    :data:`SUPPORTED_OPTIMIZERS` (SGD with or without momentum, Adam).
    """
    t = experiment.training
    if t.loss not in SUPPORTED_LOSSES:
        return f"training.loss = {t.loss!r} (the engine supports {list(SUPPORTED_LOSSES)})"
    if t.optimizer not in SUPPORTED_OPTIMIZERS:
        return (
            f"training.optimizer = {t.optimizer!r} (the engine supports "
            f"{list(SUPPORTED_OPTIMIZERS)})"
        )
    return None


@dataclass
class EpochResult:
    """One run's epoch as the compiled epoch function returns it, as numpy arrays.

    The batched sweep trainer (:mod:`geomcore.sweep`) gives one per copy, so both record
    through :class:`RunAssembly`.
    """

    count: int  # snapshots written (the first ``count`` slots)
    steps_done: int  # steps run before stopping (all of them unless the loss went non-finite)
    failed_step: int  # 0-based step of the first non-finite batch loss, -1 if none
    loss: float  # mean over the points of the steps run of their batch's loss, as fit logs it
    step: np.ndarray  # (count,) int64, optimizer iterations at each snapshot
    step_in_epoch: np.ndarray  # (count,) int32, 1-based step of the epoch at each snapshot
    weights: list[np.ndarray]  # per trainable variable, (slots, *variable.shape) float32
    hidden: list[np.ndarray]  # per hidden layer, (slots, points, units) float32
    # (loss, accuracy) of each slot on the whole training set, each (slots,) float64, when the
    # graph measured them (the batched sweep); None: the plan measures them in numpy.
    metrics: tuple[np.ndarray, np.ndarray] | None = None


def dense_hidden_graph(layers: list[Any], h: Any, weights: list[Any]) -> list[Any]:
    """Every hidden layer's outputs for stacked weights, in the graph (or eagerly).

    The Dense formula ``act(h @ kernel + bias)`` batched over a leading axis of ``B`` weight
    sets (snapshots, or snapshots times copies in a sweep), with each layer's own Keras
    activation.

    Parameters
    ----------
    layers
        The Dense layers (:func:`~geomcore.recording.dense_layers`); their activations are used.
    h : Tensor of shape (B, m, 2)
        The points for each weight set, data units.
    weights
        Kernel, bias, kernel, bias, ... layer by layer, shapes ``(B, inputs, units)`` and
        ``(B, units)``.

    Returns
    -------
    list of Tensor of shape (B, m, units), one per hidden layer
    """
    outs = []
    for i, lay in enumerate(layers[:-1]):
        kernel, bias = weights[2 * i], weights[2 * i + 1]
        h = lay.activation(tf.matmul(h, kernel) + bias[:, None, :])
        outs.append(h)
    return outs


class RunAssembly:
    """One run's snapshot rows as its epochs come out of a graph, and then its trajectory.

    The per-run half of :func:`record_with_engine`, shared with the batched sweep trainer
    (:mod:`geomcore.sweep`), which holds one per copy: the rows are made by the plan
    (:meth:`~geomcore.recording.RecordingPlan.snapshot`), the trajectory by
    :meth:`~geomcore.recording.RecordingPlan.trajectory`, and a run stops at its first
    non-finite value as the callback does.

    Parameters
    ----------
    plan
        The run's recording plan.
    layers
        The model's Dense layers (:func:`~geomcore.recording.dense_layers`): names and
        activations of the snapshots' networks.
    steps_per_epoch
        Optimizer steps in one epoch.
    """

    def __init__(self, plan: RecordingPlan, layers: list[Any], steps_per_epoch: int) -> None:
        self.plan = plan
        self.layers = layers
        self.steps_per_epoch = steps_per_epoch
        # Hidden images at a bounded schedule: memory does not grow with the number of epochs.
        self.records = SnapshotRows()
        #: Epoch (fractional inside an epoch) where a value became non-finite, else None.
        self.diverged_at: float | None = None

    def network(self, weights: list[np.ndarray]) -> Network:
        """The numpy network of trainable variables listed kernel, bias, kernel, bias, ..."""
        return layer_network(self.layers, weights[0::2], weights[1::2])

    def add(self, epoch: float, step: int, weights: list[np.ndarray],
            hidden: list[np.ndarray], metrics: tuple[float, float] | None = None) -> bool:
        """Append a snapshot; False (and nothing appended) if it is not finite.

        ``hidden`` holds each hidden layer's outputs for the plan's points, ``(m, units)``;
        ``metrics`` the snapshot's ``(loss, accuracy)`` if already measured
        (:meth:`~geomcore.recording.RecordingPlan.snapshot`).
        """
        rec = self.plan.snapshot(epoch, step, self.network(weights), hidden, metrics=metrics)
        if rec is None:
            self.diverged_at = float(epoch)
            return False
        self.records.append(rec)
        return True

    def add_epoch(self, epoch: int, res: EpochResult) -> bool:
        """Append epoch ``epoch``'s (0-based) snapshots; False if training diverged in it."""
        for s in range(res.count):
            snap_epoch = epoch + int(res.step_in_epoch[s]) / self.steps_per_epoch
            weights = [w[s] for w in res.weights]
            metrics = None if res.metrics is None else (
                float(res.metrics[0][s]), float(res.metrics[1][s]))
            if not self.add(snap_epoch, int(res.step[s]), weights, [h[s] for h in res.hidden],
                            metrics):
                return False
        if res.failed_step >= 0:
            # As the callback: diverged after the step whose loss was not finite.
            self.diverged_at = epoch + (res.failed_step + 1) / self.steps_per_epoch
            return False
        return True

    def trajectory(self, initial_weights: list[np.ndarray], *, trainer: str = TRAINER_NAME,
                   extra_metadata: dict[str, Any] | None = None) -> Trajectory:
        """The rows so far as a :class:`~geomcore.trajectory.Trajectory`.

        ``initial_weights`` (any snapshot's weights would do) give the layer names,
        activations and widths of the metadata.
        """
        return self.plan.trajectory(
            self.records, net=self.network(initial_weights),
            steps_per_epoch=self.steps_per_epoch, trainer=trainer,
            diverged_at_epoch=self.diverged_at, extra_metadata=extra_metadata,
        )


class _GraphTrainer:
    """The model, the optimizer and the compiled epoch function for one experiment.

    Parameters
    ----------
    model
        A Functional chain of Dense layers from 2 inputs to ``Dense(1, sigmoid)``.
    optimizer
        A Keras optimizer, not yet used.
    loss
        ``"mse"`` or ``"binary_crossentropy"``.
    x : ndarray of shape (n, 2), float32
        Training inputs, data units.
    targets : ndarray of shape (n, 1), float32
        Labels in {0, 1}.
    batch_size
        Points per step; the last step of an epoch takes the remainder, as ``fit`` does.
    points : ndarray of shape (m, 2), float32
        Points whose hidden outputs every snapshot holds (probe points, then the grid).
    slots
        Most snapshots one epoch can take.
    jit_compile
        Compile with XLA.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss: str,
        x: np.ndarray,
        targets: np.ndarray,
        *,
        batch_size: int,
        points: np.ndarray,
        slots: int,
        jit_compile: bool = JIT_COMPILE,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = KERAS_LOSSES[loss]()
        self.layers = dense_layers(model)
        self.variables = list(model.trainable_variables)
        # Build the optimizer's slots (momentum, Adam moments) now: a tf.function may not
        # create variables on later calls.
        optimizer.build(self.variables)
        self.x = tf.constant(x, dtype=tf.float32)
        self.targets = tf.constant(targets, dtype=tf.float32)
        self.points = tf.constant(points, dtype=tf.float32)
        self.batch_size = batch_size
        n = x.shape[0]
        self.full_steps, self.tail = divmod(n, batch_size)
        self.steps_per_epoch = self.full_steps + (1 if self.tail else 0)
        self.slots = slots
        self.epochs_run = 0
        # The data go in as arguments, not captured constants: XLA would compile them into
        # the program as literals, which made compiling several times slower.
        # Fresh closures per trainer: tf.function counts traces per Python function and
        # warns about "retracing" when many trainers (tests, benchmarks) trace the same one.
        self._epoch = tf.function(
            lambda x, targets, points, order, mask: self._epoch_graph(
                x, targets, points, order, mask
            ),
            jit_compile=jit_compile,
            autograph=False,
        )

    # -- graph code -----------------------------------------------------------------------
    def _unflatten(self, flat: Any, reshape: Callable[[Any, list[int]], Any]) -> list[Any]:
        """Split weights flattened into ``(slots, size)`` into ``(slots, *variable.shape)``.

        ``reshape`` is ``tf.reshape`` in the graph and ``np.reshape`` on the host (where eager
        TensorFlow slicing costs more than an epoch of training).
        """
        out, at = [], 0
        for v in self.variables:
            size = int(np.prod(v.shape))
            out.append(reshape(flat[:, at : at + size], [-1, *v.shape]))
            at += size
        return out

    def _hidden_graph(self, points: tf.Tensor, weights: list[tf.Tensor]) -> list[tf.Tensor]:
        """Hidden outputs of ``points`` ``(m, 2)`` for stacked weights ``(slots, ...)``.

        The Dense formula ``act(h @ kernel + bias)`` batched over snapshots, with each
        layer's own Keras activation.
        """
        h = tf.broadcast_to(points[None], [weights[0].shape[0], *points.shape])
        return dense_hidden_graph(self.layers, h, weights)

    def _epoch_graph(
        self, x: tf.Tensor, targets: tf.Tensor, points: tf.Tensor, order: tf.Tensor,
        mask: tf.Tensor,
    ) -> tuple[tf.Tensor, ...]:
        xe = tf.gather(x, order)
        ye = tf.gather(targets, order)
        bs, slots = self.batch_size, self.slots
        size = sum(int(np.prod(v.shape)) for v in self.variables)
        # All weights flattened into one row per snapshot, so a snapshot is one scatter.
        buf = tf.zeros([slots, size], dtype=tf.float32)

        def train_step(i, xb, yb, count, ok, failed, loss_sum, buf):
            # As keras' TensorFlow train_step: forward with training=True, the compiled
            # loss (mean over the batch), tape gradients, optimizer.apply_gradients.
            with tf.GradientTape() as tape:
                pred = self.model(xb, training=True)
                loss = self.loss_fn(yb, pred)
            grads = tape.gradient(loss, self.variables)
            self.optimizer.apply_gradients(zip(grads, self.variables))
            finite = tf.math.is_finite(loss)
            failed = tf.where(ok & ~finite, i, failed)
            ok = ok & finite
            take = ok & mask[i]
            buf = tf.cond(
                take,
                lambda: tf.tensor_scatter_nd_update(
                    buf,
                    count[None, None],
                    tf.concat([tf.reshape(v, [-1]) for v in self.variables], axis=0)[None],
                ),
                lambda: buf,
            )
            count = count + tf.cast(take, tf.int32)
            # Weighted by the batch's points, as fit's loss tracker does: the tail counts less.
            return i + 1, count, ok, failed, loss_sum + loss * xb.shape[0], buf

        def body(i, count, ok, failed, loss_sum, buf):
            xb = tf.slice(xe, [i * bs, 0], [bs, 2])
            yb = tf.slice(ye, [i * bs, 0], [bs, 1])
            return train_step(i, xb, yb, count, ok, failed, loss_sum, buf)

        state = (
            tf.constant(0), tf.constant(0), tf.constant(True), tf.constant(-1),
            tf.constant(0.0), buf,
        )
        state = tf.while_loop(
            lambda i, count, ok, *_: (i < self.full_steps) & ok, body, state
        )
        if self.tail:
            start = self.full_steps * bs
            i, count, ok, failed, loss_sum, buf = state
            state = tf.cond(
                ok,
                lambda: train_step(i, xe[start:], ye[start:], count, ok, failed, loss_sum, buf),
                lambda: state,
            )
        i, count, ok, failed, loss_sum, buf = state
        hidden = self._hidden_graph(points, self._unflatten(buf, tf.reshape))
        return (count, i, failed, loss_sum, buf, *hidden)

    # -- host side ------------------------------------------------------------------------
    def current(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The model's weights now and the hidden outputs of the points for them."""
        weights = [np.asarray(v.numpy())[None] for v in self.variables]
        # Eagerly: it runs once, and compiling it would cost more than running it.
        hidden = self._hidden_graph(self.points, [tf.constant(w) for w in weights])
        return [w[0] for w in weights], [np.asarray(h)[0] for h in hidden]

    def run_epoch(self, order: np.ndarray, mask: np.ndarray) -> EpochResult:
        """Run one epoch visiting ``x[order]``; snapshot after the steps where ``mask``."""
        if mask.shape != (self.steps_per_epoch,):
            raise ValueError(
                f"snapshot mask has shape {mask.shape}; expected ({self.steps_per_epoch},)"
            )
        # Every earlier epoch ran all its steps (training stops after a non-finite loss),
        # so the optimizer's iteration count is known without reading it from TensorFlow.
        iterations = self.epochs_run * self.steps_per_epoch
        self.epochs_run += 1
        out = self._epoch(
            self.x, self.targets, self.points,
            tf.constant(order, dtype=tf.int32), tf.constant(mask, dtype=tf.bool),
        )
        count, steps_done, failed = (int(o) for o in out[:3])
        points_done = min(steps_done * self.batch_size, int(self.x.shape[0]))
        # Snapshots are taken at the mask's steps in order, up to the first non-finite loss.
        step_in_epoch = (np.flatnonzero(mask)[:count] + 1).astype(np.int32)
        return EpochResult(
            count=count,
            steps_done=steps_done,
            failed_step=failed,
            loss=float(out[3]) / points_done,
            step=iterations + step_in_epoch.astype(np.int64),
            step_in_epoch=step_in_epoch,
            weights=self._unflatten(np.asarray(out[4]), np.reshape),
            hidden=[np.asarray(h) for h in out[5:]],
        )


def record_with_engine(
    experiment: Experiment,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    plan: RecordingPlan | None = None,
    progress: ProgressFn | None = None,
    jit_compile: bool = JIT_COMPILE,
) -> Trajectory:
    """Train the experiment's network in-graph from its seed and return its trajectory.

    It records with the :class:`~geomcore.recording.RecordingPlan` that
    :func:`geomcore.training.record_experiment` gives the callback too: the same initial
    weights (Keras' global seed set to the plan's seed by
    :func:`~geomcore.models.build_model`), batch order, snapshot schedule, probe set, grid
    and metadata. Loss and accuracy of a snapshot are measured on the whole ``(x, y)`` with
    :class:`~geomcore.geometry.Network` from the snapshot's weights, as the callback does.

    Parameters
    ----------
    experiment
        What to train and record; its loss and optimizer must be supported (see
        :func:`unsupported_reason`).
    x : ndarray of shape (n, 2)
        Training inputs, data units.
    y : ndarray of shape (n,)
        Labels in {0, 1}.
    plan
        Instead of ``x`` and ``y``: ``recording_plan(x, y, experiment=experiment)``.
    progress
        Called after each epoch with ``(epochs_done, epochs_total, loss)``, the loss as
        ``fit`` logs it (:data:`~geomcore.recording.ProgressFn`).
    jit_compile
        Compile the epoch function with XLA (the default); ``False`` for the plain graph.

    Returns
    -------
    Trajectory
        ``metadata["trainer"] == "engine"``. If a batch loss, a weight, a hidden output or a
        snapshot's loss becomes non-finite, training stops, the snapshots before it are kept
        and the trajectory is marked diverged at that epoch (fractional inside an epoch).

    Raises
    ------
    ValueError
        If the engine does not support the experiment's loss or optimizer.
    DatasetError
        If ``x`` and ``y`` are not of shapes (n, 2) and (n,).
    ExperimentError
        If both or neither of ``x, y`` and ``plan`` are given, or the plan does not know its
        steps per epoch (it was not made from an experiment).
    """
    reason = unsupported_reason(experiment)
    if reason is not None:
        raise ValueError(f"{experiment.source}: the engine cannot train {reason}")
    if plan is None:
        if x is None or y is None:
            raise ExperimentError("record_with_engine needs x and y, or a plan; got neither")
        plan = recording_plan(x, y, experiment=experiment)
    elif x is not None or y is not None:
        raise ExperimentError("record_with_engine got a plan and x, y; expected one of them")
    t = experiment.training
    epochs = range(t.epochs)
    masks = [plan.snapshot_steps(e) for e in epochs]
    model = build_model(experiment, seed=plan.seed)
    trainer = _GraphTrainer(
        model,
        make_optimizer(experiment),
        t.loss,
        plan.x,
        plan.y.astype(np.float32)[:, None],
        batch_size=t.batch_size,
        points=plan.points,
        slots=max(int(m.sum()) for m in masks),
        jit_compile=jit_compile,
    )
    steps_per_epoch = int(plan.steps_per_epoch)  # run_epoch checks the graph agrees

    run = RunAssembly(plan, trainer.layers, steps_per_epoch)
    initial_weights, initial_hidden = trainer.current()
    run.add(0.0, 0, initial_weights, initial_hidden)
    # Measuring a snapshot's loss and accuracy on all the data (numpy) overlaps the next
    # epoch (TensorFlow); both release the GIL. If the measured epoch turns out to have
    # diverged, the epoch run meanwhile is dropped.
    with ThreadPoolExecutor(max_workers=1) as pool:
        measuring: Future[bool] | None = None
        ordering = pool.submit(plan.epoch_order, 0)
        for epoch in epochs:
            order = ordering.result()
            # The next epoch's shuffle (about 2 ms for 40,000 points) is drawn meanwhile too.
            ordering = pool.submit(plan.epoch_order, epoch + 1)
            res = trainer.run_epoch(order, masks[epoch])
            if measuring is not None and not measuring.result():
                measuring = None
                break
            measuring = pool.submit(run.add_epoch, epoch, res)
            if progress is not None:
                progress(epoch + 1, t.epochs, res.loss)
            if res.failed_step >= 0:
                break
        if measuring is not None:
            measuring.result()

    return run.trajectory(initial_weights)
