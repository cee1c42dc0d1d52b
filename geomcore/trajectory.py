"""A recorded training run: named arrays, one row per snapshot, plus JSON metadata.

Stored as an uncompressed ``.npz`` (a zip of ``.npy`` files). Loading never unpickles: every
member's header is read and checked (dtype, shape, declared size against the member's size)
before any data is read, and object arrays are refused. Saving writes a temporary file beside
the target and renames it, so a crash never leaves a partial file under the target's name.
``Trajectory.load(path, lazy=True)`` reads the hidden-layer images (``probe.*``, ``grid.*``,
most of a file) only when they are first used. Numpy and the standard library only.

Schema (version 3), ``S`` snapshots, ``P`` probe points, ``G`` grid lines of ``M`` samples,
hidden images stored at ``T`` of the snapshots:

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
``probe.<hidden layer>``     (T, P, units)       probe points' image in each hidden layer
``grid_inputs``              (G, M, 2) float64   grid lines over the padded data box
``grid.<hidden layer>``      (T, G, M, units)    grid lines' image in each hidden layer
``image_snapshots``          (T,) int64          optional (schema 3): the snapshots whose
                                                 images are stored, increasing; absent when
                                                 every snapshot's are (T = S)
``metadata``                 () str              JSON, see :data:`METADATA_KEYS`
===========================  ==================  ===========================================

Schema 3 lets a long run store its hidden images at a thinned schedule (the recorders keep at
most :data:`geomcore.recording.MAX_IMAGE_SNAPSHOTS` + 1 of them, the first and the last
snapshot always among them) while every snapshot's weights and metrics are kept: a replay
recomputes the images from the weights anyway. A file whose images cover every snapshot has
exactly the layout of schema 2, and schema 1 and 2 files are read unchanged.

Schema 2 added K-class runs (a softmax output of K units); a schema-1 file (one sigmoid
unit) is read as schema 3 unchanged. The metadata may also hold ``class_counts`` (points of
each class in the training data), from which :attr:`Trajectory.no_learning` knows the
accuracy of chance.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geomcore.errors import TrajectoryError
from geomcore.geometry import ACTIVATION_FUNCTIONS, Network

__all__ = [
    "IMAGE_PREFIXES",
    "LazyArrays",
    "MAX_ARRAY_BYTES",
    "METADATA_KEYS",
    "NO_LEARNING_MARGIN",
    "SCHEMA_VERSION",
    "Trajectory",
]

#: Version of the file layout above; bump it on any incompatible change.
SCHEMA_VERSION = 3
#: Older versions read by converting on load: version 1 (one sigmoid output unit only) is
#: version 2 restricted to two classes, and version 2 is version 3 with the images of every
#: snapshot stored (no ``image_snapshots``); same arrays and metadata keys.
_CONVERTIBLE_VERSIONS = (1, 2)

#: Prefixes of the hidden-layer image arrays: the bulk of a file, read on demand by a lazy
#: load, stored at the snapshots ``image_snapshots`` lists.
IMAGE_PREFIXES = ("probe.", "grid.")

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


def _stamp(f: Any) -> tuple[int, int, int, int]:
    """What identifies an open file's contents: device, inode, size, modification time."""
    st = os.fstat(f.fileno())
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn whatever reading ``path`` raises into one :class:`TrajectoryError` naming it."""
    try:
        yield
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


def _header(f: Any, path: Path, name: str, info: zipfile.ZipInfo) -> tuple[
    tuple[int, ...], bool, np.dtype, int
]:
    """Read and check one ``.npy`` member's header: ``(shape, fortran, dtype, nbytes)``."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except ValueError as err:
        raise TrajectoryError(f"{path}: array {name!r} has an invalid header ({err})") from None
    if dtype.hasobject:
        raise TrajectoryError(
            f"{path}: array {name!r} holds Python objects (a pickle); "
            "refused, trajectories hold numbers and text only"
        )
    if any(d < 0 for d in shape):
        raise TrajectoryError(f"{path}: array {name!r} declares the negative shape {shape}")
    # Python integers: a product of hostile dimensions cannot wrap around.
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        raise TrajectoryError(
            f"{path}: array {name!r} declares shape {shape} ({nbytes} bytes), "
            f"more than a trajectory may hold ({MAX_ARRAY_BYTES} bytes in all); "
            "refused before reading it"
        )
    return tuple(shape), bool(fortran), dtype, nbytes


