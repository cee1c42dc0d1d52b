"""Benchmark: seconds per epoch of three ways to record the circles-3d run (40,000 points).

Usage (from the repository root)::

    .venv/bin/python bench/train.py [--post-epochs 5] [--copies 8]

(i)   the original blog post: one ``model.fit(epochs=1)`` plus a prediction on the probe set
      per epoch (timed over ``--post-epochs`` epochs);
(ii)  ``model.fit`` with ``steps_per_execution`` = a whole epoch and the recording callback
      (``record_experiment(..., trainer="fit")``, all epochs);
(iii) the in-graph engine (``record_experiment(..., trainer="engine")``, all epochs, tracing
      and XLA compilation included).

Targets on the 2-core reference machine: (iii) at least 100x faster than (i) and 10x faster
than (ii), final accuracy within 0.5 percentage points of (ii). Importing TensorFlow and
generating the data are not timed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from geomcore.datasets import epoch_order, make_dataset
from geomcore.experiment import find_experiment
from geomcore.models import build_model, import_keras, make_optimizer
from geomcore.recording import probe_subset
from geomcore.training import record_experiment


def blog_post_seconds_per_epoch(experiment, x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """(i): ``fit(epochs=1)`` and ``predict`` on the probe set, once per epoch."""
    keras = import_keras()
    keras.utils.set_random_seed(experiment.seed)
    model = build_model(experiment)
    model.compile(optimizer=make_optimizer(experiment), loss=experiment.training.loss)
    probe = x[probe_subset(y, experiment.recording.probe_size, experiment.seed)]
    targets = y.astype(np.float32)[:, None]
    start = time.perf_counter()
    for epoch in range(epochs):
        order = epoch_order(len(x), experiment.seed, epoch)
        model.fit(x[order], targets[order], batch_size=experiment.training.batch_size,
                  epochs=1, shuffle=False, verbose=0)
        model.predict(probe, verbose=0)
    return (time.perf_counter() - start) / epochs


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--post-epochs", type=int, default=5,
                        help="epochs timed for (i), the blog post's loop")
    args = parser.parse_args()

    experiment = find_experiment("circles-3d")
    epochs = experiment.training.epochs
    x, y = make_dataset(experiment.dataset.name, seed=experiment.seed,
                        **experiment.dataset.params)
    x = x.astype(np.float32)
    print(f"circles-3d: {len(x):,} points, batch {experiment.training.batch_size}, "
          f"{epochs} epochs")

    post = blog_post_seconds_per_epoch(experiment, x, y, args.post_epochs)
    print(f"(i)   fit(epochs=1) + predict per epoch  {post:8.4f} s/epoch "
          f"(over {args.post_epochs} epochs)")

    by_fit, fit_s = timed(lambda: record_experiment(experiment, trainer="fit"))
    fit = fit_s / epochs
    print(f"(ii)  fit, steps_per_execution + callback {fit:8.4f} s/epoch "
          f"({fit_s:.1f} s for {epochs} epochs)")

    # XLA's CPU runtime starts once per process (about 0.3 s), as TensorFlow itself does
    # before (i) and (ii) are timed; start it on a trivial function so that (iii) counts its
    # own tracing and compiling, not the runtime's start-up.
    import tensorflow as tf

    tf.function(lambda v: v * 2.0, jit_compile=True)(tf.constant(1.0))
    by_engine, engine_s = timed(lambda: record_experiment(experiment, trainer="engine"))
    eng = engine_s / epochs
    print(f"(iii) engine (its tracing and XLA compile included) {eng:8.4f} s/epoch "
          f"({engine_s:.2f} s for {epochs} epochs)")
    assert by_engine.metadata["trainer"] == "engine" and by_fit.metadata["trainer"] == "keras.fit"

    print(f"ratio (i)/(iii)   {post / eng:7.1f}x   (target >= 100x)")
    print(f"ratio (ii)/(iii)  {fit / eng:7.1f}x   (target >= 10x)")
    acc_fit, acc_eng = float(by_fit.accuracy[-1]), float(by_engine.accuracy[-1])
    print(f"final accuracy (ii) {acc_fit:.4%}  (iii) {acc_eng:.4%}  "
          f"difference {abs(acc_fit - acc_eng) * 100:.3f} points (target <= 0.5)")
    worst = max(
        float(np.max(np.abs(by_fit.arrays[k][-1] - by_engine.arrays[k][-1])))
        for k in (f"kernel.{n}" for n in by_fit.layer_names)
    )
    print(f"largest final kernel difference (ii) vs (iii): {worst:.2e}")


if __name__ == "__main__":
    main()
