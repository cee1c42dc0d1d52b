"""Smooth, truthful replay of a trajectory: what every frame of a training video shows.

Between snapshots the *weights* are interpolated (a cubic spline through the snapshots, C2 in
the snapshot index) and the forward pass recomputed, so every frame shows a real network.
Screen time follows how much the picture changes: the replay's progress ``u`` in ``[0, 1]``
maps to a snapshot coordinate ``s`` through the inverse of the cumulative change of the
viewed layer's image (monotone PCHIP, C1), so fast early epochs get room and still late
epochs pass quickly. Numpy, scipy and contourpy only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import contourpy
import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator

from geomcore.errors import TrajectoryError
from geomcore.geometry import ACTIVATION_FUNCTIONS, Network, clip_line_to_box
from geomcore.trajectory import IMAGE_PREFIXES, Trajectory

__all__ = ["Frame", "Replay", "boundary_contours", "layer_homotopy"]


@dataclass(frozen=True)
class Frame:
    """Everything drawn at one instant of a replay.

    Attributes
    ----------
    progress
        Replay progress ``u`` in [0, 1].
    snapshot
        Snapshot coordinate ``s`` in [0, S - 1] (fractional between snapshots).
    epoch
        Training epoch of the interpolated weights (fractional inside an epoch).
    network
        The interpolated network.
    probe : ndarray of shape (P, k)
        Probe points in the viewed layer.
    grid : ndarray of shape (G, M, k)
        Grid lines in the viewed layer.
    boundary : ndarray of shape (k + 1,)
        Output-unit coefficients ``(w_1..w_k, c)``.
    loss, accuracy
        Recorded values, interpolated linearly between snapshots.
    """

    progress: float
    snapshot: float
    epoch: float
    network: Network
    probe: np.ndarray
    grid: np.ndarray
    boundary: np.ndarray
    loss: float
    accuracy: float

    def decision_segment(self, box: Sequence[float]) -> np.ndarray | None:
        """The decision line clipped to ``box`` (2-unit view), shape (2, 2), or ``None``."""
        if self.boundary.shape != (3,):
            raise ValueError("the decision line exists in a 2-unit viewed layer only")
        a, b, c = self.boundary
        return clip_line_to_box(a, b, c, box)


def boundary_contours(
    network: Network, box: Sequence[float], resolution: int = 160
) -> list[np.ndarray]:
    """The decision boundary pulled back into the input plane: where the network outputs 0.5.

    The logit is evaluated on a ``resolution x resolution`` grid over ``box`` and its zero set
    traced by marching squares (contourpy), so the curves are exact up to the grid's
    linear interpolation.

    Parameters
    ----------
    network
        The network.
    box
        ``(xmin, xmax, ymin, ymax)`` in data units.
    resolution
        Samples per axis.

    Returns
    -------
    list of ndarray of shape (k, 2)
        Polylines in data units; empty when the network outputs 0.5 nowhere in the box.
    """
    gx, gy, samples = _sample_grid(tuple(float(v) for v in box), int(resolution))
    logit = network.logit(samples).reshape(gx.shape)
    if not np.all(np.isfinite(logit)):
        return []
    gen = contourpy.contour_generator(gx, gy, logit, line_type=contourpy.LineType.Separate)
    return [np.asarray(line, dtype=np.float64) for line in gen.lines(0.0) if len(line) >= 2]


@lru_cache(maxsize=16)
def _sample_grid(
    box: tuple[float, ...], resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``resolution x resolution`` samples of ``box`` that :func:`boundary_contours`
    evaluates, made once per box (a replay traces the boundary every frame): x and y of
    shape (resolution, resolution), and the same points as rows, shape (resolution**2, 2).
    Read-only, since they are shared."""
    xmin, xmax, ymin, ymax = box
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    samples = np.column_stack([gx.ravel(), gy.ravel()])
    for a in (gx, gy, samples):
        a.flags.writeable = False
    return gx, gy, samples


def layer_homotopy(network: Network, x: np.ndarray, t: float) -> np.ndarray:
    """Points moving through a network's 2-unit layers, for "looking inside a layer".

    At ``t = n`` (integer) the points sit at the output of the first ``n`` layers; in between
    they move in straight lines from one layer's output to the next (the picture of
    Olah, "Neural Networks, Manifolds, and Topology", 2014).

    Parameters
    ----------
    network
        A network whose layers up to ``ceil(t)`` are all 2 units wide.
    x : ndarray of shape (..., 2)
        Points in the input plane.
    t
        Layers travelled, in ``[0, number of hidden layers]``.

    Returns
    -------
    ndarray of the shape of ``x``

    Raises
    ------
    ValueError
        If a layer on the way is not 2 units wide.
    """
    shape = np.shape(x)
    pts = np.asarray(x, dtype=np.float64).reshape(-1, 2)
    n = int(np.floor(t))
    frac = t - n
    for i in range(int(np.ceil(t))):
        if network.widths[i] != 2:
            raise ValueError(f"layer {network.layer_names[i]!r} is not 2 units wide")
    lo = network.forward(pts, upto=n - 1) if n > 0 else pts
    if frac == 0:
        return lo.reshape(shape)
    hi = network.forward(pts, upto=n)
    return ((1 - frac) * lo + frac * hi).reshape(shape)


