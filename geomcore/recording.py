"""Recording a training run: one plan for both trainers, the snapshot rows, the Keras callback.

:func:`recording_plan` computes once what every trainer needs to record a run (the probe
subset, the grid and its bounds, the seed, the snapshot schedule and the steps per epoch)
as a :class:`RecordingPlan`. The Keras callback :class:`TrajectoryRecorder` and the in-graph
engine (:mod:`geomcore.engine`) both record with it, so the two write the same trajectory.

The callback is usable with any ``model.fit`` on a model :data:`SUPPORTED_MODELS` describes
(a stack of Dense layers, Functional or Sequential, from 2 inputs to one sigmoid unit). It
follows the habits of ``keras.callbacks.CSVLogger``: set up in ``on_train_begin`` (where a
model it cannot replay is refused), record in ``on_epoch_end`` (and every k steps in
``on_train_batch_end``), and it can span several ``fit`` calls, keeping its own step and
epoch count.

This module imports Keras (and TensorFlow) when imported; import it only to train.
"""

from __future__ import annotations

import datetime
import logging
import math
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from geomcore.datasets import data_hash, epoch_order
from geomcore.errors import DatasetError, ExperimentError
from geomcore.experiment import Experiment, GridConfig, RecordingConfig, TrainingConfig
from geomcore.geometry import ACTIVATION_FUNCTIONS, Network, grid_lines, padded_bounds
from geomcore.models import import_keras
from geomcore.trajectory import IMAGE_PREFIXES, SCHEMA_VERSION, Trajectory

keras = import_keras()

__all__ = [
    "MAX_IMAGE_SNAPSHOTS",
    "SUPPORTED_MODELS",
    "ProgressFn",
    "RecordingPlan",
    "SnapshotRows",
    "TrajectoryRecorder",
    "activation_name",
    "assemble_trajectory",
    "dense_layers",
    "layer_network",
    "layer_weights",
    "library_versions",
    "probe_subset",
    "recording_plan",
    "replayed_layers",
    "snapshot_record",
]

log = logging.getLogger("geomcore")

#: Called by both trainers after each epoch with (epochs done, epochs in all, the epoch's
#: training loss: the mean over its points of the batch losses, as ``fit`` logs it).
ProgressFn = Callable[[int, int, float], None]

# Keras names ``keras.ops.abs`` "absolute"; the numpy forward pass calls it "abs".
_ACTIVATION_ALIASES = {"absolute": "abs"}


def library_versions() -> dict[str, str]:
    """Versions of Python, numpy, Keras and TensorFlow, for trajectory metadata."""
    import tensorflow as tf

    from geomcore import __version__

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "geomcore": __version__,
    }


def probe_subset(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a seeded probe subset, an equal share of each class (sorted within each).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Labels 0 … K-1 (K = largest label + 1, at least 2).
    size
        Number of probe points; each class gets ``size // K``, the last ``size % K`` classes
        one more (for K = 2: ``size // 2`` and ``size - size // 2``), fewer if a class is
        smaller.
    seed
        Seed of the choice.

    Returns
    -------
    ndarray of shape (size,), int64
        Class-0 indices first, then class 1, and so on.
    """
    rng = np.random.default_rng([seed, 0x70726F6265])  # "probe": independent of other streams
    y = np.asarray(y)
    classes = max(2, int(y.max()) + 1) if y.size else 2
    share, extra = divmod(size, classes)
    parts = []
    for label in range(classes):
        k = share + (1 if label >= classes - extra else 0)
        idx = np.flatnonzero(np.asarray(y) == label)
        parts.append(np.sort(rng.choice(idx, size=min(k, idx.size), replace=False)))
    return np.concatenate(parts).astype(np.int64)


# -- the model's layers -------------------------------------------------------------------

#: What the recorder can replay; every refusal of a model says it.
SUPPORTED_MODELS = (
    "a stack of Dense layers (Functional or Sequential, with or without an Input; Dropout "
    "allowed, the identity at inference) from 2 inputs, with a last hidden layer of 2 or 3 "
    "units, ending in Dense(1, sigmoid) or Dense(K, softmax) with K >= 2 classes; "
    "activations by Keras name or Keras function: "
    + ", ".join(sorted(ACTIVATION_FUNCTIONS))
)


def activation_name(layer: Any) -> str:
    """Name of a Dense layer's activation in :data:`~geomcore.geometry.ACTIVATION_FUNCTIONS`.

    The Keras function's ``__name__`` (``"swish"`` is Keras' ``silu``); ``"?"`` if the
    activation has no name (a callable object); :func:`dense_layers` refuses such a layer.
    """
    name = getattr(layer.activation, "__name__", "?")
    return _ACTIVATION_ALIASES.get(name, name)


def _refuse(layer: Any, what: str) -> ExperimentError:
    name = f"layer {layer.name!r} ({type(layer).__name__})" if layer is not None else "the model"
    return ExperimentError(f"{name} {what}; the recorder replays {SUPPORTED_MODELS}")


def replayed_layers(model: Any) -> list[Any]:
    """The model's layers in call order, its ``InputLayer`` left out, checked for replay.

    Works for Functional and Sequential models alike (it reads ``model.layers`` and the
    weights, never ``model.input`` or ``layer.output``, which a Sequential model built
    without an ``Input`` does not define).

    Parameters
    ----------
    model
        A built Keras model (``fit`` builds it before ``on_train_begin``).

    Returns
    -------
    list of keras.layers.Dense and keras.layers.Dropout
        At least one hidden Dense layer, the last one 2 or 3 units wide, then the output
        ``Dense(1, sigmoid)``.

    Raises
    ------
    ExperimentError
        One line naming the first layer the recorder cannot replay (not Dense or Dropout,
        not built, not chaining from 2 inputs, an activation the numpy forward pass does
        not know, a viewed layer not 2 or 3 wide, an output not ``Dense(1, sigmoid)``) and
        what is supported (:data:`SUPPORTED_MODELS`).
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):  # a Sequential model built without an Input
        inputs = []
    if inputs and (len(inputs) != 1 or tuple(inputs[0].shape)[1:] != (2,)):
        shapes = [tuple(i.shape) for i in inputs]
        raise _refuse(None, f"takes inputs of shape {shapes}, not one input of shape (None, 2)")
    fan_in = 2
    for layer in layers:
        if isinstance(layer, keras.layers.Dropout):
            continue
        if not isinstance(layer, keras.layers.Dense):
            raise _refuse(layer, "is not a Dense layer")
        if not layer.built:
            raise _refuse(layer, "is not built yet (pass the recorder to fit, or call "
                          "model.build((None, 2)) first)")
        if layer.kernel.shape[0] != fan_in:
            raise _refuse(layer, f"has {layer.kernel.shape[0]} inputs, expected {fan_in}")
        fan_in = layer.units
        if activation_name(layer) not in ACTIVATION_FUNCTIONS:
            raise _refuse(layer, f"has activation {activation_name(layer)!r}")
        # softmax mixes a layer's units: the K-class output layer's only.
        if activation_name(layer) == "softmax" and layer is not layers[-1]:
            raise _refuse(layer, "has activation 'softmax' (allowed in the output layer only)")
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) < 2:
        raise _refuse(None, f"has {len(dense)} Dense layer(s), expected a hidden layer and an "
                      "output layer")
    last = layers[-1]
    if last is not dense[-1] or not (
        (last.units == 1 and activation_name(last) == "sigmoid")
        or (last.units >= 2 and activation_name(last) == "softmax")
    ):
        raise _refuse(last, "is not the output layer Dense(1, sigmoid) or Dense(K, softmax)")
    if dense[-2].units not in (2, 3):
        raise _refuse(dense[-2], f"is the viewed layer (the last hidden one) with "
                      f"{dense[-2].units} units, expected 2 or 3")
    return layers


