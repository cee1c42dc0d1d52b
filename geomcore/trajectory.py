"""A recorded training run: named arrays, one row per snapshot, plus JSON metadata.

Stored as an uncompressed ``.npz`` (a zip of ``.npy`` files). Loading never unpickles: every
member's header is read and checked (dtype, shape, declared size against the member's size)
before any data is read, and object arrays are refused. Saving writes a temporary file beside
the target and renames it, so a crash never leaves a partial file under the target's name.
Numpy and the standard library only.

Schema (version 1), ``S`` snapshots, ``P`` probe points, ``G`` grid lines of ``M`` samples:

===========================  ==================  ===========================================
array                        shape               meaning
===========================  ==================  ===========================================
``epoch``                    (S,) float64        epoch of each snapshot (0 = before training;
                                                 fractional for snapshots inside an epoch)
``step``                     (S,) int64          optimizer steps taken
``loss``, ``accuracy``       (S,) float64        on the whole dataset, at the snapshot weights
``boundary``                 (S, k + 1) float64  output unit ``(w_1..w_k, c)``; ``(a, b, c)``
                                                 for a 2-unit viewed layer; a softmax of K
                                                 units (schema 2): (S, k + 1, K), its kernel
                                                 rows then its bias row
``kernel.<layer>``           (S, in, out)        every layer's kernel, Keras layout
``bias.<layer>``             (S, out)            every layer's bias
``probe_inputs``             (P, 2) float32      probe points, data units
``probe_labels``             (P,) int64          their labels
``probe.<hidden layer>``     (S, P, units)       probe points' image in each hidden layer
``grid_inputs``              (G, M, 2) float64   grid lines over the padded data box
``grid.<hidden layer>``      (S, G, M, units)    grid lines' image in each hidden layer
``metadata``                 () str              JSON, see :data:`METADATA_KEYS`
===========================  ==================  ===========================================

Schema 2 added K-class runs (a softmax output of K units); a schema-1 file (one sigmoid
unit) is read as schema 2 unchanged. The metadata may also hold ``class_counts`` (points of
each class in the training data), from which :attr:`Trajectory.no_learning` knows the
accuracy of chance.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geomcore.errors import TrajectoryError
from geomcore.geometry import ACTIVATION_FUNCTIONS, Network

__all__ = [
    "MAX_ARRAY_BYTES",
    "METADATA_KEYS",
    "NO_LEARNING_MARGIN",
    "SCHEMA_VERSION",
    "Trajectory",
]

#: Version of the file layout above; bump it on any incompatible change.
SCHEMA_VERSION = 2
#: Older versions read by converting on load: version 1 (one sigmoid output unit only) is
#: version 2 restricted to two classes, with the same arrays and metadata keys.
_CONVERTIBLE_VERSIONS = (1,)

#: Keys every trajectory's metadata holds.
METADATA_KEYS = (
    "schema_version",
    "experiment",
    "seed",
    "data_hash",
    "versions",
    "created",
    "layer_names",
    "activations",
    "widths",
    "loss",
    "steps_per_epoch",
    "bounds",
    "trainer",
    "diverged",
    "diverged_at_epoch",
)

#: Largest single array a trajectory may declare (a guard against hostile headers); all the
#: arrays of one file together may not declare more either.
MAX_ARRAY_BYTES = 4 << 30

#: A run whose final accuracy beats chance by less than this did not learn
#: (see :meth:`Trajectory.no_learning`).
NO_LEARNING_MARGIN = 0.05


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would (umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _whole(value: float) -> float | int:
    """``value`` as an int when it is whole (JSON ``100``, not ``100.0``)."""
    return int(value) if value.is_integer() else value


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` without unpickling, checking headers first."""
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise TrajectoryError(
                        f"{path}: unexpected member {info.filename!r}; a trajectory holds "
                        ".npy arrays only"
                    )
                name = info.filename[: -len(".npy")]
                if name in arrays:
                    raise TrajectoryError(f"{path}: array {name!r} is stored twice")
                with zf.open(info) as f:
                    try:
                        version = np.lib.format.read_magic(f)
                        if version == (1, 0):
                            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                        elif version == (2, 0):
                            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                        else:
                            raise ValueError(f"unsupported .npy version {version}")
                    except ValueError as err:
                        raise TrajectoryError(
                            f"{path}: array {name!r} has an invalid header ({err})"
                        ) from None
                    if dtype.hasobject:
                        raise TrajectoryError(
                            f"{path}: array {name!r} holds Python objects (a pickle); "
                            "refused, trajectories hold numbers and text only"
                        )
                    if any(d < 0 for d in shape):
                        raise TrajectoryError(
                            f"{path}: array {name!r} declares the negative shape {shape}"
                        )
                    # Python integers: a product of hostile dimensions cannot wrap around.
                    nbytes = math.prod(shape) * dtype.itemsize
                    total += nbytes
                    if nbytes > MAX_ARRAY_BYTES or total > MAX_ARRAY_BYTES:
                        raise TrajectoryError(
                            f"{path}: array {name!r} declares shape {shape} ({nbytes} bytes), "
                            f"more than a trajectory may hold ({MAX_ARRAY_BYTES} bytes in all); "
                            "refused before reading it"
                        )
                    if nbytes > info.file_size:
                        raise TrajectoryError(
                            f"{path}: array {name!r} declares shape {shape} ({nbytes} bytes) "
                            f"but its member holds {info.file_size} bytes"
                        )
                    data = f.read(nbytes)
                    if len(data) != nbytes:
                        raise TrajectoryError(f"{path}: array {name!r} is truncated")
                    a = np.frombuffer(data, dtype=dtype)
                    a = a.reshape(shape, order="F" if fortran else "C").copy()
                    f.read()  # to the end, so zipfile checks the CRC
                arrays[name] = a
    except TrajectoryError:
        raise
    except FileNotFoundError:
        raise TrajectoryError(f"{path}: no such trajectory file") from None
    except IsADirectoryError:
        raise TrajectoryError(f"{path}: is a directory, not a trajectory file") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        raise TrajectoryError(
            f"{path}: not a trajectory file, or truncated or corrupted ({err})"
        ) from None
    except (OSError, EOFError, ValueError, MemoryError, RuntimeError, NotImplementedError) as err:
        raise TrajectoryError(
            f"{path}: cannot read trajectory ({type(err).__name__}: {err})"
        ) from None
    return arrays


