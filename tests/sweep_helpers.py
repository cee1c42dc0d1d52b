"""A synthetic seed sweep's summary rows, so that no test of the lecture records 64 runs."""

from __future__ import annotations

from typing import Any


def seed_sweep_rows(separated: dict[int, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Summary rows as :func:`geomcore.sweep.summary_row` writes them, without training.

    Parameters
    ----------
    separated
        ``{first width: (runs at final accuracy 0.999, runs)}``; the other runs of a width
        end at 0.75. Default ``{2: (0, 32), 3: (31, 32)}``.
    """
    rows = []
    for width, (good, runs) in (separated or {2: (0, 32), 3: (31, 32)}).items():
        for seed in range(runs):
            acc = 0.999 if seed < good else 0.75
            rows.append({
                "experiment": f"circles-{width}d", "seed": seed, "widths": f"{width}-2",
                "learning_rate": 0.005, "activation": "tanh", "final_accuracy": acc,
                "final_loss": 0.25 * (1 - acc), "diverged": False, "diverged_at_epoch": None,
                "nesting_lost_at_epoch": None,
                "trajectory": f"/nowhere/circles-{width}d-{seed}.npz",
            })
    return rows


def write_lecture_seed_sweeps(directory) -> list[dict[str, Any]]:
    """Write a synthetic summary of the lecture's seed sweep into the cache ``directory``.

    One summary file per width in :data:`scenes.stage.SWEEP_WIDTHS`, where
    :func:`geomcore.sweep.load_or_run_sweep` looks for it, so a lecture rendered with that
    cache reads the claim's counts and records no sweep. Returns the rows written.
    """
    from geomcore.cache import trajectory_path
    from geomcore.experiment import find_experiment
    from geomcore.sweep import seed_sweep, sweep_runs, write_summary
    from scenes import stage

    written = []
    for width in stage.SWEEP_WIDTHS:
        spec = seed_sweep(find_experiment(f"circles-{width}d"), stage.SWEEP_SEEDS)
        good = 0 if width == 2 else stage.SWEEP_SEEDS - 1
        rows = seed_sweep_rows({width: (good, stage.SWEEP_SEEDS)})
        for row, run in zip(rows, sweep_runs(spec)):
            row["trajectory"] = str(trajectory_path(run, directory))
        write_summary(spec.name, rows, directory)
        written += rows
    return written
