"""Train an experiment's network with Keras and record its trajectory.

Two trainers give the same trajectory: the in-graph engine (:mod:`geomcore.engine`, the
default, one compiled call per epoch) and ``model.fit`` with the recording callback
(:class:`~geomcore.recording.TrajectoryRecorder`), which also serves experiments the engine
does not support.

Imports Keras (and TensorFlow) when imported; the replay side never imports this module.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

from geomcore.datasets import epoch_order, make_dataset
from geomcore.experiment import Experiment
from geomcore.models import build_model, import_keras, make_optimizer
from geomcore.recording import TrajectoryRecorder
from geomcore.trajectory import Trajectory

keras = import_keras()

__all__ = ["TRAINERS", "ProgressCallback", "record_experiment"]

#: Names accepted by ``record_experiment(trainer=...)``.
TRAINERS = ("engine", "fit")

log = logging.getLogger("geomcore")

#: Called after each epoch with (epochs done, epochs in all, latest loss).
ProgressFn = Callable[[int, int, float], None]


class ProgressCallback(keras.callbacks.Callback):
    """Forward the epoch count and loss to a plain function (for a progress bar)."""

    def __init__(self, report: ProgressFn, total: int) -> None:
        super().__init__()
        self.report, self.total = report, total

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.report(epoch + 1, self.total, float((logs or {}).get("loss", float("nan"))))


def record_experiment(
    experiment: Experiment,
    *,
    progress: ProgressFn | None = None,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    trainer: str = "engine",
) -> Trajectory:
    """Train the experiment's network from its seed and return the recorded trajectory.

    Both trainers visit the data in the order :func:`geomcore.datasets.epoch_order` gives
    for the experiment's seed and record the same snapshots. ``"engine"`` runs each epoch
    in one compiled ``tf.function`` (:func:`geomcore.engine.record_with_engine`);
    ``"fit"`` calls ``model.fit`` one epoch per call with the recording callback and
    ``steps_per_execution`` as large as the snapshot schedule allows. An experiment the
    engine does not support is trained with ``"fit"``, and a log line on the ``geomcore``
    logger says so.

    Parameters
    ----------
    experiment
        What to train and record.
    progress
        Called after each epoch with ``(epochs_done, epochs_total, loss)``.
    data
        Inputs ``(n, 2)`` and labels ``(n,)`` to train on instead of the experiment's dataset.
    trainer
        ``"engine"`` (default) or ``"fit"``.

    Returns
    -------
    Trajectory
        Marked diverged (and shorter) if the loss or a weight became non-finite. Its
        ``metadata["trainer"]`` is ``"engine"`` or ``"keras.fit"``.

    Raises
    ------
    ValueError
        If ``trainer`` is not one of :data:`TRAINERS`.
    """
    if trainer not in TRAINERS:
        raise ValueError(f"unknown trainer. Received: trainer={trainer!r}; expected one of "
                         f"{list(TRAINERS)}")
    if data is None:
        x, y = make_dataset(
            experiment.dataset.name, seed=experiment.seed, **experiment.dataset.params
        )
    else:
        x, y = data
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if trainer == "engine":
        from geomcore import engine

        reason = engine.unsupported_reason(experiment)
        if reason is None:
            return engine.record_with_engine(experiment, x, y, progress=progress)
        log.warning("%s: training with keras fit, not the engine: %s", experiment.name, reason)
    keras.utils.set_random_seed(experiment.seed)
    t, r, g = experiment.training, experiment.recording, experiment.grid
    steps_per_epoch = -(-len(x) // t.batch_size)
    # Every fit call is one epoch and starts its executions afresh, so steps that are
    # multiples of k are reachable in every epoch only if the execution size divides both.
    execution = (
        math.gcd(r.snapshot_every_steps, steps_per_epoch)
        if r.snapshot_every_steps > 0
        else steps_per_epoch
    )
    model = build_model(experiment)
    model.compile(
        optimizer=make_optimizer(experiment),
        loss=t.loss,
        steps_per_execution=min(execution, steps_per_epoch),
    )
    recorder = TrajectoryRecorder(
        x,
        y,
        loss=t.loss,
        probe_size=r.probe_size,
        grid_lines_per_axis=g.lines,
        grid_samples=g.samples,
        grid_padding=g.padding,
        every_k_steps=r.snapshot_every_steps,
        dense_epochs=r.dense_epochs,
        seed=experiment.seed,
        experiment=experiment.to_dict(),
        trainer="keras.fit",
    )
    callbacks: list[keras.callbacks.Callback] = [recorder]
    if progress is not None:
        callbacks.append(ProgressCallback(progress, t.epochs))
    targets = y.astype(np.float32)[:, None]
    for epoch in range(t.epochs):
        order = epoch_order(len(x), experiment.seed, epoch)
        model.fit(
            x[order],
            targets[order],
            batch_size=t.batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=False,
            verbose=0,
            callbacks=callbacks,
        )
        if recorder.diverged:
            break
    return recorder.trajectory()
