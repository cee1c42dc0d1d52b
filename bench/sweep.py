"""Benchmark: a sweep of seeds as batched programs against the same runs recorded one by one.

Usage (from the repository root)::

    .venv/bin/python bench/sweep.py [--seeds 32] [--alone 2] [--epochs 100] [--workers 0]

For each of circles-2d and circles-3d (the lecture's data, 40,000 points; 100 epochs), the
seeds ``0 .. --seeds - 1`` are recorded

(a) one by one with the in-graph engine (:func:`geomcore.training.record_experiment`), as
    ``geomcore train`` records one run: to keep the benchmark short only the first
    ``--alone`` seeds of each experiment are timed and the mean time per run is scaled to
    all the seeds (the output says so); a run's cost does not depend on its seed;
(b) as a sweep (:func:`geomcore.sweep.run_sweep`): groups of at most 32 copies (one per
    experiment here), each group one batched XLA program, in this process (``--workers 0``;
    up to one group per core at once, on threads) or on a Dask LocalCluster of ``--workers``
    processes. Everything a sweep
    does per run is timed: data, models, compiling, training, each snapshot's loss and
    accuracy, writing the trajectory files.

Both write into a temporary cache folder (never the repository's). The nesting measurement
of the sweep's summary is left out of (b) (it reads the files afterwards; ``geomcore sweep``
does it). Ratios are measured in the same run. Target on the 2-core reference machine: (b)
at least 8x faster than (a) for the 64 runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import numpy as np

from geomcore.experiment import find_experiment
from geomcore.sweep import SweepSpec, run_sweep, sweep_runs
from geomcore.training import record_experiment

EXPERIMENTS = ("circles-2d", "circles-3d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=32, help="seeds per experiment")
    parser.add_argument("--alone", type=int, default=2,
                        help="seeds per experiment recorded one by one, scaled to --seeds")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: the experiments', 100)")
    parser.add_argument("--workers", type=int, default=0,
                        help="Dask LocalCluster workers for the sweep (0: in this process)")
    args = parser.parse_args()
    if args.seeds < 1 or not 1 <= args.alone <= args.seeds or args.workers < 0:
        parser.error(f"expected --seeds >= 1, 1 <= --alone <= --seeds, --workers >= 0. "
                     f"Received: --seeds {args.seeds} --alone {args.alone} "
                     f"--workers {args.workers}")

    # XLA's CPU runtime starts once per process; start it before anything is timed.
    import tensorflow as tf

    tf.function(lambda v: v * 2.0, jit_compile=True)(tf.constant(1.0))
    specs = [SweepSpec(find_experiment(name), f"bench-{name}", tuple(range(args.seeds)),
                       epochs=args.epochs) for name in EXPERIMENTS]
    total = args.seeds * len(specs)
    epochs = sweep_runs(specs[0])[0].training.epochs
    print(f"{total} runs: {args.seeds} seeds of {' and '.join(EXPERIMENTS)}, {epochs} epochs, "
          f"40,000 points; {os.cpu_count()} cores")

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        alone_per_run = []
        for spec in specs:
            runs = sweep_runs(spec)[: args.alone]
            start = time.perf_counter()
            for run in runs:
                record_experiment(run).save(os.path.join(folder, f"alone-{run.seed}.npz"))
            per_run = (time.perf_counter() - start) / len(runs)
            alone_per_run.append(per_run)
            print(f"(a) one by one, {spec.experiment.name}: {per_run:7.2f} s per run "
                  f"(mean of {len(runs)} timed runs)")
        alone = sum(per_run * args.seeds for per_run in alone_per_run)
        scaled = "" if args.alone == args.seeds else (
            f"  (scaled: {args.alone} of {args.seeds} seeds per experiment timed)")
        print(f"(a) one by one, all {total} runs: {alone:8.1f} s{scaled}")

        where = "in this process" if args.workers == 0 else (
            f"on a LocalCluster of {args.workers} workers (start-up included)")
        start = time.perf_counter()
        accuracies = []
        for spec in specs:
            t0 = time.perf_counter()
            rows, _, _ = run_sweep(spec, directory=folder, in_process=args.workers == 0,
                                   workers=args.workers or None, force=True, nesting=False)
            accuracies.append([r["final_accuracy"] for r in rows])
            print(f"(b) sweep, {spec.experiment.name}: {time.perf_counter() - t0:7.1f} s for "
                  f"{len(rows)} runs {where}")
        swept = time.perf_counter() - start
        print(f"(b) sweep, all {total} runs: {swept:8.1f} s")
        print(f"ratio (a)/(b)  {alone / swept:6.1f}x   (target >= 8x)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"peak memory of this process: {peak:,.0f} MiB (groups of at most "
              f"{specs[0].max_copies} copies)")
        for name, accs in zip(EXPERIMENTS, accuracies):
            accs = np.asarray(accs)
            print(f"{name}: final accuracy >= 0.99 in {int(np.sum(accs >= 0.99))} of "
                  f"{len(accs)} seeds (median {np.median(accs):.4f})")


if __name__ == "__main__":
    main()