def dense_layers(model: Any) -> list[Any]:
    """The model's Dense layers in order, checked for replay (:func:`replayed_layers`).

    Returns
    -------
    list of keras.layers.Dense
        At least one hidden layer, then the output layer ``Dense(1, sigmoid)``.

    Raises
    ------
    ExperimentError
        If :func:`replayed_layers` refuses the model.
    """
    return [layer for layer in replayed_layers(model) if isinstance(layer, keras.layers.Dense)]


def layer_weights(layer: Any) -> tuple[np.ndarray, np.ndarray]:
    """A Dense layer's ``(kernel, bias)`` as numpy arrays; a zero bias if it has none.

    Returns
    -------
    kernel : ndarray of shape (inputs, units)
    bias : ndarray of shape (units,)
        Zeros (the kernel's dtype) for ``Dense(..., use_bias=False)``: the same layer.
    """
    kernel = np.array(keras.ops.convert_to_numpy(layer.kernel))
    if layer.bias is None:
        return kernel, np.zeros(kernel.shape[1], dtype=kernel.dtype)
    return kernel, np.array(keras.ops.convert_to_numpy(layer.bias))


def layer_network(
    layers: list[Any], kernels: list[np.ndarray], biases: list[np.ndarray]
) -> Network:
    """The numpy :class:`~geomcore.geometry.Network` of Dense ``layers`` with given weights.

    Parameters
    ----------
    layers
        As :func:`dense_layers` returns them: their names and activations are used.
    kernels, biases
        One per layer, shapes ``(inputs, units)`` and ``(units,)``; copied.
    """
    return Network(
        tuple(np.array(k) for k in kernels),
        tuple(np.array(b) for b in biases),
        tuple(activation_name(layer) for layer in layers),
        tuple(layer.name for layer in layers),
    )


# -- one snapshot and the whole trajectory ------------------------------------------------


def snapshot_record(
    epoch: float,
    step: int,
    net: Network,
    hidden: list[np.ndarray],
    *,
    n_probe: int,
    grid_shape: tuple[int, int],
    x: np.ndarray,
    y: np.ndarray,
    loss: str,
    metrics: tuple[float, float] | None = None,
) -> dict[str, np.ndarray] | None:
    """One snapshot's row of a trajectory, or ``None`` if it is not finite (divergence).

    Both trainers write their rows through :meth:`RecordingPlan.snapshot`, which calls this.

    Parameters
    ----------
    epoch, step
        Training epoch (fractional inside an epoch) and optimizer steps taken.
    net
        The weights at the snapshot.
    hidden
        Each hidden layer's outputs for the probe points then the grid, shapes
        ``(n_probe + G * M, units)``, as the model computed them; ignored (may be empty) if
        a weight is not finite.
    n_probe
        Number of probe points at the start of each ``hidden`` array.
    grid_shape
        ``(G, M)``: grid lines and samples per line.
    x, y
        The whole training set, shapes ``(n, 2)`` and ``(n,)``: loss and accuracy are
        measured on it (one forward pass, :meth:`Network.loss_and_accuracy`).
    loss
        ``"mse"``, ``"binary_crossentropy"`` or ``"sparse_categorical_crossentropy"``.
    metrics
        ``(loss, accuracy)`` on ``(x, y)`` already measured elsewhere with the definitions
        of :meth:`Network.loss_and_accuracy` (the batched sweep measures every copy's in its
        XLA program, float64): stored as given instead of measured here. ``None``: measured.
    """
    weights = (*net.kernels, *net.biases)
    # Hidden outputs too: float32 images overflow before float64 weights or loss do.
    if not all(np.all(np.isfinite(w)) for w in weights) or not all(
        np.all(np.isfinite(h)) for h in hidden
    ):
        return None
    loss_value, accuracy = net.loss_and_accuracy(x, y, loss) if metrics is None else metrics
    if not np.isfinite(loss_value):
        return None
    rec: dict[str, np.ndarray] = {
        "epoch": np.float64(epoch),
        "step": np.int64(step),
        "loss": np.float64(loss_value),
        "accuracy": np.float64(accuracy),
        "boundary": _boundary(net),
    }
    for name, k, b in zip(net.layer_names, net.kernels, net.biases):
        rec[f"kernel.{name}"] = k
        rec[f"bias.{name}"] = b
    for name, h in zip(net.layer_names[:-1], hidden):
        rec[f"probe.{name}"] = h[:n_probe]
        rec[f"grid.{name}"] = h[n_probe:].reshape(*grid_shape, -1)
    return rec


