"""Benchmark: seconds per epoch of three ways to record the circles-3d run (40,000 points).

Usage (from the repository root)::

    .venv/bin/python bench/train.py [--post-epochs 5] [--copies 8]

(i)   the original blog post: one ``model.fit(epochs=1)`` plus a prediction on the probe set
      per epoch (timed over ``--post-epochs`` epochs);
(ii)  ``model.fit`` with ``steps_per_execution`` = a whole epoch and the recording callback
      (``record_experiment(..., trainer="fit")``, all epochs);
(iii) the in-graph engine (``record_experiment(..., trainer="engine")``, all epochs, tracing
      and XLA compilation included);
(iv)  stretch, not a recording: ``--copies`` K independent copies of the network trained in
      one XLA graph, against one copy trained the same way (all epochs, compile included).

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
from geomcore.recording import recording_plan
from geomcore.training import record_experiment


def blog_post_seconds_per_epoch(experiment, x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """(i): ``fit(epochs=1)`` and ``predict`` on the probe set, once per epoch."""
    plan = recording_plan(x, y, experiment=experiment)
    model = build_model(experiment, seed=plan.seed)
    model.compile(optimizer=make_optimizer(experiment), loss=experiment.training.loss)
    probe = plan.probe_inputs
    targets = y.astype(np.float32)[:, None]
    start = time.perf_counter()
    for epoch in range(epochs):
        order = plan.epoch_order(epoch)
        model.fit(x[order], targets[order], batch_size=experiment.training.batch_size,
                  epochs=1, shuffle=False, verbose=0)
        model.predict(probe, verbose=0)
    return (time.perf_counter() - start) / epochs


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def k_copies_seconds(experiment, x: np.ndarray, y: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Stretch: ``k`` independent copies of the network (seeds 0..k-1) trained in one graph.

    Each copy's Dense stack is a batch of kernels ``(k, inputs, units)`` (tanh hidden
    layers, sigmoid output, whatever the experiment's activation); one XLA-compiled
    ``tf.function`` per epoch runs every full batch of the epoch (1,250 steps for 40,000
    points) for every copy at once, with a Keras SGD optimizer without momentum and the
    Keras MSE loss (summed over copies, so each copy gets its own gradient). Copies see the
    same batches. Returns seconds for all epochs (compile included) and each copy's final
    accuracy, shape (k,).
    """
    import tensorflow as tf

    keras = import_keras()
    t = experiment.training
    widths = [2, *experiment.model.hidden_widths, 1]
    variables = []
    for i, (fan_in, units) in enumerate(zip(widths[:-1], widths[1:])):
        limit = np.sqrt(6.0 / (fan_in + units))  # Glorot uniform, as Keras' default
        rng = np.random.default_rng([experiment.seed, i])
        variables.append(tf.Variable(rng.uniform(-limit, limit, (k, fan_in, units)),
                                     dtype=tf.float32))
        variables.append(tf.Variable(np.zeros((k, 1, units)), dtype=tf.float32))
    optimizer = keras.optimizers.SGD(learning_rate=t.learning_rate)
    optimizer.build(variables)
    mse = keras.losses.MeanSquaredError()

    def forward(xb):
        h = tf.broadcast_to(xb[None], [k, *xb.shape])
        for i in range(0, len(variables), 2):
            z = tf.matmul(h, variables[i]) + variables[i + 1]
            h = tf.sigmoid(z) if i == len(variables) - 2 else tf.tanh(z)
        return h

    steps = len(x) // t.batch_size
    xs, ys = tf.constant(x), tf.constant(y.astype(np.float32)[:, None])

    @tf.function(jit_compile=True)
    def epoch(order):
        xe, ye = tf.gather(xs, order), tf.gather(ys, order)

        def body(i):
            xb = tf.slice(xe, [i * t.batch_size, 0], [t.batch_size, 2])
            yb = tf.slice(ye, [i * t.batch_size, 0], [t.batch_size, 1])
            with tf.GradientTape() as tape:
                pred = forward(xb)
                loss = tf.add_n([mse(yb, pred[c]) for c in range(k)])
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return (i + 1,)

        return tf.while_loop(lambda i: i < steps, body, (tf.constant(0),))

    start = time.perf_counter()
    for e in range(t.epochs):
        epoch(tf.constant(epoch_order(len(x), experiment.seed, e), dtype=tf.int32))
    seconds = time.perf_counter() - start
    probs = forward(xs).numpy()[..., 0]
    return seconds, np.mean((probs > 0.5) == (y[None] == 1), axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--post-epochs", type=int, default=5,
                        help="epochs timed for (i), the blog post's loop")
    parser.add_argument("--copies", type=int, default=8,
                        help="networks trained at once in (iv), timed against one")
    args = parser.parse_args()
    if args.copies < 1 or args.post_epochs < 1:
        parser.error(f"--copies and --post-epochs must be at least 1. Received: "
                     f"--copies {args.copies}, --post-epochs {args.post_epochs}")

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

    # Stretch: K independent copies in one graph (different initial weights, same batches).
    k = args.copies
    one, _ = k_copies_seconds(experiment, x, y, 1)
    many, acc = k_copies_seconds(experiment, x, y, k)
    print(f"(iv)  K copies in one graph, {epochs} epochs: K=1 {one:.2f} s, K={k} {many:.2f} s "
          f"({many / one:.2f}x the cost for {k}x the networks)")
    print(f"      final accuracy of the {k} copies: " + " ".join(f"{a:.3f}" for a in acc))


if __name__ == "__main__":
    main()