def _check_member_size(path: Path, name: str, shape: tuple[int, ...], nbytes: int,
                       info: zipfile.ZipInfo) -> None:
    if nbytes > info.file_size:
        raise TrajectoryError(
            f"{path}: array {name!r} declares shape {shape} ({nbytes} bytes) "
            f"but its member holds {info.file_size} bytes"
        )


def _read_data(f: Any, path: Path, name: str, nbytes: int) -> bytes:
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise TrajectoryError(f"{path}: array {name!r} is truncated")
    return data


@dataclass(frozen=True)
class _Member:
    """An array of a trajectory file not read yet: its member and what its header declares.

    ``stamp`` identifies the file's contents when it was loaded; reading the member from a
    file replaced since (an atomic save renames a new file over it) is refused.
    """

    path: Path
    member: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    stamp: tuple[int, int, int, int]

    @property
    def name(self) -> str:
        return self.member[: -len(".npy")]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @contextlib.contextmanager
    def _open(self) -> Iterator[tuple[Any, int]]:
        """The member's stream positioned after its header, and its data's size in bytes."""
        with _reading(self.path), open(self.path, "rb") as raw:
            if _stamp(raw) != self.stamp:
                raise TrajectoryError(
                    f"{self.path}: the file changed since it was loaded lazily; load it again"
                )
            with zipfile.ZipFile(raw) as zf, zf.open(self.member) as f:
                info = zf.getinfo(self.member)
                shape, fortran, dtype, nbytes = _header(f, self.path, self.name, info)
                _check_member_size(self.path, self.name, shape, nbytes, info)
                if (shape, fortran, dtype) != (self.shape, self.fortran, self.dtype):
                    raise TrajectoryError(
                        f"{self.path}: the file changed since it was loaded lazily; load it again"
                    )
                yield f, nbytes
                f.read()  # to the end, so zipfile checks the CRC

    def read(self) -> np.ndarray:
        """The whole array (a writable copy)."""
        with self._open() as (f, nbytes):
            data = _read_data(f, self.path, self.name, nbytes)
        a = np.frombuffer(data, dtype=self.dtype)
        return a.reshape(self.shape, order="F" if self.fortran else "C").copy()

    def rows(self, chunk: int) -> Iterator[np.ndarray]:
        """Consecutive blocks of at most ``chunk`` rows (first axis), read as they come."""
        if self.fortran or not self.shape:
            yield self.read()
            return
        row = math.prod(self.shape[1:]) * self.dtype.itemsize
        with self._open() as (f, _):
            for start in range(0, self.shape[0], chunk):
                k = min(chunk, self.shape[0] - start)
                data = _read_data(f, self.path, self.name, k * row)
                yield np.frombuffer(data, dtype=self.dtype).reshape(k, *self.shape[1:])


def _read_npz(
    path: Path, defer: Callable[[str], bool] | None = None
) -> dict[str, np.ndarray | _Member]:
    """Read every array of an ``.npz`` without unpickling, checking headers first.

    Arrays whose name ``defer`` accepts are not read: their headers are checked and a
    :class:`_Member` stands for each.
    """
    arrays: dict[str, np.ndarray | _Member] = {}
    total = 0
    with _reading(path), open(path, "rb") as raw, zipfile.ZipFile(raw) as zf:
        stamp = _stamp(raw)
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
                shape, fortran, dtype, nbytes = _header(f, path, name, info)
                total += nbytes
                if total > MAX_ARRAY_BYTES:
                    raise TrajectoryError(
                        f"{path}: array {name!r} declares shape {shape} ({nbytes} bytes), "
                        f"more than a trajectory may hold ({MAX_ARRAY_BYTES} bytes in all); "
                        "refused before reading it"
                    )
                _check_member_size(path, name, shape, nbytes, info)
                if defer is not None and defer(name):
                    arrays[name] = _Member(path, info.filename, shape, dtype, fortran, stamp)
                    continue
                data = _read_data(f, path, name, nbytes)
                a = np.frombuffer(data, dtype=dtype)
                a = a.reshape(shape, order="F" if fortran else "C").copy()
                f.read()  # to the end, so zipfile checks the CRC
            arrays[name] = a
    return arrays


