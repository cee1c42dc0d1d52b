"""The numbers on screen, as words, read from a run's metadata (never typed into a chapter).

Each function takes a :class:`~geomcore.trajectory.Trajectory` and reads
``traj.metadata["experiment"]`` (the experiment as recorded), ``traj.metadata["widths"]`` and
``["activations"]``, the probe arrays or the snapshot epochs. Change the experiment file and
every string here follows; ``tests/test_chapters.py`` checks that they do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geomcore.errors import GeomcoreError
from geomcore.trajectory import Trajectory

__all__ = [
    "SEPARATES_ACCURACY",
    "architecture_line",
    "data_facts",
    "epoch_label",
    "epochs_heading",
    "first_width",
    "layer_chain",
    "layer_name",
    "ring_legend",
    "seed_claim",
    "separated_counts",
]

#: How the lecture names the optimizers and losses of :mod:`geomcore.experiment`.
OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam"}
LOSS_NAMES = {"mse": "MSE", "binary_crossentropy": "cross-entropy"}


def _experiment(traj: Trajectory) -> dict[str, Any]:
    return traj.metadata["experiment"]


def first_width(traj: Trajectory) -> int:
    """Units in the first hidden layer."""
    return int(traj.widths[0])


def layer_name(traj: Trajectory, layer: int) -> str:
    """``"layer 2 (2 units)"``: hidden layer ``layer`` (1-based) and its width.

    Raises
    ------
    GeomcoreError
        If the network has no hidden layer ``layer``.
    """
    hidden = traj.widths[:-1]
    if not 1 <= layer <= len(hidden):
        raise GeomcoreError(f"layer {layer} does not exist; expected 1 to {len(hidden)} "
                            f"(hidden widths {hidden})")
    return f"layer {layer} ({hidden[layer - 1]} units)"


def layer_chain(traj: Trajectory) -> str:
    """``"2 → 3 → 2"``: input dimension, then each hidden layer's width."""
    return " → ".join(str(w) for w in (traj.probe_inputs.shape[1], *traj.widths[:-1]))


def architecture_line(traj: Trajectory) -> str:
    """``"Dense(3, tanh) → Dense(2, tanh) → Dense(1, sigmoid)   ·   SGD, learning rate 0.005,
    MSE, batch 32"``, from the recorded widths, activations and training settings."""
    training = _experiment(traj)["training"]
    layers = " → ".join(f"Dense({w}, {a})"
                        for w, a in zip(traj.widths, traj.metadata["activations"]))
    optimizer = OPTIMIZER_NAMES.get(training["optimizer"], training["optimizer"])
    if float(training.get("momentum", 0.0)):
        optimizer += f" (momentum {training['momentum']:g})"
    loss = LOSS_NAMES.get(training["loss"], training["loss"])
    return (f"{layers}   ·   {optimizer}, learning rate {training['learning_rate']:g}, "
            f"{loss}, batch {training['batch_size']}")


def _rings(traj: Trajectory) -> dict[str, Any]:
    dataset = _experiment(traj)["dataset"]
    if dataset["name"] != "concentric_circles":
        raise GeomcoreError(f"dataset {dataset['name']!r} has no rings; expected "
                            "'concentric_circles'")
    return dataset["params"]


def ring_legend(traj: Trajectory) -> dict[int, str]:
    """Legend entries by class: ``{1: "class 1: outer ring, radius 1", 0: ...}``.

    Raises
    ------
    GeomcoreError
        If the run's dataset is not ``concentric_circles``.
    """
    params = _rings(traj)
    return {1: f"class 1: outer ring, radius {params['outer_radius']:g}",
            0: f"class 0: inner ring, radius {params['inner_radius']:g}"}


def data_facts(traj: Trajectory) -> str:
    """``"20,000 points per class\\n(2,000 drawn here)\\nGaussian noise σ = 0.005"``.

    Points per class from the dataset parameters, points drawn from the probe (the points
    the views show), noise σ in data units.

    Raises
    ------
    GeomcoreError
        If the run's dataset is not ``concentric_circles``.
    """
    params = _rings(traj)
    return (f"{params['n_per_class']:,} points per class\n"
            f"({len(traj.probe_inputs):,} drawn here)\n"
            f"Gaussian noise σ = {params['noise']:g}")


def epoch_label(traj: Trajectory, snapshot: int) -> str:
    """``"epoch 100"``: the epoch of snapshot index ``snapshot`` (negative from the end)."""
    return f"epoch {traj.epochs[snapshot]:g}"


def epochs_heading(trajectories: Sequence[Trajectory]) -> str:
    """``"After 100 epochs"``: the last recorded epoch, shared by the runs compared.

    Raises
    ------
    GeomcoreError
        If the runs end at different epochs (the comparison would not be fair).
    """
    last = sorted({float(t.epochs[-1]) for t in trajectories})
    if len(last) != 1:
        raise GeomcoreError(f"the runs compared end at epochs {last}; expected one epoch")
    return f"After {last[0]:g} epochs"


#: A run separates the rings if its final accuracy on its own data (40,000 points of the
#: lecture's rings, its seed's draw) is at least this and it did not diverge.
SEPARATES_ACCURACY = 0.99


def separated_counts(rows: Sequence[Mapping[str, Any]]) -> dict[int, tuple[int, int]]:
    """``{first width: (runs that separate the rings, runs)}`` from sweep summary rows.

    Rows as :func:`geomcore.sweep.summary_row` writes them (``widths`` ``"2-2"``,
    ``final_accuracy``, ``diverged``); a run separates the rings by
    :data:`SEPARATES_ACCURACY`. Widths in increasing order.

    Raises
    ------
    GeomcoreError
        If there are no rows.
    """
    if not rows:
        raise GeomcoreError("no sweep runs to count; expected the rows of a seed sweep")
    counts: dict[int, list[int]] = {}
    for row in rows:
        width = int(str(row["widths"]).split("-")[0])
        good = not row["diverged"] and float(row["final_accuracy"]) >= SEPARATES_ACCURACY
        tally = counts.setdefault(width, [0, 0])
        tally[0] += int(good)
        tally[1] += 1
    return {w: (c[0], c[1]) for w, c in sorted(counts.items())}


def seed_claim(rows: Sequence[Mapping[str, Any]]) -> str:
    """``"Seeds that separate the rings (final accuracy ≥ 99 %): width 2: 0 of 32; width 3:
    31 of 32"``, counted from a seed sweep's summary rows (:func:`separated_counts`).

    Raises
    ------
    GeomcoreError
        If there are no rows.
    """
    counts = separated_counts(rows)
    parts = "; ".join(f"width {w}: {good} of {n}" for w, (good, n) in counts.items())
    return (f"Seeds that separate the rings (final accuracy ≥ {100 * SEPARATES_ACCURACY:g} %): "
            f"{parts}")
