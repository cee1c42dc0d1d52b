"""Train an experiment's network with Keras and record its trajectory.

Two trainers give the same trajectory: the in-graph engine (:mod:`geomcore.engine`, the
default, one compiled call per epoch) and ``model.fit`` with the recording callback
(:class:`~geomcore.recording.TrajectoryRecorder`), which also serves experiments the engine
does not support. Both record with one :class:`~geomcore.recording.RecordingPlan`.

Imports Keras (and TensorFlow) when imported; the replay side never imports this module.
"""

from __future__ import annotations

import logging

import numpy as np

from geomcore.datasets import make_dataset
from geomcore.experiment import TRAINERS, Experiment
from geomcore.models import build_model, import_keras, make_optimizer
from geomcore.recording import ProgressFn, TrajectoryRecorder, recording_plan
from geomcore.trajectory import Trajectory

keras = import_keras()

__all__ = ["TRAINERS", "ProgressCallback", "record_experiment"]


log = logging.getLogger("geomcore")


class ProgressCallback(keras.callbacks.Callback):
    """Forward the epoch count and loss to a :data:`~geomcore.recording.ProgressFn`."""

    def __init__(self, report: ProgressFn, total: int) -> None:
        super().__init__()
        self.report, self.total = report, total

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # fit compiles with a loss, so every epoch's logs hold it.
        self.report(epoch + 1, self.total, float(logs["loss"]))


def record_experiment(
    experiment: Experiment,
    *,
    progress: ProgressFn | None = None,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    trainer: str = "engine",
) -> Trajectory:
    """Train the experiment's network from its seed and return the recorded trajectory.

    Both trainers record with the same :func:`~geomcore.recording.recording_plan`: they
    visit the data in the plan's order (:func:`geomcore.datasets.epoch_order` for the
    experiment's seed) and record the same snapshots. ``"engine"`` runs each epoch in one
    compiled ``tf.function`` (:func:`geomcore.engine.record_with_engine`); ``"fit"`` calls
    ``model.fit`` one epoch per call with the recording callback and
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
    DatasetError
        If ``data`` are not inputs of shape (n, 2) and n labels.
    """
    if trainer not in TRAINERS:
        raise ValueError(f"unknown trainer. Received: trainer={trainer!r}; expected one of "
                         f"{list(TRAINERS)}")
    if data is None:
        data = make_dataset(
            experiment.dataset.name, seed=experiment.seed, **experiment.dataset.params
        )
    plan = recording_plan(*data, experiment=experiment)
    if trainer == "engine":
        from geomcore import engine

        reason = engine.unsupported_reason(experiment)
        if reason is None:
            return engine.record_with_engine(experiment, plan=plan, progress=progress)
        log.warning("%s: training with keras fit, not the engine: %s", experiment.name, reason)
    t = experiment.training
    model = build_model(experiment, seed=plan.seed)
    model.compile(
        optimizer=make_optimizer(experiment),
        loss=t.loss,
        steps_per_execution=plan.steps_per_execution(),
    )
    recorder = TrajectoryRecorder(plan=plan, trainer="keras.fit")
    callbacks: list[keras.callbacks.Callback] = [recorder]
    if progress is not None:
        callbacks.append(ProgressCallback(progress, t.epochs))
    targets = plan.y.astype(np.float32)[:, None]
    for epoch in range(t.epochs):
        order = plan.epoch_order(epoch)
        model.fit(
            plan.x[order],
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