def _is_image(name: str) -> bool:
    return name.startswith(IMAGE_PREFIXES)


class LazyArrays(MutableMapping):
    """A trajectory's named arrays, some read from its file only when first accessed.

    What ``Trajectory.load(path, lazy=True)`` gives as :attr:`Trajectory.arrays`: the
    hidden-layer images (names starting with :data:`IMAGE_PREFIXES`) stay in the file until
    ``arrays[name]`` reads one (then it is kept). ``name in arrays``, iteration and
    :meth:`peek` read nothing. Reading from a file replaced since the load raises
    :class:`~geomcore.errors.TrajectoryError`.
    """

    def __init__(self, items: dict[str, np.ndarray | _Member]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> np.ndarray:
        a = self._items[name]
        if isinstance(a, _Member):
            a = self._items[name] = a.read()
        return a

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._items[name] = value

    def __delitem__(self, name: str) -> None:
        del self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def is_loaded(self, name: str) -> bool:
        """Whether array ``name`` is in memory."""
        return not isinstance(self._items[name], _Member)

    def peek(self, name: str) -> Any:
        """The array if in memory, else an object with its ``shape``, ``dtype`` and ``ndim``."""
        return self._items[name]

    def rows(self, name: str, chunk: int) -> Iterator[np.ndarray]:
        """Array ``name`` in blocks of at most ``chunk`` rows, streamed from the file if it
        is not in memory (memory bounded by one block)."""
        a = self._items[name]
        if isinstance(a, _Member):
            yield from a.rows(chunk)
        else:
            for start in range(0, a.shape[0], chunk):
                yield a[start : start + chunk]


@dataclass
class Trajectory:
    """A recorded training run; see the module docstring for the schema.

    Parameters
    ----------
    arrays
        The named arrays (a :class:`LazyArrays` when loaded with ``lazy=True``).
    metadata
        JSON-able metadata with at least the keys in :data:`METADATA_KEYS`.

    Raises
    ------
    TrajectoryError
        If arrays or metadata do not follow the schema.
    """

    arrays: MutableMapping[str, np.ndarray]
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
            # Shape and dtype only: a lazily loaded image stays in its file.
            a = self._peek(name)
            if not isinstance(a, (np.ndarray, _Member)) or a.dtype.kind not in kind:
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
        t = s
        if "image_snapshots" in self.arrays:
            at = need("image_snapshots", (None,), "iu")
            t = at.shape[0]
            if t < 1 or at[0] < 0 or at[-1] >= s or np.any(at[1:] <= at[:-1]):
                raise fail(f"array 'image_snapshots' must hold increasing snapshot indices "
                           f"0 to {s - 1} (got {t} values from {at[:1]} to {at[-1:]})")
        for n, w in zip(names[:-1], widths[:-1]):
            need(f"probe.{n}", (t, p, w), "f")
            need(f"grid.{n}", (t, g, m, w), "f")

    def _peek(self, name: str) -> Any:
        """Array ``name``, or what its header says if a lazy load left it in the file."""
        arrays = self.arrays
        return arrays.peek(name) if isinstance(arrays, LazyArrays) else arrays[name]

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
    def load(cls, path: str | os.PathLike[str], *, lazy: bool = False) -> Trajectory:
        """Read and validate a trajectory file without unpickling anything.

        Parameters
        ----------
        path
            The ``.npz`` file.
        lazy
            Leave the hidden-layer images (``probe.*``, ``grid.*``) in the file until first
            used (:class:`LazyArrays`); their headers are checked now, their data (and its
            CRC) when read. Weights, metrics and inputs are read now either way.

        Raises
        ------
        TrajectoryError
            If the file is missing, not a zip of ``.npy`` arrays, truncated or corrupted
            (CRC), holds object arrays, declares arrays larger than it holds, or does not
            follow the schema (missing arrays, wrong shapes, other schema version). The
            message names the file.
        """
        path = Path(path)
        arrays = _read_npz(path, defer=_is_image if lazy else None)
        meta = arrays.pop("metadata", None)
        if not isinstance(meta, np.ndarray) or meta.dtype.kind != "U" or meta.shape != ():
            raise TrajectoryError(f"{path}: missing metadata; not a geomcore trajectory")
        try:
            metadata = json.loads(str(meta))
        except json.JSONDecodeError as err:
            raise TrajectoryError(f"{path}: metadata is not valid JSON ({err})") from None
        traj = cls.__new__(cls)
        traj.arrays = LazyArrays(arrays) if lazy else arrays  # type: ignore[assignment]
        traj.metadata = metadata
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

    @property
    def image_snapshots(self) -> np.ndarray:
        """Indices of the snapshots whose hidden images are stored, shape (T,), int64.

        Row ``i`` of every ``probe.<layer>`` and ``grid.<layer>`` array belongs to snapshot
        ``image_snapshots[i]``; all snapshots (``0..S-1``) unless the run was thinned.
        """
        at = self.arrays.get("image_snapshots")
        if at is None:
            return np.arange(self.n_snapshots, dtype=np.int64)
        return np.asarray(at, dtype=np.int64)

    @property
    def images_thinned(self) -> bool:
        """Whether some snapshot's hidden images are not stored (see :attr:`image_snapshots`)."""
        return self.image_snapshots.shape[0] < self.n_snapshots

    def snapshot_rows(self, name: str, chunk: int = 64) -> Iterator[np.ndarray]:
        """Array ``name`` in consecutive blocks of at most ``chunk`` rows (first axis).

        A lazily loaded image is streamed from the file block by block, so memory holds one
        block, not the array.
        """
        arrays = self.arrays
        if isinstance(arrays, LazyArrays):
            yield from arrays.rows(name, chunk)
            return
        a = arrays[name]
        for start in range(0, a.shape[0], chunk):
            yield a[start : start + chunk]

    def images(self, layer: str, snapshot: int) -> tuple[np.ndarray, np.ndarray]:
        """Probe points' and grid lines' images in a hidden layer at one snapshot.

        The stored images when :attr:`image_snapshots` holds the snapshot, else the forward
        pass of the snapshot's weights (:meth:`geomcore.geometry.Network.forward`), as float32
        like the stored ones.

        Returns
        -------
        probe : ndarray of shape (P, units)
        grid : ndarray of shape (G, M, units)

        Raises
        ------
        IndexError
            If there is no such snapshot.
        ValueError
            If ``layer`` is not a hidden layer.
        """
        if layer not in self.hidden_layer_names:
            raise ValueError(f"no hidden layer {layer!r}; expected one of "
                             f"{self.hidden_layer_names}")
        net = self.network(snapshot)
        snapshot %= self.n_snapshots
        at = self.image_snapshots
        row = int(np.searchsorted(at, snapshot))
        if row < at.shape[0] and at[row] == snapshot:
            return self.arrays[f"probe.{layer}"][row], self.arrays[f"grid.{layer}"][row]
        grid_in = self.grid_inputs
        probe = net.forward(self.probe_inputs, upto=layer).astype(np.float32)
        grid = net.forward(grid_in.reshape(-1, 2), upto=layer).astype(np.float32)
        return probe, grid.reshape(*grid_in.shape[:2], -1)

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
