"""A Keras callback that records a training run as a :class:`~geomcore.trajectory.Trajectory`.

Usable with any ``model.fit`` on a Functional model of named ``Dense`` layers from 2 inputs
to one sigmoid unit. It follows the habits of ``keras.callbacks.CSVLogger``: set up in
``on_train_begin``, record in ``on_epoch_end`` (and every k steps in
``on_train_batch_end``), and it can span several ``fit`` calls.

This module imports Keras (and TensorFlow) when imported; import it only to train.
"""

from __future__ import annotations

import datetime
import platform
from typing import Any

import numpy as np

from geomcore.datasets import data_hash
from geomcore.errors import ExperimentError
from geomcore.geometry import ACTIVATION_FUNCTIONS, Network, grid_lines, padded_bounds
from geomcore.models import import_keras
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

keras = import_keras()

__all__ = [
    "TrajectoryRecorder",
    "assemble_trajectory",
    "library_versions",
    "probe_subset",
    "snapshot_record",
]

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
    """Indices of a seeded probe subset, half of each class (sorted within each class).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Labels in {0, 1}.
    size
        Number of probe points; the classes get ``size // 2`` and ``size - size // 2``
        (fewer if a class is smaller).
    seed
        Seed of the choice.

    Returns
    -------
    ndarray of shape (size,), int64
        Class-0 indices first, then class-1.
    """
    rng = np.random.default_rng([seed, 0x70726F6265])  # "probe": independent of other streams
    parts = []
    for label, k in ((0, size // 2), (1, size - size // 2)):
        idx = np.flatnonzero(np.asarray(y) == label)
        parts.append(np.sort(rng.choice(idx, size=min(k, idx.size), replace=False)))
    return np.concatenate(parts).astype(np.int64)


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
) -> dict[str, np.ndarray] | None:
    """One snapshot's row of a trajectory, or ``None`` if it is not finite (divergence).

    Shared by the recording callback and the in-graph engine, so both write the same rows.

    Parameters
    ----------
    epoch, step
        Training epoch (fractional inside an epoch) and optimizer steps taken.
    net
        The weights at the snapshot.
    hidden
        Each hidden layer's outputs for the probe points then the grid, shapes
        ``(n_probe + G * M, units)``, as the model computed them.
    n_probe
        Number of probe points at the start of each ``hidden`` array.
    grid_shape
        ``(G, M)``: grid lines and samples per line.
    x, y
        The whole training set, shapes ``(n, 2)`` and ``(n,)``: loss and accuracy are
        measured on it (one forward pass, :meth:`Network.loss_and_accuracy`).
    loss
        ``"mse"`` or ``"binary_crossentropy"``.
    """
    weights = (*net.kernels, *net.biases)
    # Hidden outputs too: float32 images overflow before float64 weights or loss do.
    if not all(np.all(np.isfinite(w)) for w in weights) or not all(
        np.all(np.isfinite(h)) for h in hidden
    ):
        return None
    loss_value, accuracy = net.loss_and_accuracy(x, y, loss)
    if not np.isfinite(loss_value):
        return None
    rec: dict[str, np.ndarray] = {
        "epoch": np.float64(epoch),
        "step": np.int64(step),
        "loss": np.float64(loss_value),
        "accuracy": np.float64(accuracy),
        "boundary": net.boundary_coefficients(),
    }
    for name, k, b in zip(net.layer_names, net.kernels, net.biases):
        rec[f"kernel.{name}"] = k
        rec[f"bias.{name}"] = b
    for name, h in zip(net.layer_names[:-1], hidden):
        rec[f"probe.{name}"] = h[:n_probe]
        rec[f"grid.{name}"] = h[n_probe:].reshape(*grid_shape, -1)
    return rec


def assemble_trajectory(
    records: list[dict[str, np.ndarray]],
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
) -> Trajectory:
    """Stack snapshot rows (:func:`snapshot_record`) into a :class:`Trajectory` with metadata.

    ``net`` gives the layer names, activations and widths (any snapshot's network).
    """
    arrays = {k: np.stack([r[k] for r in records]) for k in records[0]}
    arrays["probe_inputs"] = probe_inputs
    arrays["probe_labels"] = probe_labels
    arrays["grid_inputs"] = grid_inputs
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "experiment": experiment,
        "seed": seed,
        "data_hash": data_hash(x, y),
        "class_counts": [int(np.count_nonzero(y == c)) for c in (0, 1)],
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
    }
    return Trajectory(arrays, metadata)


