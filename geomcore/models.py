"""Keras models built from an experiment: Functional API, every layer named.

Keras (and so TensorFlow) is imported inside the functions, never when this module is
imported, so the replay side of geomcore stays numpy-only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from geomcore.errors import ExperimentError
from geomcore.experiment import OPTIMIZERS, Experiment

if TYPE_CHECKING:
    import keras

__all__ = ["OUTPUT_LAYER", "build_model", "hidden_layer_names", "import_keras", "make_optimizer"]

#: Name of the output layer: one sigmoid unit, or a softmax of K units (K classes).
OUTPUT_LAYER = "output"


def import_keras() -> Any:
    """Import Keras on the TensorFlow backend, with TensorFlow's start-up chatter silenced."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def hidden_layer_names(widths: tuple[int, ...] | list[int]) -> list[str]:
    """``["hidden_1", ..., "hidden_n"]`` for ``n`` hidden layers."""
    return [f"hidden_{i + 1}" for i in range(len(widths))]


def build_model(experiment: Experiment, *, seed: int | None = None) -> keras.Model:
    """The experiment's network: ``Input(2) -> Dense(w, act)... -> Dense(1, sigmoid)``, or
    ``... -> Dense(K, softmax)`` with K = ``experiment.classes`` when the loss is
    ``sparse_categorical_crossentropy`` (:attr:`~geomcore.experiment.Experiment.softmax_output`).

    Layers are named ``hidden_1 ... hidden_n`` and ``output``. Weights are initialised by
    Keras' defaults (Glorot uniform kernels, zero biases) from Keras' global seed.

    Parameters
    ----------
    experiment
        Widths and activation of the hidden layers.
    seed
        If given, Keras' global seed (``keras.utils.set_random_seed``) is set to it first;
        both trainers pass the recording plan's seed (the experiment's), so they start from
        the same weights.
    """
    # The widths need no check here: an Experiment is validated on construction (the viewed
    # layer is 2 or 3 units wide).
    widths = experiment.model.hidden_widths
    keras = import_keras()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    act = experiment.model.activation
    if act == "abs":
        act = keras.ops.abs
    inputs = keras.Input(shape=(2,), name="input")
    h = inputs
    for name, w in zip(hidden_layer_names(widths), widths):
        h = keras.layers.Dense(w, activation=act, name=name)(h)
    if experiment.softmax_output:
        out = keras.layers.Dense(experiment.classes, activation="softmax", name=OUTPUT_LAYER)(h)
    else:
        out = keras.layers.Dense(1, activation="sigmoid", name=OUTPUT_LAYER)(h)
    return keras.Model(inputs, out, name=experiment.name)


def make_optimizer(experiment: Experiment) -> keras.optimizers.Optimizer:
    """The experiment's Keras optimizer: one per name in :data:`~geomcore.experiment.OPTIMIZERS`.

    SGD with ``training.momentum``, or Adam; both with ``training.learning_rate`` per step.

    Raises
    ------
    ExperimentError
        If ``training.optimizer`` is not one of those names (only for an experiment built
        around validation, e.g. with ``object.__setattr__``).
    """
    keras = import_keras()
    t = experiment.training
    if t.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=t.learning_rate, momentum=t.momentum)
    if t.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate=t.learning_rate)
    raise ExperimentError(f"{experiment.source}: training.optimizer = {t.optimizer!r} is invalid; "
                          f"expected one of {list(OPTIMIZERS)}")