#: Snapshots per block when a replay measures the hidden images (finite? how far do they
#: move?): memory holds one block of images, whatever the number of snapshots.
_BLOCK = 32


def _finite_prefix(trajectory: Trajectory, images_ok: np.ndarray) -> int:
    """Number of leading snapshots whose weights, metrics and hidden outputs are all finite.

    ``images_ok``, shape (S,), says which snapshots' hidden images are finite
    (:func:`_scan_images`).
    """
    ok = np.isfinite(trajectory.loss) & np.isfinite(trajectory.accuracy) & images_ok
    for name in trajectory.arrays:
        if name.split(".")[0] in ("kernel", "bias", "boundary"):
            a = trajectory.arrays[name]
            ok &= np.all(np.isfinite(a.reshape(a.shape[0], -1)), axis=1)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else trajectory.n_snapshots


class _Steps:
    """Per-row finiteness and RMS displacement between consecutive rows of images, fed a
    block of consecutive rows at a time (each ``(k, ..., units)``).

    The change between two rows is the root mean square over their points of the
    displacement (NaN next to a non-finite row); with ``measure=False`` only finiteness.
    """

    def __init__(self, measure: bool = True) -> None:
        self.measure = measure
        self.finite: list[np.ndarray] = []
        self.steps: list[np.ndarray] = [np.zeros(0)]
        self._prev: np.ndarray | None = None

    def add(self, block: np.ndarray) -> None:
        k = block.shape[0]
        self.finite.append(np.all(np.isfinite(np.reshape(block, (k, -1))), axis=1))
        if not self.measure:
            return
        b = np.asarray(block).reshape(k, -1, block.shape[-1]).astype(np.float64)
        seq = b if self._prev is None else np.concatenate([self._prev, b])
        self.steps.append(np.sqrt(np.mean(np.sum(np.diff(seq, axis=0) ** 2, axis=-1), axis=1)))
        self._prev = b[-1:]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(finite (R,) bool, change (R - 1,) float64)`` over the R rows added (the change
        empty unless measured)."""
        return np.concatenate(self.finite), np.concatenate(self.steps)


def _computed_images(trajectory: Trajectory, layer: str) -> Iterator[np.ndarray]:
    """Every snapshot's images of the probe points then the grid in ``layer``, from its
    weights, in blocks of :data:`_BLOCK` snapshots, shape ``(k, P + G * M, units)``.

    The forward pass of :meth:`geomcore.geometry.Network.forward` (float64), batched over
    the snapshots of a block.
    """
    names = trajectory.layer_names
    acts = trajectory.metadata["activations"]
    upto = names.index(layer)
    points = np.concatenate(
        [trajectory.probe_inputs.astype(np.float64), trajectory.grid_inputs.reshape(-1, 2)]
    )
    for start in range(0, trajectory.n_snapshots, _BLOCK):
        rows = slice(start, start + _BLOCK)
        h: np.ndarray = points[None]
        for i in range(upto + 1):
            kernel = trajectory.arrays[f"kernel.{names[i]}"][rows].astype(np.float64)
            bias = trajectory.arrays[f"bias.{names[i]}"][rows].astype(np.float64)
            h = ACTIVATION_FUNCTIONS[acts[i]](h @ kernel + bias[:, None, :])
        yield h


def _scan_images(trajectory: Trajectory, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """Which snapshots' hidden images are finite, and how far the viewed layer's move.

    Every stored image array is read once, a block of rows at a time (streamed from the file
    after a lazy load), so memory does not grow with the number of snapshots. The change
    comes from the stored images when every snapshot's are stored, else from the images
    recomputed from the weights (which then count towards finiteness too).

    Returns
    -------
    ok : ndarray of shape (S,), bool
    change : ndarray of shape (S - 1,), float64
        RMS displacement of the probe points plus that of the grid, per snapshot interval
        (NaN next to a snapshot whose images are not finite).
    """
    s = trajectory.n_snapshots
    at = trajectory.image_snapshots
    thinned = trajectory.images_thinned
    ok = np.ones(s, dtype=bool)
    change = np.zeros(max(s - 1, 0))
    with np.errstate(all="ignore"):
        for name in list(trajectory.arrays):
            if not name.startswith(IMAGE_PREFIXES):
                continue
            viewed = not thinned and name.split(".", 1)[1] == layer
            scan = _Steps(measure=viewed)
            for block in trajectory.snapshot_rows(name, _BLOCK):
                scan.add(block)
            finite, steps = scan.result()
            ok[at] &= finite
            if viewed:
                change += steps
        if thinned:
            p = trajectory.probe_inputs.shape[0]
            probe, grid = _Steps(), _Steps()
            for h in _computed_images(trajectory, layer):
                probe.add(h[:, :p])
                grid.add(h[:, p:])
            (probe_ok, probe_steps), (grid_ok, grid_steps) = probe.result(), grid.result()
            ok &= probe_ok & grid_ok
            change = probe_steps + grid_steps
    return ok, change


class Replay:
    """A trajectory replayed at any progress ``u`` in [0, 1].

    Parameters
    ----------
    trajectory
        The recorded run.
    layer
        The viewed hidden layer's name; default: the last hidden layer.
    min_speed
        Share of the mean change every snapshot interval is granted on top of its own change,
        so a still stretch of training still moves (0: time strictly follows change).
    until_epoch
        Replay only the snapshots up to this epoch (all by default).

    A replay shows only the finite snapshots: it stops before the first snapshot holding a
    non-finite weight, loss, accuracy or hidden output (a run that diverged keeps only
    finite snapshots; a hand-made trajectory may not), and :attr:`notice` then says where
    and why it stops.

    Raises
    ------
    TrajectoryError
        If fewer than two finite snapshots are left (a :class:`ValueError` too).
    ValueError
        If the layer is unknown.
    """

    def __init__(
        self,
        trajectory: Trajectory,
        *,
        layer: str | None = None,
        min_speed: float = 0.25,
        until_epoch: float | None = None,
    ) -> None:
        self.trajectory = trajectory
        self.layer = layer or trajectory.hidden_layer_names[-1]
        if self.layer not in trajectory.hidden_layer_names:
            raise ValueError(
                f"no hidden layer {self.layer!r}; expected one of {trajectory.hidden_layer_names}"
            )
        epochs = trajectory.epochs
        images_ok, change = _scan_images(trajectory, self.layer)
        finite = _finite_prefix(trajectory, images_ok)
        count = finite
        #: Epoch where the replay stops because training diverged, or None.
        self.diverged_at_epoch: float | None = None
        if trajectory.diverged:
            at = trajectory.metadata["diverged_at_epoch"]
            self.diverged_at_epoch = float(at) if at is not None else float(epochs[finite - 1])
        if finite < trajectory.n_snapshots:
            at = float(epochs[finite])
            self.diverged_at_epoch = min(at, self.diverged_at_epoch or at)
        if until_epoch is not None:
            count = min(count, int(np.searchsorted(epochs, until_epoch, side="right")))
        if count < 2:
            why = (
                f"; training diverged at epoch {self.diverged_at_epoch:g}"
                if self.diverged_at_epoch is not None else ""
            )
            raise TrajectoryError(
                f"{trajectory.name}: a replay needs at least 2 finite snapshots; it has "
                f"{count}{why}"
            )
        self.n_snapshots = count
        self.index = np.arange(count, dtype=np.float64)
        names = trajectory.layer_names
        self._activations = tuple(trajectory.metadata["activations"])
        self._names = tuple(names)
        self._shapes = [trajectory.arrays[f"kernel.{n}"].shape[1:] for n in names]
        flat = [
            np.concatenate(
                [
                    trajectory.arrays[f"kernel.{n}"][:count].reshape(count, -1),
                    trajectory.arrays[f"bias.{n}"][:count],
                ],
                axis=1,
            )
            for n in names
        ]
        self._sizes = [f.shape[1] for f in flat]
        self._weights = CubicSpline(self.index, np.concatenate(flat, axis=1).astype(np.float64))
        self.epochs = epochs[:count].astype(np.float64)
        #: RMS displacement of the probe points plus that of the grid in the viewed layer,
        #: per snapshot interval, shape (S - 1,).
        self.change = change[: count - 1]
        weights = self.change + min_speed * max(float(np.mean(self.change)), 1e-12)
        # Every interval gets some time, so the clock is strictly increasing even where
        # nothing moves (min_speed = 0, or all points mapped to one place).
        weights = np.maximum(weights, 1e-9 * max(float(np.max(weights)), 1e-12))
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        self.cumulative = cumulative / cumulative[-1]
        self._warp = PchipInterpolator(self.cumulative, self.index)
        self._frame = lru_cache(maxsize=8)(self._compute_frame)

    @property
    def weight_spline(self) -> CubicSpline:
        """The cubic spline through every layer's weights, flattened, in the snapshot index.

        Each row of its values is, layer after layer, the kernel (shape ``(inputs, units)``,
        row-major) then the bias; ``.x`` are the snapshot indices ``0..S-1`` and ``.c`` the
        piecewise-cubic coefficients, shape ``(4, S - 1, parameters)``.
        """
        return self._weights

    @property
    def clock(self) -> PchipInterpolator:
        """The monotone warp from progress ``u`` to snapshot coordinate ``s`` (PCHIP).

        ``.x`` are the progress values at which the snapshots are shown (shape ``(S,)``),
        ``.c`` its coefficients, shape ``(4, S - 1)``; :meth:`snapshot_at` clips it to
        ``[0, S - 1]``.
        """
        return self._warp

    @property
    def notice(self) -> str | None:
        """What a viewer must be told about this replay, or ``None``: where training diverged."""
        if self.diverged_at_epoch is None:
            return None
        return f"training diverged at epoch {self.diverged_at_epoch:g} — replay stops there"

    # -- clocks ---------------------------------------------------------------------------
    def snapshot_at(self, progress: float) -> float:
        """Snapshot coordinate ``s`` shown at progress ``u`` (monotone, C1 in ``u``)."""
        u = min(max(float(progress), 0.0), 1.0)
        return float(np.clip(self._warp(u), 0.0, self.n_snapshots - 1))

    def progress_at(self, snapshot: float) -> float:
        """Inverse of :meth:`snapshot_at`: the progress at which snapshot ``s`` is shown."""
        s = min(max(float(snapshot), 0.0), self.n_snapshots - 1)
        i = min(int(np.floor(s)), self.n_snapshots - 2)
        # The warp is the inverse of the piecewise-cubic PCHIP; bisect for exactness.
        lo, hi = self.cumulative[i], self.cumulative[i + 1]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if self._warp(mid) < s:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def progress_at_epoch(self, epoch: float) -> float:
        """The progress at which the replay shows epoch ``epoch``."""
        s = float(np.interp(epoch, self.epochs, self.index))
        return self.progress_at(s)

    def epoch_at_snapshot(self, snapshot: float) -> float:
        """Epoch of the weights at snapshot coordinate ``s`` (linear between snapshots)."""
        return float(np.interp(snapshot, self.index, self.epochs))

    # -- networks -------------------------------------------------------------------------
    def network_at_snapshot(self, snapshot: float) -> Network:
        """The network whose weights are the spline through the snapshots at ``s``.

        At integer ``s`` these are exactly the recorded weights.
        """
        s = min(max(float(snapshot), 0.0), self.n_snapshots - 1)
        if float(s).is_integer():
            return self.trajectory.network(int(s))
        flat = self._weights(s)
        kernels, biases = [], []
        start = 0
        for shape, size in zip(self._shapes, self._sizes):
            chunk = flat[start : start + size]
            start += size
            k = shape[0] * shape[1]
            kernels.append(chunk[:k].reshape(shape))
            biases.append(chunk[k:])
        return Network(tuple(kernels), tuple(biases), self._activations, self._names)

    def network_at(self, progress: float) -> Network:
        """The network shown at progress ``u``."""
        return self.network_at_snapshot(self.snapshot_at(progress))

    def frame(self, progress: float) -> Frame:
        """Everything drawn at progress ``u`` (cached for the last few values)."""
        return self._frame(float(progress))

    def _compute_frame(self, progress: float) -> Frame:
        traj = self.trajectory
        s = self.snapshot_at(progress)
        net = self.network_at_snapshot(s)
        probe = net.forward(traj.probe_inputs, upto=self.layer)
        grid_in = traj.grid_inputs
        grid = net.forward(grid_in.reshape(-1, 2), upto=self.layer).reshape(
            *grid_in.shape[:2], -1
        )
        boundary = net.boundary_coefficients() if self.layer == traj.hidden_layer_names[-1] else (
            np.full(net.widths[net.layer_index(self.layer)] + 1, np.nan)
        )
        return Frame(
            progress=progress,
            snapshot=s,
            epoch=self.epoch_at_snapshot(s),
            network=net,
            probe=probe,
            grid=grid,
            boundary=boundary,
            loss=float(np.interp(s, self.index, traj.loss[: self.n_snapshots])),
            accuracy=float(np.interp(s, self.index, traj.accuracy[: self.n_snapshots])),
        )