#: Most snapshots whose hidden images a recording keeps besides the last (see
#: :class:`SnapshotRows`). The images are nearly all of a file (circles-3d: 208 kB a snapshot
#: against 80 bytes of weights), and a replay recomputes them from the weights; 128 keeps
#: every snapshot's images for runs of up to 127 epochs (the lecture's: 100), and a
#: 2,000-epoch circles-3d run's at every 16th epoch (bench/long.py).
MAX_IMAGE_SNAPSHOTS = 128


class SnapshotRows(list):
    """Snapshot rows (:func:`snapshot_record`) in recording order, holding hidden images at a
    bounded, evenly thinned schedule.

    Every row keeps its weights, metrics and boundary. Row ``i`` keeps its hidden images
    (``probe.*``, ``grid.*``) while ``i`` is a multiple of the stride, and the last row always
    does; the stride starts at 1 and doubles whenever more than ``max_images`` rows would
    keep them, dropping the images of every other kept row. So at most ``max_images + 1``
    rows hold images however many snapshots are taken, evenly spaced from row 0, and memory
    while recording is bounded without knowing the run's length (the callback does not).

    A list of the rows (both trainers use it as one); only :meth:`append` thins. A row is
    the recorder's own dict, so later edits (the callback fixes a row's epoch) are kept.

    Parameters
    ----------
    max_images
        Rows on the stride that may keep their images, at least 1; default
        :data:`MAX_IMAGE_SNAPSHOTS` (read when the rows are made).

    Raises
    ------
    ValueError
        If ``max_images`` is less than 1.
    """

    def __init__(self, max_images: int | None = None) -> None:
        if max_images is None:
            max_images = MAX_IMAGE_SNAPSHOTS
        if max_images < 1:
            raise ValueError(f"max_images must be at least 1. Received: max_images={max_images}")
        super().__init__()
        self.max_images = max_images
        #: Rows ``0, stride, 2 * stride, ...`` (and the last) hold their images.
        self.stride = 1

    def append(self, row: dict[str, np.ndarray]) -> None:
        """Add the next row; drop the images of rows the schedule no longer keeps."""
        n = len(self)  # the new row's index
        if n and (n - 1) % self.stride:
            _drop_images(self[-1])  # it was kept only as the last row
        super().append(row)
        while n // self.stride + 1 > self.max_images:
            self.stride *= 2
            for i in range(self.stride // 2, n, self.stride):
                _drop_images(self[i])

    def with_images(self) -> list[int]:
        """Indices of the rows holding their hidden images."""
        return [i for i, row in enumerate(self) if _has_images(row)]


def _drop_images(row: dict[str, np.ndarray]) -> None:
    for key in [k for k in row if k.startswith(IMAGE_PREFIXES)]:
        del row[key]


def _has_images(row: dict[str, np.ndarray]) -> bool:
    return any(k.startswith(IMAGE_PREFIXES) for k in row)


def _boundary(net: Network) -> np.ndarray:
    """The viewed layer's decision coefficients: ``(w_1..w_k, c)`` of the sigmoid unit,
    shape (k + 1,), or for a softmax of K units its kernel rows then its bias row, shape
    (k + 1, K) (class ``i``'s logit is ``boundary[:k, i] . h + boundary[k, i]``)."""
    if net.widths[-1] == 1:
        return net.boundary_coefficients()
    kernel, bias = net.class_weights()
    return np.vstack([kernel, bias[None, :]])


def assemble_trajectory(
    records: Sequence[dict[str, np.ndarray]],
    *,
    net: Network,
    probe_inputs: np.ndarray,
    probe_labels: np.ndarray,
    grid_inputs: np.ndarray,
    bounds: tuple[float, float, float, float],
    x: np.ndarray,
    y: np.ndarray,
    experiment: dict[str, Any],
    seed: int,
    loss: str,
    steps_per_epoch: int,
    trainer: str,
    diverged_at_epoch: float | None,
    extra_metadata: dict[str, Any] | None = None,
) -> Trajectory:
    """Stack snapshot rows (:func:`snapshot_record`) into a :class:`Trajectory` with metadata.

    ``net`` gives the layer names, activations and widths (any snapshot's network).
    Both trainers call it through :meth:`RecordingPlan.trajectory`. ``extra_metadata``
    (JSON-able) is added to the metadata, e.g. the callback's optimizers and what it dropped.

    Rows may lack their hidden images (:class:`SnapshotRows` thins them): the images of the
    rows holding them are stored, with ``image_snapshots`` listing those rows when some do
    not. The last row's images are always stored: computed from its weights
    (:meth:`~geomcore.geometry.Network.forward`, cast to float32) if it has none.
    """
    hidden = list(net.layer_names[:-1])
    image_keys = [f"{p}{n}" for n in hidden for p in IMAGE_PREFIXES]
    rows = list(records)
    if not all(k in rows[-1] for k in image_keys):
        # The callback left out later rows (an unfinished epoch) and the last kept one's
        # images were thinned away; scenes show the final images.
        last = rows[-1]
        final = Network(
            tuple(last[f"kernel.{n}"] for n in net.layer_names),
            tuple(last[f"bias.{n}"] for n in net.layer_names),
            net.activations, net.layer_names,
        )
        images: dict[str, np.ndarray] = {}
        for n in hidden:
            images[f"probe.{n}"] = final.forward(probe_inputs, upto=n).astype(np.float32)
            images[f"grid.{n}"] = final.forward(grid_inputs.reshape(-1, 2), upto=n).astype(
                np.float32).reshape(*grid_inputs.shape[:2], -1)
        rows[-1] = {**last, **images}
    kept = [i for i, r in enumerate(rows) if all(k in r for k in image_keys)]
    keys = [k for k in rows[-1] if k not in image_keys]
    arrays = {k: np.stack([r[k] for r in rows]) for k in keys}
    for k in image_keys:
        arrays[k] = np.stack([rows[i][k] for i in kept])
    if len(kept) < len(rows):
        arrays["image_snapshots"] = np.asarray(kept, dtype=np.int64)
    arrays["probe_inputs"] = probe_inputs

    arrays["probe_labels"] = probe_labels
    arrays["grid_inputs"] = grid_inputs
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "experiment": experiment,
        "seed": seed,
        "data_hash": data_hash(x, y),
        "class_counts": [int(np.count_nonzero(y == c)) for c in range(net.classes)],
        "versions": library_versions(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "layer_names": list(net.layer_names),
        "activations": list(net.activations),
        "widths": [int(w) for w in net.widths],
        "loss": loss,
        "steps_per_epoch": steps_per_epoch,
        "bounds": list(bounds),
        "trainer": trainer,
        "diverged": diverged_at_epoch is not None,
        "diverged_at_epoch": diverged_at_epoch,
        **(extra_metadata or {}),
    }
    return Trajectory(arrays, metadata)


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RecordingPlan:
    """What both trainers record, computed once by :func:`recording_plan`.

    Attributes
    ----------
    x : ndarray of shape (n, 2), float32
        Training inputs, data units; loss and accuracy of every snapshot are measured on them.
    y : ndarray of shape (n,), int64
        Labels in {0, 1}.
    loss
        ``"mse"`` or ``"binary_crossentropy"``: how the recorded loss is computed.
    seed
        Seed of the probe choice and of the batch order (:meth:`epoch_order`) and, when
        training an experiment, of Keras' initial weights (both trainers pass it to
        :func:`geomcore.models.build_model`); stored in the metadata.
    probe_inputs : ndarray of shape (P, 2), float32
        Probe points followed through the network, half of each class (:func:`probe_subset`).
    probe_labels : ndarray of shape (P,), int64
    bounds
        ``(xmin, xmax, ymin, ymax)``, data units: the data's bounding box, padded.
    grid_inputs : ndarray of shape (G, M, 2), float64
        The grid over ``bounds`` (:func:`~geomcore.geometry.grid_lines`).
    every_k_steps, dense_epochs
        Extra snapshots inside epochs: every k optimizer steps during the first
        ``dense_epochs`` epochs (all epochs if 0); none if k is 0.
    steps_per_epoch
        Optimizer steps in one epoch (``ceil(n / batch_size)``), or ``None`` when a user's own
        ``fit`` decides it (the callback then reads it from Keras, or counts the steps of each
        epoch when the data have no known length).
    experiment
        The experiment's configuration as plain data, stored in the metadata.
    """

    x: np.ndarray
    y: np.ndarray
    loss: str
    seed: int
    probe_inputs: np.ndarray
    probe_labels: np.ndarray
    bounds: tuple[float, float, float, float]
    grid_inputs: np.ndarray
    every_k_steps: int
    dense_epochs: int
    steps_per_epoch: int | None
    experiment: dict[str, Any]

    @property
    def n_probe(self) -> int:
        """Number of probe points, P."""
        return int(self.probe_inputs.shape[0])

    @property
    def grid_shape(self) -> tuple[int, int]:
        """``(G, M)``: grid lines and samples per line."""
        return (int(self.grid_inputs.shape[0]), int(self.grid_inputs.shape[1]))

    @cached_property
    def points(self) -> np.ndarray:
        """Probe points then the flattened grid, shape ``(P + G * M, 2)``, float32.

        Every snapshot holds the hidden outputs of these points.
        """
        return np.concatenate(
            [self.probe_inputs, self.grid_inputs.reshape(-1, 2).astype(np.float32)]
        )

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Order of the points in epoch ``epoch`` (0-based), shape (n,).

        :func:`geomcore.datasets.epoch_order` with the plan's seed: both trainers visit the
        data in this order.
        """
        return epoch_order(self.x.shape[0], self.seed, epoch)

    def in_epoch_snapshot(self, epoch: int, steps_done: int) -> bool:
        """Whether the schedule takes a snapshot after ``steps_done`` optimizer steps in all.

        Parameters
        ----------
        epoch
            0-based epoch the step belongs to.
        steps_done
            Optimizer steps taken since training began (the optimizer's ``iterations``).
        """
        return bool(self._scheduled(epoch, np.asarray(steps_done)))

    def snapshot_steps(self, epoch: int, steps_per_epoch: int | None = None) -> np.ndarray:
        """Which steps of epoch ``epoch`` are followed by a snapshot.

        The epoch's last step and the steps :meth:`in_epoch_snapshot` picks.

        Parameters
        ----------
        epoch
            0-based epoch.
        steps_per_epoch
            Optimizer steps in one epoch; default :attr:`steps_per_epoch`.

        Returns
        -------
        ndarray of shape (steps_per_epoch,), bool
            Entry ``i`` is true if a snapshot follows the epoch's step ``i`` (0-based).

        Raises
        ------
        ExperimentError
            If the steps per epoch are not known.
        """
        spe = self._known_steps_per_epoch(steps_per_epoch)
        mask = self._scheduled(epoch, epoch * spe + np.arange(1, spe + 1))
        mask[-1] = True
        return mask

    def steps_per_execution(self) -> int:
        """Largest ``steps_per_execution`` for one-epoch ``fit`` calls that misses no snapshot.

        Every ``fit`` call starts its executions afresh, so the steps that are multiples of k
        end an execution in every epoch only if the execution size divides both k and the
        steps per epoch.

        Raises
        ------
        ExperimentError
            If the steps per epoch are not known.
        """
        spe = self._known_steps_per_epoch(None)
        return math.gcd(self.every_k_steps, spe) if self.every_k_steps > 0 else spe

    def snapshot(
        self, epoch: float, step: int, net: Network, hidden: list[np.ndarray], *,
        metrics: tuple[float, float] | None = None,
    ) -> dict[str, np.ndarray] | None:
        """One snapshot's row, or ``None`` if it is not finite: :func:`snapshot_record`.

        ``hidden`` holds each hidden layer's outputs for :attr:`points`; ``metrics`` the
        ``(loss, accuracy)`` on :attr:`x`, :attr:`y` if measured already (else measured).
        """
        return snapshot_record(
            epoch, step, net, hidden, n_probe=self.n_probe, grid_shape=self.grid_shape,
            x=self.x, y=self.y, loss=self.loss, metrics=metrics,
        )

    def trajectory(
        self,
        records: Sequence[dict[str, np.ndarray]],
        *,
        net: Network,
        steps_per_epoch: int,
        trainer: str,
        diverged_at_epoch: float | None,
        extra_metadata: dict[str, Any] | None = None,
    ) -> Trajectory:
        """The rows stacked into a :class:`Trajectory`: :func:`assemble_trajectory`."""
        return assemble_trajectory(
            records, net=net, probe_inputs=self.probe_inputs, probe_labels=self.probe_labels,
            grid_inputs=self.grid_inputs, bounds=self.bounds, x=self.x, y=self.y,
            experiment=self.experiment, seed=self.seed, loss=self.loss,
            steps_per_epoch=steps_per_epoch, trainer=trainer,
            diverged_at_epoch=diverged_at_epoch, extra_metadata=extra_metadata,
        )

    def _scheduled(self, epoch: int, steps_done: np.ndarray) -> np.ndarray:
        k = self.every_k_steps
        if k <= 0 or (self.dense_epochs and epoch >= self.dense_epochs):
            return np.zeros(np.shape(steps_done), dtype=bool)
        return np.asarray(steps_done % k == 0)

    def _known_steps_per_epoch(self, steps_per_epoch: int | None) -> int:
        spe = self.steps_per_epoch if steps_per_epoch is None else steps_per_epoch
        if spe is None or spe < 1:
            raise ExperimentError(
                f"steps per epoch unknown or invalid (received {spe!r}); expected a positive "
                "integer: give recording_plan an experiment (its batch size) or pass the steps"
            )
        return int(spe)


def recording_plan(
    x: np.ndarray,
    y: np.ndarray,
    *,
    experiment: Experiment | None = None,
    loss: str | None = None,
    probe_size: int | None = None,
    grid_lines_per_axis: int | None = None,
    grid_samples: int | None = None,
    grid_padding: float | None = None,
    every_k_steps: int | None = None,
    dense_epochs: int | None = None,
    seed: int | None = None,
    experiment_data: dict[str, Any] | None = None,
) -> RecordingPlan:
    """The one :class:`RecordingPlan` for recording a run on ``(x, y)``.

    Either from an experiment (its loss, recording, grid, seed and batch size), or, for a
    user's own model and ``fit``, from the options, each defaulting to the experiment file's
    default (:class:`~geomcore.experiment.RecordingConfig`, ``GridConfig``, ``TrainingConfig``;
    seed 0).

    Parameters
    ----------
    x : ndarray of shape (n, 2)
        Training inputs, data units (stored as float32).
    y : ndarray of shape (n,) or (n, 1)
        Labels in {0, 1} (stored as int64, shape (n,)).
    experiment
        The experiment being trained; excludes every option below.
    loss
        ``"mse"`` or ``"binary_crossentropy"``: how the recorded loss is computed.
    probe_size
        Probe points followed through the network (half of each class), chosen with ``seed``.
    grid_lines_per_axis, grid_samples, grid_padding
        Grid of ``2 * grid_lines_per_axis`` lines of ``grid_samples`` points over the data's
        bounding box padded by ``grid_padding`` times its larger side.
    every_k_steps, dense_epochs
        Extra snapshots inside epochs (see :class:`RecordingPlan`).
    seed
        Seed of the probe choice and the batch order, stored in the metadata.
    experiment_data
        Configuration as plain data to store in the metadata (default: the experiment's
        :meth:`~geomcore.experiment.Experiment.to_dict`, or ``{}``).

    Raises
    ------
    DatasetError
        If ``x`` is not of shape (n, 2) with n > 0 or ``y`` does not have n labels.
    ExperimentError
        If an option is given together with an experiment.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y).astype(np.int64).reshape(-1)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise DatasetError(
            f"expected inputs of shape (n, 2) and labels of shape (n,). Received: "
            f"x.shape={x.shape}, y.shape={y.shape}"
        )
    options = {
        "loss": loss, "probe_size": probe_size, "grid_lines_per_axis": grid_lines_per_axis,
        "grid_samples": grid_samples, "grid_padding": grid_padding,
        "every_k_steps": every_k_steps, "dense_epochs": dense_epochs, "seed": seed,
    }
    steps_per_epoch: int | None = None
    if experiment is not None:
        given = sorted(k for k, v in options.items() if v is not None)
        if given:
            raise ExperimentError(
                f"recording options {given} given with experiment {experiment.name!r}; "
                "expected either an experiment or options"
            )
        t, r, g = experiment.training, experiment.recording, experiment.grid
        options = {
            "loss": t.loss, "probe_size": r.probe_size, "grid_lines_per_axis": g.lines,
            "grid_samples": g.samples, "grid_padding": g.padding,
            "every_k_steps": r.snapshot_every_steps, "dense_epochs": r.dense_epochs,
            "seed": experiment.seed,
        }
        steps_per_epoch = -(-x.shape[0] // t.batch_size)
        if experiment_data is None:
            experiment_data = experiment.to_dict()
    defaults = {
        "loss": TrainingConfig.loss, "probe_size": RecordingConfig.probe_size,
        "grid_lines_per_axis": GridConfig.lines, "grid_samples": GridConfig.samples,
        "grid_padding": GridConfig.padding, "every_k_steps": RecordingConfig.snapshot_every_steps,
        "dense_epochs": RecordingConfig.dense_epochs, "seed": 0,
    }
    o = {k: defaults[k] if v is None else v for k, v in options.items()}
    idx = probe_subset(y, o["probe_size"], o["seed"])
    bounds = padded_bounds(x, o["grid_padding"])
    return RecordingPlan(
        x=x,
        y=y,
        loss=o["loss"],
        seed=o["seed"],
        probe_inputs=x[idx],
        probe_labels=y[idx],
        bounds=bounds,
        grid_inputs=grid_lines(bounds, o["grid_lines_per_axis"], o["grid_samples"]),
        every_k_steps=o["every_k_steps"],
        dense_epochs=o["dense_epochs"],
        steps_per_epoch=steps_per_epoch,
        experiment=dict(experiment_data or {}),
    )


# -- the Keras callback -------------------------------------------------------------------


class TrajectoryRecorder(keras.callbacks.Callback):
    """Record snapshots of a model while it trains.

    A snapshot holds every Dense layer's kernel and bias (zeros for a layer built with
    ``use_bias=False``), loss and accuracy on ``(x, y)`` at the snapshot's weights, the
    output unit's boundary coefficients, and the outputs of every hidden layer for the probe
    points and the grid (computed by the model's own layers, called in order). Snapshots are
    taken before the first update (epoch 0), at every epoch end and, if
    ``every_k_steps > 0``, every k optimizer steps during the first ``dense_epochs`` epochs
    (all epochs if 0).

    The model may be any one :data:`SUPPORTED_MODELS` describes; any other is refused in
    ``on_train_begin``, before the first step, with one error naming the layer.

    The recorder keeps its own count of optimizer steps and epochs, monotone over every
    ``fit`` call it is passed to: compiling again between calls (which resets the
    optimizer's ``iterations``), ``initial_epoch``, another batch size or data of unknown
    length (a ``tf.data`` pipeline with ``filter``; ``fit`` then knows no steps per epoch)
    all give epochs ``0, 1, 2, ...`` and steps that add up. Inside an epoch of unknown
    length a snapshot's fractional epoch is fixed when the epoch ends and its length is
    known. With ``steps_per_execution`` larger than 1, Keras calls back once per execution;
    scheduled snapshots inside an execution cannot be taken: the ``geomcore`` logger says
    which, once per ``fit`` call, with the steps kept, and the metadata lists them
    (``"skipped_snapshot_steps"``).

    Training stops at the first non-finite loss, weight or hidden output (at the end of the
    epoch if its length is unknown, so that the fractional epoch of the divergence is
    right); the snapshots before it are kept and the trajectory is marked diverged.

    Give either ``x`` and ``y`` with options (a user's own model and ``fit``), or a
    ``plan`` from :func:`recording_plan` (what :func:`geomcore.training.record_experiment`
    does). Options left out take the experiment file's defaults: loss ``"mse"``, 2,000 probe
    points, 21 grid lines per axis of 200 samples, padding 0.1, no in-epoch snapshots,
    seed 0.

    Parameters
    ----------
    x : ndarray of shape (n, 2)
        Training inputs, data units; loss and accuracy are measured on them.
    y : ndarray of shape (n,)
        Labels in {0, 1}.
    plan
        The recording plan; excludes ``x``, ``y`` and the options.
    loss
        ``"mse"`` or ``"binary_crossentropy"``: how the recorded loss is computed.
    probe_size
        Probe points followed through the network (half of each class), chosen with ``seed``.
    grid_lines_per_axis, grid_samples, grid_padding
        Grid of ``2 * grid_lines_per_axis`` lines of ``grid_samples`` points over the data's
        bounding box padded by ``grid_padding`` times its larger side.
    every_k_steps, dense_epochs
        Extra snapshots inside epochs, see above.
    seed
        Seed of the probe choice, stored in the metadata.
    experiment
        The experiment's configuration as plain data, stored in the metadata.
    trainer
        Name of what drove the training, stored in the metadata.

    Raises
    ------
    ExperimentError
        On construction, if both a plan and data or options are given, or neither; in
        ``on_train_begin``, if the model is not one :func:`replayed_layers` accepts, its
        layers applied in order do not compute what the model computes, or it is not the
        model recorded by an earlier ``fit`` call.
    DatasetError
        On construction, if ``x`` and ``y`` are not of shapes (n, 2) and (n,).
    """

    def __init__(
        self,
        x: np.ndarray | None = None,
        y: np.ndarray | None = None,
        *,
        plan: RecordingPlan | None = None,
        loss: str | None = None,
        probe_size: int | None = None,
        grid_lines_per_axis: int | None = None,
        grid_samples: int | None = None,
        grid_padding: float | None = None,
        every_k_steps: int | None = None,
        dense_epochs: int | None = None,
        seed: int | None = None,
        experiment: dict[str, Any] | None = None,
        trainer: str = "keras.fit",
    ) -> None:
        super().__init__()
        options = {
            "loss": loss, "probe_size": probe_size, "grid_lines_per_axis": grid_lines_per_axis,
            "grid_samples": grid_samples, "grid_padding": grid_padding,
            "every_k_steps": every_k_steps, "dense_epochs": dense_epochs, "seed": seed,
            "experiment_data": experiment,
        }
        if plan is None:
            if x is None or y is None:
                raise ExperimentError("TrajectoryRecorder needs x and y, or a plan; got neither")
            plan = recording_plan(x, y, **options)
        else:
            given = [k for k, v in {"x": x, "y": y, **options}.items() if v is not None]
            if given:
                raise ExperimentError(
                    f"TrajectoryRecorder got a plan and {given}; expected a plan alone"
                )
        self.plan = plan
        self.trainer = trainer
        # Hidden images kept at a bounded schedule: memory does not grow with them.
        self._records = SnapshotRows()
        # Rows of the current epoch whose fractional epoch awaits the epoch's length.
        self._pending: list[dict[str, np.ndarray]] = []
        self._layers: list[Any] = []  # Dense and Dropout, in call order
        self._dense: list[Any] = []
        self._signature: list[tuple[str, int, str]] | None = None
        self._points: Any = None
        # The recorder's own clock, monotone over fit calls.
        self._step = 0  # optimizer steps taken since the first fit began
        self._epochs_done = 0
        self._epoch_start_step = 0
        self._last_iterations = 0  # the optimizer's own count when last read
        self._last_batch = -1  # the last batch index fit reported in this epoch
        self._fit_steps_per_epoch: int | None = None  # this fit's, if Keras knows it
        self._epoch_lengths: list[int] = []  # steps of every finished epoch
        self._optimizers: list[dict[str, Any]] = []
        self._kept_in_fit: list[int] = []
        self._skipped_in_fit: list[int] = []
        self._skipped: list[int] = []
        self._diverged_step: int | None = None  # non-finite, epoch length not yet known
        self.diverged = False
        self.diverged_at_epoch: float | None = None

    # -- Keras hooks ----------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not all(layer.built for layer in self.model.layers):
            # A Sequential model without an Input is built by its first training step, after
            # this hook; build it now for the 2-D inputs it is recorded on (the same weights
            # from the same seed) so that its epoch-0 snapshot exists and it can be checked.
            self.model.build((None, 2))
        layers = replayed_layers(self.model)
        dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
        signature = [(layer.name, int(layer.units), activation_name(layer)) for layer in dense]
        if self._signature is not None and signature != self._signature:
            raise ExperimentError(
                f"this recorder recorded the Dense layers {self._signature} and is now given "
                f"{signature}; expected the same model in every fit call (use a new recorder)"
            )
        self._layers, self._dense, self._signature = layers, dense, signature
        if self._points is None:
            self._points = keras.ops.convert_to_tensor(self.plan.points)
            self._check_replay()
        steps = (self.params or {}).get("steps")
        self._fit_steps_per_epoch = int(steps) if steps else None
        self._last_iterations = self._iterations()
        self._kept_in_fit, self._skipped_in_fit = [], []
        self._note_optimizer()
        if not self._records:
            self._snapshot(0.0)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start_step = self._step
        self._last_batch = -1  # fit numbers the batches of each epoch from 0
        self._pending = []

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        before = self._step
        self._advance(batch)  # counted even after divergence: the epoch's length is needed
        if self.diverged:
            return
        if logs and "loss" in logs and not np.isfinite(float(logs["loss"])):
            self._diverge()
            return
        scheduled = [
            s for s in range(before + 1, self._step + 1)
            if self.plan.in_epoch_snapshot(self._epochs_done, s)
        ]
        if self._step in scheduled:
            self._kept_in_fit.append(self._step)
            self._snapshot(None)
        self._skipped_in_fit.extend(s for s in scheduled if s != self._step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        length = self._step - self._epoch_start_step
        if self._diverged_step is not None:
            # The epoch's length is known now: place the divergence and the epoch's rows.
            self.diverged_at_epoch = self._fraction(self._diverged_step, length)
            self._diverged_step = None
        for rec in self._pending:
            rec["epoch"] = np.float64(self._fraction(int(rec["step"]), length))
        self._pending = []
        if self.diverged:
            self.model.stop_training = True
            return
        if length == 0:
            log.warning("an epoch took no optimizer step (no data?); it is not recorded")
            return
        self._epochs_done += 1
        self._epoch_lengths.append(length)
        if self._records and int(self._records[-1]["step"]) == self._step:
            # The in-epoch snapshot at the epoch's last step is the epoch-end snapshot.
            self._records[-1]["epoch"] = np.float64(self._epochs_done)
        else:
            self._snapshot(float(self._epochs_done))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._skipped_in_fit:
            log.warning(
                "steps_per_execution=%s: Keras calls back once per execution, so the snapshots "
                "scheduled at steps %s (every %d steps) were not taken; in-epoch snapshots "
                "kept at steps %s",
                getattr(self.model, "steps_per_execution", "?"), self._skipped_in_fit,
                self.plan.every_k_steps, self._kept_in_fit,
            )
            self._skipped.extend(self._skipped_in_fit)
            self._skipped_in_fit = []

    # -- internals ------------------------------------------------------------------------
    def _iterations(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _advance(self, batch: int) -> None:
        """Add the optimizer steps taken since the last call to the recorder's own count.

        The smaller of two counts, each too large in one case (Keras 3.x, TensorFlow): the
        optimizer's ``iterations`` also counts the call that finds data of unknown length
        exhausted, and the batch index ``fit`` reports overstates a last, partial execution
        when ``steps_per_execution > 1``.
        """
        now = self._iterations()
        # A count that went down was reset (a new optimizer after compile): it counts from 0.
        by_optimizer = now - self._last_iterations if now >= self._last_iterations else now
        self._last_iterations = now
        by_batch = batch - self._last_batch
        self._last_batch = batch
        self._step += max(0, min(by_optimizer, by_batch))

    def _fraction(self, step: int, length: int) -> float:
        """Fractional epoch of ``step`` in the current epoch of ``length`` steps."""
        into = step - self._epoch_start_step
        return self._epochs_done + (into / length if length > 0 else 0.0)

    def _known_length(self) -> int | None:
        return self._fit_steps_per_epoch

    def _note_optimizer(self) -> None:
        opt = self.model.optimizer
        try:
            # float32 holds about 7 significant digits: 0.1, not 0.10000000149011612.
            rate: float | None = float(
                f"{float(keras.ops.convert_to_numpy(opt.learning_rate)):.7g}"
            )
        except (TypeError, ValueError, AttributeError):
            rate = None
        entry = {"name": type(opt).__name__, "learning_rate": rate}
        if not self._optimizers or {k: self._optimizers[-1][k] for k in entry} != entry:
            self._optimizers.append({**entry, "from_epoch": self._epochs_done})

    def _network(self) -> Network:
        weights = [layer_weights(layer) for layer in self._dense]
        return layer_network(self._dense, [w[0] for w in weights], [w[1] for w in weights])

    def _hidden(self, points: Any, *, output: bool = False) -> list[np.ndarray]:
        """Each hidden Dense layer's outputs for ``points`` (and the output layer's, if
        ``output``): the model's own layers called in order, at inference."""
        h, outs = points, []
        for layer in self._layers if output else self._layers[:-1]:
            h = layer(h, training=False)
            if isinstance(layer, keras.layers.Dense):
                outs.append(np.asarray(keras.ops.convert_to_numpy(h)))
        return outs

    def _check_replay(self) -> None:
        """Refuse a model that its Dense layers, applied in order, do not reproduce."""
        x = self._points[:256]
        try:
            model_out = np.asarray(keras.ops.convert_to_numpy(self.model(x, training=False)))
        except Exception as err:  # what a model cannot take varies; say it in one line
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise _refuse(None, f"cannot be called on points of shape (n, 2): {first}") from err
        chain = self._hidden(x, output=True)
        if not all(np.all(np.isfinite(h)) for h in chain):
            return  # non-finite initial weights: the first snapshot reports divergence
        net = self._network()
        for i, (layer, h) in enumerate(zip(self._dense, chain, strict=True)):
            if not np.allclose(h, net.forward(np.asarray(x), upto=i), rtol=1e-4, atol=1e-5):
                raise _refuse(layer, f"computes something other than Dense with activation "
                              f"{activation_name(layer)!r} (a custom layer or activation?)")
        if model_out.shape != chain[-1].shape or not np.allclose(
            model_out, chain[-1], rtol=1e-4, atol=1e-5
        ):
            raise _refuse(None, "does not compute its layers applied one after the other "
                          "(branches, shared or skipped layers?)")

    def _diverge(self, epoch: float | None = None) -> None:
        """Mark divergence at the current step: at ``epoch`` if given, else in this epoch."""
        self.diverged = True
        if epoch is not None:
            self.diverged_at_epoch = float(epoch)
        elif self._known_length() is not None:
            self.diverged_at_epoch = self._fraction(self._step, self._known_length())
        else:
            # The epoch's length is unknown until it ends: on_epoch_end places it and stops.
            self._diverged_step = self._step
            return
        self.model.stop_training = True

    def _snapshot(self, epoch: float | None) -> None:
        """Append a snapshot at the current step; ``epoch`` None means inside this epoch."""
        net = self._network()
        hidden: list[np.ndarray] = []
        if all(np.all(np.isfinite(w)) for w in (*net.kernels, *net.biases)):
            # Keras is not asked for the images of non-finite weights; the row is refused.
            hidden = self._hidden(self._points)
        length = self._known_length()
        at = epoch
        if at is None:
            at = self._fraction(self._step, length) if length else float(self._epochs_done)
        rec = self.plan.snapshot(at, self._step, net, hidden)
        if rec is None:
            self._diverge(epoch)
            return
        self._records.append(rec)
        if epoch is None and not length:
            self._pending.append(rec)

    # -- result ---------------------------------------------------------------------------
    @property
    def n_snapshots(self) -> int:
        return len(self._records)

    def trajectory(self) -> Trajectory:
        """Everything recorded so far that is consistent, as a :class:`Trajectory`.

        Rows whose epoch is not yet known (inside an unfinished epoch of unknown length) or
        that would break the increasing order of steps and epochs are left out; a warning
        on the ``geomcore`` logger and the metadata (``"dropped_snapshots"``) say which.
        Without an experiment configuration (a user's own ``fit``) the metadata also holds
        ``"optimizers"``: name, learning rate and first epoch of each optimizer ``fit`` was
        compiled with. It may hold ``"skipped_snapshot_steps"`` (see above) and
        ``"epoch_steps"`` (steps of every epoch, when they differ).

        Raises
        ------
        RuntimeError
            If nothing was recorded (the callback never saw ``on_train_begin``).
        """
        if not self._records:
            raise RuntimeError("no snapshots recorded; pass the recorder to model.fit first")
        kept: list[dict[str, np.ndarray]] = []
        dropped: list[dict[str, Any]] = []
        pending = {id(rec) for rec in self._pending}
        for rec in self._records:
            why = None
            if id(rec) in pending:
                why = "inside an unfinished epoch of unknown length"
            elif kept and (rec["step"] <= kept[-1]["step"] or rec["epoch"] < kept[-1]["epoch"]):
                why = "out of step order"
            if why is None:
                kept.append(rec)
            else:
                dropped.append({"step": int(rec["step"]), "epoch": float(rec["epoch"]),
                                "reason": why})
        if dropped:
            log.warning("%d snapshot(s) left out of the trajectory: %s", len(dropped), dropped)
        # Before the first epoch has ended: what this fit runs, else the steps counted so far.
        lengths = self._epoch_lengths or [
            self._fit_steps_per_epoch or self._step - self._epoch_start_step
        ]
        extra: dict[str, Any] = {}
        if not self.plan.experiment:
            # A user's own fit: what the experiment's configuration would otherwise say.
            extra["optimizers"] = self._optimizers
        if len(set(lengths)) > 1:
            extra["epoch_steps"] = lengths
        if self._skipped or self._skipped_in_fit:
            extra["skipped_snapshot_steps"] = [*self._skipped, *self._skipped_in_fit]
        if dropped:
            extra["dropped_snapshots"] = dropped
        return self.plan.trajectory(
            kept, net=self._network(), steps_per_epoch=int(lengths[0]),
            trainer=self.trainer, diverged_at_epoch=self.diverged_at_epoch,
            extra_metadata=extra,
        )
