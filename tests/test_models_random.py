"""geomcore.models.build_model: the same initial weights in any thread, whatever other threads
draw from Python's global ``random`` meanwhile (a Dask worker's threads do)."""

from __future__ import annotations

import random
import threading

import numpy as np
from helpers import TINY, merge

from geomcore.experiment import Experiment


def test_a_model_built_beside_threads_drawing_from_random_gets_the_lone_weights():
    from geomcore.models import build_model

    experiment = Experiment.from_dict(merge(TINY, {"model": {"hidden_widths": [8, 8, 2]}}))
    lone = build_model(experiment, seed=5).get_weights()
    stop = threading.Event()

    def draw() -> None:
        # As a Dask worker's threads do, between Keras' reseeding and its draws.
        while not stop.is_set():
            random.random()

    drawers = [threading.Thread(target=draw, daemon=True) for _ in range(1)]
    for t in drawers:
        t.start()
    try:
        built = [build_model(experiment, seed=5).get_weights() for _ in range(2)]
    finally:
        stop.set()
        for t in drawers:
            t.join()
    for weights in built:
        assert len(weights) == len(lone) == 8
        for a, b in zip(lone, weights):
            assert np.array_equal(a, b)
    # Another seed, other weights: the comparison has teeth.
    other = build_model(experiment, seed=6).get_weights()
    assert not np.array_equal(lone[0], other[0])


def test_python_random_ends_where_it_ends_without_the_private_stream(monkeypatch):
    import contextlib

    import geomcore.models as models

    experiment = Experiment.from_dict(TINY)
    weights = models.build_model(experiment, seed=7).get_weights()
    after = [random.random() for _ in range(3)]
    # Keras reseeding and drawing from the shared stream itself, as before the private one.
    monkeypatch.setattr(models, "_keras_python_random", contextlib.nullcontext)
    shared = models.build_model(experiment, seed=7).get_weights()
    assert [random.random() for _ in range(3)] == after
    for a, b in zip(weights, shared):
        assert np.array_equal(a, b)