@dataclass
class Trajectory:
    """A recorded training run; see the module docstring for the schema.

    Parameters
    ----------
    arrays
        The named arrays.
    metadata
        JSON-able metadata with at least the keys in :data:`METADATA_KEYS`.

    Raises
    ------
    TrajectoryError
        If arrays or metadata do not follow the schema.
    """

    arrays: dict[str, np.ndarray]
    metadata: dict[str, Any]

    def __post_init__(self) -> None:
        self.validate("<memory>")

    # -- schema ---------------------------------------------------------------------------
    def validate(self, source: str | os.PathLike[str]) -> None:
        """Check metadata keys and every array's presence, dtype and shape.

        Raises
        ------
        TrajectoryError
            Naming ``source`` and the first problem found.
        """

        def fail(problem: str) -> TrajectoryError:
            return TrajectoryError(f"{source}: {problem}")

        md = self.metadata
        if not isinstance(md, dict):
            raise fail("metadata is not a JSON object")
        version = md.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise fail(f"metadata has no valid schema_version (got {version!r})")
        if version > SCHEMA_VERSION:
            raise fail(
                f"schema version {version} is newer than this geomcore reads "
                f"({SCHEMA_VERSION}); upgrade geomcore or record the trajectory again"
            )
        if version in _CONVERTIBLE_VERSIONS:
            md["schema_version"] = version = SCHEMA_VERSION
        if version < SCHEMA_VERSION:
            raise fail(
                f"schema version {version} is older than this geomcore reads "
                f"({SCHEMA_VERSION}); record the trajectory again"
            )
        missing = [k for k in METADATA_KEYS if k not in md]
        if missing:
            raise fail(f"metadata lacks the keys {missing}")
        if not isinstance(md["experiment"], dict):
            raise fail("metadata 'experiment' is not a JSON object")
        names, widths, acts = md["layer_names"], md["widths"], md["activations"]
        if not (
            isinstance(names, list)
            and isinstance(widths, list)
            and isinstance(acts, list)
            and len(names) == len(widths) == len(acts) >= 2
            and all(isinstance(n, str) for n in names)
            and all(isinstance(w, int) and w >= 1 for w in widths)
        ):
            raise fail(
                "metadata layer_names/widths/activations must be equal-length lists "
                "ending with the output layer"
            )
        if len(set(names)) != len(names) or any(isinstance(w, bool) for w in widths):
            raise fail(f"metadata layer_names {names!r} must be distinct names")
        hidden_ok = sorted(set(ACTIVATION_FUNCTIONS) - {"softmax"})
        if not all(isinstance(a, str) and a in hidden_ok for a in acts[:-1]) or not (
            (acts[-1] == "sigmoid" and widths[-1] == 1)
            or (acts[-1] == "softmax" and widths[-1] >= 2)
        ):
            raise fail(
                f"metadata activations {acts!r} must be among {hidden_ok} and end with the "
                "sigmoid output unit (or, for K classes, a softmax of K >= 2 units)"
            )
        classes = 2 if widths[-1] == 1 else widths[-1]
        bounds = md["bounds"]
        if not (
            isinstance(bounds, list)
            and len(bounds) == 4
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
            and all(math.isfinite(b) for b in bounds)
            and bounds[0] < bounds[1]
            and bounds[2] < bounds[3]
        ):
            raise fail(f"metadata bounds {bounds!r} must be a finite box [xmin, xmax, ymin, ymax]")
        at = md["diverged_at_epoch"]
        if not isinstance(md["diverged"], bool) or not (
            at is None
            or (isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at))
        ):
            raise fail("metadata diverged must be true or false and diverged_at_epoch a number "
                       "or null")
        counts = md.get("class_counts")
        if counts is not None and not (
            isinstance(counts, list)
            and len(counts) == classes
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts)
            and sum(counts) > 0
        ):
            if classes == 2:
                raise fail(f"metadata class_counts {counts!r} must be two counts "
                           "[class 0, class 1]")
            raise fail(f"metadata class_counts {counts!r} must be {classes} counts, one per "
                       "class")

        def need(name: str, shape: tuple[int | None, ...], kind: str) -> np.ndarray:
            if name not in self.arrays:
                raise fail(f"missing array {name!r}")
            a = self.arrays[name]
            if not isinstance(a, np.ndarray) or a.dtype.kind not in kind:
                raise fail(f"array {name!r} has dtype {getattr(a, 'dtype', type(a))}, expected "
                           f"kind {kind!r}")
            if a.ndim != len(shape) or any(
                want is not None and got != want for got, want in zip(a.shape, shape)
            ):
                want_s = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
                raise fail(f"array {name!r} has shape {a.shape}, expected {want_s}")
            return a

        epoch = need("epoch", (None,), "f")
        s = epoch.shape[0]
        if s < 1:
            raise fail("no snapshots")
        step = need("step", (s,), "iu")
        need("loss", (s,), "f")
        need("accuracy", (s,), "f")
        if not np.all(np.isfinite(epoch)) or epoch[0] < 0:
            raise fail("array 'epoch' must hold finite epochs >= 0")
        if np.any(step[1:] <= step[:-1]) or np.any(epoch[1:] < epoch[:-1]):
            raise fail("snapshots are not in increasing step order")
        need("boundary", (s, widths[-2] + 1) if widths[-1] == 1 else
             (s, widths[-2] + 1, widths[-1]), "f")
        fan_in = 2
        for n, w in zip(names, widths):
            need(f"kernel.{n}", (s, fan_in, w), "f")
            need(f"bias.{n}", (s, w), "f")
            fan_in = w
        probe = need("probe_inputs", (None, 2), "f")
        p = probe.shape[0]
        labels = need("probe_labels", (p,), "iu")
        if not np.all((labels >= 0) & (labels < classes)):
            if classes == 2:
                raise fail("array 'probe_labels' must hold class labels 0 and 1 only")
            raise fail(f"array 'probe_labels' must hold class labels 0 to {classes - 1} only")
        grid = need("grid_inputs", (None, None, 2), "f")
        if not (np.all(np.isfinite(probe)) and np.all(np.isfinite(grid))):
            raise fail("arrays 'probe_inputs' and 'grid_inputs' must be finite")
        g, m = grid.shape[:2]
        for n, w in zip(names[:-1], widths[:-1]):
            need(f"probe.{n}", (s, p, w), "f")
            need(f"grid.{n}", (s, g, m, w), "f")

    # -- file I/O -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the trajectory to ``path`` (``.npz``) atomically.

        A temporary file is written beside ``path``, flushed to disk and renamed over it,
        so readers see the old file or the new one, never a partial one.

        Returns
        -------
        Path
            The path written.
        """
        path = Path(path)
        meta = np.array(json.dumps(self.metadata, sort_keys=True))
        payload = {**self.arrays, "metadata": meta}
        _atomic_write(path, lambda f: np.savez(f, **payload))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Trajectory:
        """Read and validate a trajectory file without unpickling anything.

        Raises
        ------
        TrajectoryError
            If the file is missing, not a zip of ``.npy`` arrays, truncated or corrupted
            (CRC), holds object arrays, declares arrays larger than it holds, or does not
            follow the schema (missing arrays, wrong shapes, other schema version). The
            message names the file.
        """
        path = Path(path)
        arrays = _read_npz(path)
        meta = arrays.pop("metadata", None)
        if meta is None or meta.dtype.kind != "U" or meta.shape != ():
            raise TrajectoryError(f"{path}: missing metadata; not a geomcore trajectory")
        try:
            metadata = json.loads(str(meta))
        except json.JSONDecodeError as err:
            raise TrajectoryError(f"{path}: metadata is not valid JSON ({err})") from None
        traj = cls.__new__(cls)
        traj.arrays, traj.metadata = arrays, metadata
        traj.validate(path)
        return traj

    # -- views ----------------------------------------------------------------------------
    @property
    def n_snapshots(self) -> int:
        return int(self.arrays["epoch"].shape[0])

    @property
    def epochs(self) -> np.ndarray:
        """Epoch of each snapshot, shape (S,)."""
        return self.arrays["epoch"]

    @property
    def steps(self) -> np.ndarray:
        return self.arrays["step"]

    @property
    def loss(self) -> np.ndarray:
        return self.arrays["loss"]

    @property
    def accuracy(self) -> np.ndarray:
        return self.arrays["accuracy"]

    @property
    def layer_names(self) -> list[str]:
        return list(self.metadata["layer_names"])

    @property
    def hidden_layer_names(self) -> list[str]:
        return self.layer_names[:-1]

    @property
    def widths(self) -> list[int]:
        return list(self.metadata["widths"])

    @property
    def name(self) -> str:
        return str(self.metadata["experiment"].get("name", "?"))

    @property
    def diverged(self) -> bool:
        return bool(self.metadata["diverged"])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Padded data box ``(xmin, xmax, ymin, ymax)`` the grid covers, data units."""
        return tuple(float(v) for v in self.metadata["bounds"])  # type: ignore[return-value]

    @property
    def probe_inputs(self) -> np.ndarray:
        return self.arrays["probe_inputs"]

    @property
    def probe_labels(self) -> np.ndarray:
        return self.arrays["probe_labels"]

    @property
    def grid_inputs(self) -> np.ndarray:
        return self.arrays["grid_inputs"]

    def weights(self, snapshot: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Kernels and biases of every layer at snapshot index ``snapshot``."""
        names = self.layer_names
        kernels = [self.arrays[f"kernel.{n}"][snapshot] for n in names]
        biases = [self.arrays[f"bias.{n}"][snapshot] for n in names]
        return kernels, biases

    def network(self, snapshot: int) -> Network:
        """The network at snapshot index ``snapshot`` (negative counts from the end).

        Raises
        ------
        IndexError
            If there is no such snapshot.
        """
        if not -self.n_snapshots <= snapshot < self.n_snapshots:
            raise IndexError(f"snapshot {snapshot} out of range for {self.n_snapshots}")
        kernels, biases = self.weights(snapshot)
        return Network(
            tuple(kernels), tuple(biases), tuple(self.metadata["activations"]),
            tuple(self.layer_names),
        )

    @property
    def chance_accuracy(self) -> float:
        """Accuracy of always answering the training data's majority class.

        From the metadata's ``class_counts`` (written since issue 7); for older files from
        the probe labels, which hold half of each class when both classes are large enough.
        """
        counts = self.metadata.get("class_counts")
        if counts:
            return max(counts) / sum(counts)
        labels = self.probe_labels
        if labels.size == 0:
            return 0.5
        shares = np.bincount(labels.astype(np.int64), minlength=self.classes) / labels.size
        return float(shares.max())

    @property
    def no_learning(self) -> bool:
        """Whether the run ended no better than chance: the one definition geomcore uses.

        True when the final accuracy beats :attr:`chance_accuracy` (always answering the
        majority class) by less than :data:`NO_LEARNING_MARGIN` (5 points), runs that end
        *below* chance included.
        """
        return float(self.accuracy[-1]) < self.chance_accuracy + NO_LEARNING_MARGIN

    def learning_verdict(self) -> str | None:
        """One line saying the run did not learn (see :attr:`no_learning`), or ``None``."""
        if not self.no_learning:
            return None
        return (
            f"{self.name} did not learn: final accuracy {float(self.accuracy[-1]):.4f} is "
            f"within {NO_LEARNING_MARGIN:g} of chance ({self.chance_accuracy:.4f}, always "
            "answering the majority class)"
        )

    def divergence_verdict(self) -> str | None:
        """One line saying where training diverged, or ``None`` if it did not."""
        if not self.diverged:
            return None
        at = self.metadata["diverged_at_epoch"]
        where = f"at epoch {at:g}" if at is not None else "(epoch unknown)"
        return (
            f"{self.name} diverged {where}: a value became non-finite; training "
            f"stopped and the {self.n_snapshots} snapshot(s) before it are kept"
        )

    def _repr_html_(self) -> str:
        """The offline explorer inline in Jupyter: its page in an ``<iframe srcdoc>``.

        The writer (:mod:`geomcore.explore`) is imported only here, so this module stays
        numpy-only. A trajectory with fewer than two finite snapshots shows its error instead.
        """
        import html

        from geomcore.explore import explorer_html

        try:
            page = explorer_html(self)
        except TrajectoryError as err:
            return f"<pre>{html.escape(str(err))}</pre>"
        return (
            f'<iframe srcdoc="{html.escape(page, quote=True)}" title="geomcore explorer: '
            f'{html.escape(self.name, quote=True)}" style="width: 980px; max-width: 100%; '
            'height: 900px; border: 0;" sandbox="allow-scripts"></iframe>'
        )

    @property
    def classes(self) -> int:
        """Number of classes K: 2 for one sigmoid output unit, else the softmax's units."""
        return 2 if self.widths[-1] == 1 else self.widths[-1]

    def per_class_accuracy(self, snapshot: int = -1) -> list[float | None]:
        """Accuracy on the probe points of each class at a snapshot (the probe holds an equal
        share of every class), one entry per class; ``None`` for a class without probe
        points or when the snapshot's outputs are not finite."""
        net = self.network(snapshot)
        labels = self.probe_labels
        with np.errstate(all="ignore"):
            per = net.per_class_accuracy(self.probe_inputs.astype(np.float64), labels)
        return [float(a) if np.isfinite(a) else None for a in per]

    def summary(self) -> dict[str, Any]:
        """The facts ``geomcore inspect --json`` prints (JSON-able)."""
        exp = self.metadata["experiment"]
        return {
            "experiment": exp.get("name"),
            "widths": self.widths,
            "activation": self.metadata["activations"][0],
            "epochs": _whole(float(self.epochs[-1])),
            "snapshots": self.n_snapshots,
            "steps": int(self.steps[-1]),
            "final_loss": float(self.loss[-1]),
            "final_accuracy": float(self.accuracy[-1]),
            "classes": self.classes,
            "per_class_accuracy": self.per_class_accuracy(),
            "accuracy_by_epoch": [
                float(a) for e, a in zip(self.epochs, self.accuracy) if float(e).is_integer()
            ],
            "loss_by_epoch": [
                float(v) for e, v in zip(self.epochs, self.loss) if float(e).is_integer()
            ],
            "diverged": self.diverged,
            "diverged_at_epoch": self.metadata["diverged_at_epoch"],
            "no_learning": self.no_learning,
            "chance_accuracy": self.chance_accuracy,
            "schema_version": self.metadata["schema_version"],
            "seed": self.metadata["seed"],
            "data_hash": self.metadata["data_hash"],
            "trainer": self.metadata["trainer"],
            "created": self.metadata["created"],
            "versions": self.metadata["versions"],
        }
