"""Keras models built from an experiment: Functional API, every layer named.

Keras (and so TensorFlow) is imported inside the functions, never when this module is
imported, so the replay side of geomcore stays numpy-only.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from geomcore.errors import ExperimentError
from geomcore.experiment import OPTIMIZERS, Experiment

if TYPE_CHECKING:
    import keras

__all__ = [
    "OUTPUT_LAYER",
    "build_model",
    "hidden_layer_names",
    "import_keras",
    "initial_weights_from",
    "make_optimizer",
]

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


# Re-entrant: a model built from another experiment's initial weights builds that one first.
_KERAS_RANDOM_LOCK = threading.RLock()


@contextlib.contextmanager
def _keras_python_random() -> Iterator[None]:
    """Give Keras' seeding a Python ``random.Random`` of its own while a model is built.

    Keras draws each initializer's seed from Python's global ``random`` stream, which
    ``keras.utils.set_random_seed`` reseeds. In a Dask worker, the worker's own threads draw
    from that stream too, between the reseeding and the draws, so the same seed gave other
    initial weights there than in a lone process (seen: a sweep on a LocalCluster). A private
    instance, started from the shared stream's state, reseeded and drawn by Keras alone
    (``random.seed(s)`` and ``random.Random(s)`` give the same numbers), gives the weights of
    an undisturbed process in any thread; its final state is handed back to the shared
    stream, so a lone process's ``random`` ends where it did without the private instance.
    """
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    with _KERAS_RANDOM_LOCK:
        own = random.Random()
        own.setstate(random.getstate())
        shared = (rng_utils.random, seed_generator.python_random)
        rng_utils.random = seed_generator.python_random = own  # type: ignore[assignment]
        try:
            yield
        finally:
            rng_utils.random, seed_generator.python_random = shared
            random.setstate(own.getstate())


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

    An experiment with ``init_from`` starts from that experiment's initial weights
    (:func:`initial_weights_from`) instead of its own seed's.

    Keras' Python-``random`` draws happen on a private stream under a lock, so a model built
    in any thread (a Dask worker's, beside the worker's own threads drawing from ``random``)
    gets the initial weights it gets in a lone process.

    Raises
    ------
    ExperimentError
        If ``init_from`` names no experiment, loops, or has other layer shapes.
    """
    # The widths need no check here: an Experiment is validated on construction (the viewed
    # layer is 2 or 3 units wide).
    widths = experiment.model.hidden_widths
    keras = import_keras()
    # Built before the seed is set, so Keras' random state afterwards is as without it.
    initial = initial_weights_from(experiment) if experiment.init_from else None
    with _keras_python_random():
        if seed is not None:
            keras.utils.set_random_seed(seed)
        return _functional_model(keras, experiment, widths, initial)


def _functional_model(keras: Any, experiment: Experiment, widths: tuple[int, ...],
                      initial: list[Any] | None) -> keras.Model:
    """The layers of :func:`build_model`, built (their initializers seeded) from Keras' state."""
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
    model = keras.Model(inputs, out, name=experiment.name)
    if initial is not None:
        model.set_weights(initial)
    return model


def initial_weights_from(experiment: Experiment, _seen: tuple[str, ...] = ()) -> list[Any]:
    """The initial weights of the experiment named by ``experiment.init_from``.

    Those are the weights that experiment's own :func:`build_model` starts from (its seed,
    or in turn its ``init_from``), as ``model.get_weights()`` lists them: per layer the
    kernel ``(inputs, units)`` then the bias ``(units,)``. :func:`build_model` calls it
    before it sets its own seed.

    Raises
    ------
    ExperimentError
        If the named experiment cannot be found, the ``init_from`` chain loops, or its
        layer shapes differ from this experiment's.
    """
    from geomcore.experiment import find_experiment

    name = experiment.init_from
    source = find_experiment(name)
    chain = (*_seen, str(experiment.source))
    if str(source.source) in chain:
        raise ExperimentError(f"{experiment.source}: init_from {name!r} loops back "
                              f"({' -> '.join((*chain, str(source.source)))})")
    if source.init_from:
        weights = initial_weights_from(source, chain)
    else:
        weights = build_model(source, seed=source.seed).get_weights()
    widths = (2, *experiment.model.hidden_widths,
              experiment.classes if experiment.softmax_output else 1)
    own = [shape for fan_in, fan_out in zip(widths[:-1], widths[1:])
           for shape in ((fan_in, fan_out), (fan_out,))]
    theirs = [tuple(int(d) for d in w.shape) for w in weights]
    if own != theirs:
        raise ExperimentError(
            f"{experiment.source}: init_from {name!r} has weight shapes {theirs}; expected "
            f"the same shapes as this experiment's {own}"
        )
    return weights


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