class TrajectoryRecorder(keras.callbacks.Callback):
    """Record snapshots of a model while it trains.

    A snapshot holds every layer's kernel and bias, loss and accuracy on ``(x, y)`` at the
    snapshot's weights, the output unit's boundary coefficients, and the outputs of every
    hidden layer for the probe points and the grid (computed by the Keras model itself).
    Snapshots are taken before the first update (epoch 0), at every epoch end and, if
    ``every_k_steps > 0``, every k optimizer steps during the first ``dense_epochs`` epochs
    (all epochs if 0). Batch-level snapshots need ``steps_per_execution`` to divide k.

    Training stops at the first non-finite loss, weight or hidden output; the snapshots
    before it are kept and the trajectory is marked diverged.

    Parameters
    ----------
    x : ndarray of shape (n, 2)
        Training inputs, data units; loss and accuracy are measured on them.
    y : ndarray of shape (n,)
        Labels in {0, 1}.
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
        In ``on_train_begin``, if the model is not a chain of Dense layers from 2 inputs to
        one unit with known activations.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        loss: str = "mse",
        probe_size: int = 2_000,
        grid_lines_per_axis: int = 21,
        grid_samples: int = 200,
        grid_padding: float = 0.1,
        every_k_steps: int = 0,
        dense_epochs: int = 0,
        seed: int = 0,
        experiment: dict[str, Any] | None = None,
        trainer: str = "keras.fit",
    ) -> None:
        super().__init__()
        self.x = np.asarray(x, dtype=np.float32)
        self.y = np.asarray(y).astype(np.int64).reshape(-1)
        self.loss_kind = loss
        self.seed = seed
        self.every_k_steps = every_k_steps
        self.dense_epochs = dense_epochs
        self.experiment = dict(experiment or {})
        self.trainer = trainer
        idx = probe_subset(self.y, probe_size, seed)
        self.probe_inputs = self.x[idx]
        self.probe_labels = self.y[idx]
        self.bounds = padded_bounds(self.x, grid_padding)
        self.grid_inputs = grid_lines(self.bounds, grid_lines_per_axis, grid_samples)
        self._records: list[dict[str, np.ndarray]] = []
        self._epochs_done = 0
        self._layers: list[Any] = []
        self._features: Any = None
        self.diverged = False
        self.diverged_at_epoch: float | None = None

    # -- Keras hooks ----------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._layers:
            self._inspect_model()
        if not self._records:
            self._snapshot(0.0)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.diverged:
            return
        if logs and "loss" in logs and not np.isfinite(float(logs["loss"])):
            self._mark_diverged(self._epochs_done + (batch + 1) / self._steps_per_epoch())
            return
        k = self.every_k_steps
        if k <= 0 or (self.dense_epochs and self._epochs_done >= self.dense_epochs):
            return
        step = int(self.model.optimizer.iterations.numpy())
        spe = self._steps_per_epoch()
        in_epoch = step - self._epochs_done * spe
        if step % k == 0 and 0 < in_epoch < spe:
            self._snapshot(self._epochs_done + in_epoch / spe)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.diverged:
            return
        self._epochs_done += 1
        self._snapshot(float(self._epochs_done))

    # -- internals ------------------------------------------------------------------------
    def _steps_per_epoch(self) -> int:
        steps = (self.params or {}).get("steps")
        return int(steps) if steps else 1

    def _inspect_model(self) -> None:
        layers = [
            layer for layer in self.model.layers if not isinstance(layer, keras.layers.InputLayer)
        ]
        fan_in = 2
        for layer in layers:
            if not isinstance(layer, keras.layers.Dense):
                raise ExperimentError(
                    f"layer {layer.name!r} is a {type(layer).__name__}; the recorder reads "
                    "chains of Dense layers only"
                )
            if layer.kernel.shape[0] != fan_in:
                raise ExperimentError(
                    f"layer {layer.name!r} has {layer.kernel.shape[0]} inputs, expected {fan_in}"
                )
            fan_in = layer.units
            act = getattr(layer.activation, "__name__", "?")
            act = _ACTIVATION_ALIASES.get(act, act)
            if act not in ACTIVATION_FUNCTIONS:
                raise ExperimentError(
                    f"layer {layer.name!r} has activation {act!r}; expected one of "
                    f"{sorted(ACTIVATION_FUNCTIONS)}"
                )
        if not layers or layers[-1].units != 1 or len(layers) < 2:
            raise ExperimentError(
                "the model must end with a 1-unit output layer after at least one hidden layer"
            )
        if layers[-1].units != 1 or _act_name(layers[-1]) != "sigmoid":
            raise ExperimentError(f"the output layer {layers[-1].name!r} must be Dense(1, sigmoid)")
        self._layers = layers
        self._features = keras.Model(self.model.input, [lay.output for lay in layers[:-1]])
        self._grid_flat = self.grid_inputs.reshape(-1, 2).astype(np.float32)

    def _network(self) -> Network:
        return Network(
            tuple(np.array(lay.kernel.numpy()) for lay in self._layers),
            tuple(np.array(lay.bias.numpy()) for lay in self._layers),
            tuple(_act_name(lay) for lay in self._layers),
            tuple(lay.name for lay in self._layers),
        )

    def _mark_diverged(self, epoch: float) -> None:
        self.diverged = True
        self.diverged_at_epoch = float(epoch)
        self.model.stop_training = True

    def _snapshot(self, epoch: float) -> None:
        net = self._network()
        finite = all(np.all(np.isfinite(w)) for w in (*net.kernels, *net.biases))
        hidden: list[np.ndarray] = []
        if finite:  # no point asking Keras for the images of non-finite weights
            outs = self._features(np.concatenate([self.probe_inputs, self._grid_flat]),
                                  training=False)
            hidden = [np.asarray(o) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]
        rec = snapshot_record(
            epoch, int(self.model.optimizer.iterations.numpy()), net, hidden,
            n_probe=self.probe_inputs.shape[0], grid_shape=self.grid_inputs.shape[:2],
            x=self.x, y=self.y, loss=self.loss_kind,
        ) if finite else None
        if rec is None:
            self._mark_diverged(epoch)
            return
        self._records.append(rec)

    # -- result ---------------------------------------------------------------------------
    @property
    def n_snapshots(self) -> int:
        return len(self._records)

    def trajectory(self) -> Trajectory:
        """Everything recorded so far as a :class:`Trajectory`.

        Raises
        ------
        RuntimeError
            If nothing was recorded (the callback never saw ``on_train_begin``).
        """
        if not self._records:
            raise RuntimeError("no snapshots recorded; pass the recorder to model.fit first")
        return assemble_trajectory(
            self._records, net=self._network(), probe_inputs=self.probe_inputs,
            probe_labels=self.probe_labels, grid_inputs=self.grid_inputs, bounds=self.bounds,
            x=self.x, y=self.y, experiment=self.experiment, seed=self.seed,
            loss=self.loss_kind, steps_per_epoch=self._steps_per_epoch(), trainer=self.trainer,
            diverged_at_epoch=self.diverged_at_epoch,
        )


def _act_name(layer: Any) -> str:
    name = getattr(layer.activation, "__name__", "?")
    return _ACTIVATION_ALIASES.get(name, name)
