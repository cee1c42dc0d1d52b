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
