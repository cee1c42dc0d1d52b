"""Experiment definitions: a validated dataclass read from a TOML file.

An experiment says which data, which network, how it is trained and what is recorded. The
shipped ones live in ``data/experiments/*.toml``. Every key is checked: an unknown key, a
wrong type or an invalid value raises :class:`ExperimentError` naming the file, the key, the
value received and what was expected. Numpy and the standard library only.

The dataset ``csv`` reads the user's points from a file: ``[dataset] name = "csv"`` and
``path = "points.csv"``, relative to the experiment file. The configuration hash of such an
experiment covers the file's bytes (not its path), so an edited CSV records a new trajectory.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import reprlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geomcore.datasets import DATASETS, dataset_parameters, file_hash
from geomcore.errors import DatasetError, ExperimentError

__all__ = [
    "ACTIVATIONS",
    "EXPERIMENTS_DIR",
    "LOSSES",
    "OPTIMIZERS",
    "DatasetConfig",
    "Experiment",
    "GridConfig",
    "ModelConfig",
    "RecordingConfig",
    "TrainingConfig",
    "find_experiment",
    "list_experiments",
    "load_experiment",
]

#: Folder of the shipped experiment files.
EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "data" / "experiments"

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "abs")
LOSSES = ("mse", "binary_crossentropy")
OPTIMIZERS = ("sgd", "adam")

# Common misspellings and names from other tools, mapped to ours.
_ALIASES = {
    "lr": "learning_rate",
    "learningrate": "learning_rate",
    "widths": "hidden_widths",
    "width": "hidden_widths",
    "hidden": "hidden_widths",
    "layers": "hidden_widths",
    "batch": "batch_size",
    "batchsize": "batch_size",
    "n_epochs": "epochs",
    "num_epochs": "epochs",
    "random_seed": "seed",
    "random_state": "seed",
    "act": "activation",
    "n": "n_per_class",
    "n_samples": "n_per_class",
    "probe": "probe_size",
}


#: Largest seed: Keras seeds numpy's legacy generator, which takes 32-bit seeds.
MAX_SEED = 2**32 - 1

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = 8
_short.maxlevel = 3


def _show(value: object) -> str:
    """``repr(value)``, shortened so an error message stays one readable line."""
    return _short.repr(value)


class _Section:
    """Reads one TOML table, checking keys and types; errors name the file and key."""

    def __init__(self, source: str, prefix: str, table: object) -> None:
        self.source = source
        self.prefix = prefix
        if not isinstance(table, dict):
            raise ExperimentError(
                f"{source}: [{prefix}] must be a table. Received: {_show(table)}"
            )
        self.table = dict(table)
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, value: object, expected: str) -> ExperimentError:
        return ExperimentError(
            f"{self.source}: {self.key(name)} = {_show(value)} is invalid; expected {expected}"
        )

    def get(self, name: str, default: Any, kind: str) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(name, value, "an integer")
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(name, value, "a number")
            value = float(value)
        elif kind == "str":
            if not isinstance(value, str):
                raise self.fail(name, value, "a string")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(name, value, "true or false")
        elif kind == "table":
            if not isinstance(value, dict):
                raise self.fail(name, value, "a table")
        return value

    def finish(self) -> None:
        """Raise on the first key that was not read."""
        for name in self.table:
            if name not in self.used:
                raise ExperimentError(
                    f"{self.source}: unknown key {self.key(name)!r} = {_show(self.table[name])}"
                    f"{_suggest(str(name), self.used)}; expected one of {sorted(self.used)}"
                )


def _suggest(name: str, known: set[str]) -> str:
    alias = _ALIASES.get(name.lower().replace("-", "_"))
    known = {k for k in known if isinstance(k, str)}
    if alias in known:
        return f" (did you mean {alias}?)"
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


@dataclass(frozen=True)
class DatasetConfig:
    """Which dataset and its generator's keyword parameters (see :mod:`geomcore.datasets`)."""

    name: str = "concentric_circles"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """Dense network ``2 -> hidden_widths... -> 1 (sigmoid)``.

    ``hidden_widths[-1]`` is the layer the lecture views; it must be 2 (plane) or 3 (space).
    """

    hidden_widths: tuple[int, ...] = (3, 2)
    activation: str = "tanh"


@dataclass(frozen=True)
class TrainingConfig:
    """Loss, optimizer and schedule. ``learning_rate`` is per step; ``epochs`` full passes."""

    loss: str = "mse"
    optimizer: str = "sgd"
    learning_rate: float = 0.005
    momentum: float = 0.0
    batch_size: int = 32
    epochs: int = 100


@dataclass(frozen=True)
class RecordingConfig:
    """What is recorded besides one snapshot per epoch (and epoch 0).

    ``snapshot_every_steps`` = k > 0 adds a snapshot every k optimizer steps during the first
    ``dense_epochs`` epochs (all epochs when ``dense_epochs`` is 0). ``probe_size`` points,
    half of each class, are chosen with the experiment's seed and followed through the network.
    """

    snapshot_every_steps: int = 0
    dense_epochs: int = 0
    probe_size: int = 2_000


@dataclass(frozen=True)
class GridConfig:
    """Grid of ``lines`` horizontal and ``lines`` vertical lines over the data's bounding box.

    The box is padded by ``padding`` times its larger side on each edge; each line has
    ``samples`` points.
    """

    lines: int = 21
    samples: int = 200
    padding: float = 0.1


@dataclass(frozen=True)
class Experiment:
    """One training run: data, network, training, recording and grid.

    Build it with :func:`load_experiment` (from TOML) or directly; in both cases the values
    are validated on construction.

    Raises
    ------
    ExperimentError
        If any value is invalid; the message names the source, the key, the value and what
        was expected.
    """

    name: str
    seed: int = 0
    description: str = ""
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def viewed_width(self) -> int:
        """Width of the layer before the sigmoid unit (2 or 3)."""
        return self.model.hidden_widths[-1]

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-able data (``source`` excluded)."""
        d = dataclasses.asdict(self)
        d.pop("source")
        d["model"]["hidden_widths"] = list(self.model.hidden_widths)
        return d

    def config_hash(self) -> str:
        """SHA-256 (hex) of the full configuration, independent of where it was read from.

        For the ``csv`` dataset the file's path is replaced by the SHA-256 of its bytes, so
        a moved CSV keeps its hash and an edited one gets a new hash.

        Raises
        ------
        ExperimentError
            If the CSV file of a ``csv`` dataset cannot be read.
        """
        d = self.to_dict()
        if self.dataset.name == "csv":
            try:
                digest = file_hash(self.dataset.params.get("path", ""))
            except DatasetError as err:
                raise ExperimentError(f"{self.source}: [dataset] {err}") from None
            d["dataset"]["params"] = {"csv_sha256": digest}
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace(self, **changes: Any) -> Experiment:
        """A copy with top-level fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<memory>") -> Experiment:
        """Build from nested plain data, as read from TOML or :meth:`to_dict`.

        Raises
        ------
        ExperimentError
            On an unknown key, a wrong type or an invalid value.
        """
        top = _Section(source, "", data)
        name = top.get("name", None, "str")
        if name is None:
            name = Path(source).stem if source != "<memory>" else None
        if not name:
            raise ExperimentError(f"{source}: missing key 'name'; expected a string")
        seed = top.get("seed", 0, "int")
        description = top.get("description", "", "str")

        ds = _Section(source, "dataset", top.get("dataset", {}, "table"))
        ds_name = ds.get("name", DatasetConfig.name, "str")
        if ds_name not in DATASETS:
            raise ds.fail("name", ds_name, f"one of {sorted(DATASETS)}")
        allowed = dataset_parameters(ds_name)
        params = {}
        sections = [ds]
        if "params" in ds.table:  # the nested form to_dict() writes
            sections.append(_Section(source, "dataset.params", ds.get("params", {}, "table")))
        for section in sections:
            for key in list(section.table):
                if key in allowed:
                    default = allowed[key]
                    kind = (
                        "str" if isinstance(default, str)
                        else "int" if isinstance(default, int)
                        else "float"
                    )
                    params[key] = section.get(key, default, kind)
            section.used.update(allowed)
            section.finish()
        if ds_name == "csv" and params.get("path") and source != "<memory>":
            # A CSV named in an experiment file lives beside it (or where its path says).
            params["path"] = str((Path(source).parent / params["path"]).resolve())

        md = _Section(source, "model", top.get("model", {}, "table"))
        widths = md.get("hidden_widths", list(ModelConfig.hidden_widths), "list")
        if not isinstance(widths, list) or not widths:
            raise md.fail("hidden_widths", widths, "a non-empty list of positive integers")
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, int) or w < 1:
                raise md.fail("hidden_widths", widths, "a non-empty list of positive integers")
        activation = md.get("activation", ModelConfig.activation, "str")
        md.finish()

        tr = _Section(source, "training", top.get("training", {}, "table"))
        training = TrainingConfig(
            loss=tr.get("loss", TrainingConfig.loss, "str"),
            optimizer=tr.get("optimizer", TrainingConfig.optimizer, "str"),
            learning_rate=tr.get("learning_rate", TrainingConfig.learning_rate, "float"),
            momentum=tr.get("momentum", TrainingConfig.momentum, "float"),
            batch_size=tr.get("batch_size", TrainingConfig.batch_size, "int"),
            epochs=tr.get("epochs", TrainingConfig.epochs, "int"),
        )
        tr.finish()

        rc = _Section(source, "recording", top.get("recording", {}, "table"))
        recording = RecordingConfig(
            snapshot_every_steps=rc.get(
                "snapshot_every_steps", RecordingConfig.snapshot_every_steps, "int"
            ),
            dense_epochs=rc.get("dense_epochs", RecordingConfig.dense_epochs, "int"),
            probe_size=rc.get("probe_size", RecordingConfig.probe_size, "int"),
        )
        rc.finish()

        gr = _Section(source, "grid", top.get("grid", {}, "table"))
        grid = GridConfig(
            lines=gr.get("lines", GridConfig.lines, "int"),
            samples=gr.get("samples", GridConfig.samples, "int"),
            padding=gr.get("padding", GridConfig.padding, "float"),
        )
        gr.finish()
        top.finish()

        return cls(
            name=name,
            seed=seed,
            description=description,
            dataset=DatasetConfig(ds_name, params),
            model=ModelConfig(tuple(widths), activation),
            training=training,
            recording=recording,
            grid=grid,
            source=source,
        )


def _validate(e: Experiment) -> None:
    src = e.source

    def fail(key: str, value: object, expected: str) -> ExperimentError:
        return ExperimentError(f"{src}: {key} = {_show(value)} is invalid; expected {expected}")

    if (
        not isinstance(e.name, str)
        or not e.name
        or len(e.name) > 100
        or not e.name.isprintable()
        or any(c in e.name for c in "/\\")
        or e.name.startswith(".")
    ):
        raise fail("name", e.name, "a printable string of 1 to 100 characters without '/', "
                   "'\\' or a leading '.' (it names the trajectory file)")
    if isinstance(e.seed, bool) or not isinstance(e.seed, int) or not 0 <= e.seed <= MAX_SEED:
        raise fail("seed", e.seed, f"an integer in [0, {MAX_SEED}]")
    if e.dataset.name not in DATASETS:
        raise fail("dataset.name", e.dataset.name, f"one of {sorted(DATASETS)}")
    try:
        allowed = dataset_parameters(e.dataset.name)
        for key, value in e.dataset.params.items():
            if key not in allowed:
                raise fail(f"dataset.{key}", value, f"one of the keys {sorted(allowed)}")
        # Check values cheaply by generating one point per class.
        probe = dict(e.dataset.params)
        if "n_per_class" in probe:
            if (
                isinstance(probe["n_per_class"], bool)
                or not isinstance(probe["n_per_class"], int)
                or probe["n_per_class"] < 1
            ):
                raise fail("dataset.n_per_class", probe["n_per_class"], "a positive integer")
            probe["n_per_class"] = 1
        with np.errstate(all="raise"):
            x, _ = DATASETS[e.dataset.name](seed=0, **probe)
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"the parameters {_show(e.dataset.params)} give points that are "
                               "not finite; expected smaller values")
    except FloatingPointError:
        raise fail("dataset", e.dataset.params,
                   "parameters whose points are finite (a value overflows)") from None
    except DatasetError as err:
        raise ExperimentError(f"{src}: [dataset] {err}") from None

    widths = e.model.hidden_widths
    if (
        not isinstance(widths, tuple)
        or not widths
        or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)
    ):
        raise fail("model.hidden_widths", widths, "a non-empty list of positive integers")
    if widths[-1] not in (2, 3):
        raise fail(
            "model.hidden_widths",
            list(widths),
            "the last hidden layer (the one before the sigmoid unit, which the lecture "
            "views) to have 2 units (a plane) or 3 units (3-D space)",
        )
    if e.model.activation not in ACTIVATIONS:
        raise fail("model.activation", e.model.activation, f"one of {list(ACTIVATIONS)}")

    t = e.training
    if t.loss not in LOSSES:
        raise fail("training.loss", t.loss, f"one of {list(LOSSES)}")
    if t.optimizer not in OPTIMIZERS:
        raise fail("training.optimizer", t.optimizer, f"one of {list(OPTIMIZERS)}")
    if not (isinstance(t.learning_rate, float) and 0 < t.learning_rate < float("inf")):
        raise fail("training.learning_rate", t.learning_rate, "a positive finite number")
    if not (isinstance(t.momentum, float) and 0 <= t.momentum < 1):
        raise fail("training.momentum", t.momentum, "a number in [0, 1)")
    if t.momentum and t.optimizer != "sgd":
        raise fail("training.momentum", t.momentum, "0 unless optimizer = 'sgd'")
    for key in ("batch_size", "epochs"):
        value = getattr(t, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(f"training.{key}", value, "a positive integer")

    r = e.recording
    for key in ("snapshot_every_steps", "dense_epochs"):
        value = getattr(r, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(f"recording.{key}", value, "a non-negative integer")
    if isinstance(r.probe_size, bool) or not isinstance(r.probe_size, int) or r.probe_size < 2:
        raise fail("recording.probe_size", r.probe_size, "an integer >= 2")

    g = e.grid
    if isinstance(g.lines, bool) or not isinstance(g.lines, int) or g.lines < 2:
        raise fail("grid.lines", g.lines, "an integer >= 2")
    if isinstance(g.samples, bool) or not isinstance(g.samples, int) or g.samples < 200:
        raise fail("grid.samples", g.samples, "an integer >= 200 (smooth curves at 1080p)")
    if not (isinstance(g.padding, float) and 0 <= g.padding <= 1):
        raise fail("grid.padding", g.padding, "a number in [0, 1]")


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file.

    Parameters
    ----------
    path
        A ``.toml`` file. Without a ``name`` key the file's stem is the name.

    Raises
    ------
    ExperimentError
        If the file is missing or unreadable, is not valid TOML, or any key or value is
        invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ExperimentError(f"{path}: cannot read experiment file ({err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ExperimentError(f"{path}: not valid TOML ({err})") from None
    return Experiment.from_dict(data, source=str(path))


def list_experiments(directory: str | Path = EXPERIMENTS_DIR) -> list[str]:
    """Names of the experiment files in ``directory`` (their stems), sorted."""
    return sorted(p.stem for p in Path(directory).glob("*.toml"))


def find_experiment(
    name_or_path: str | Path, directory: str | Path = EXPERIMENTS_DIR
) -> Experiment:
    """Load a shipped experiment by name, or any experiment file by path.

    Raises
    ------
    ExperimentError
        If no such experiment exists, or the file is invalid.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise ExperimentError(f"{candidate}: no such experiment file")
        return load_experiment(candidate)
    path = Path(directory) / f"{name_or_path}.toml"
    if not path.is_file():
        names = list_experiments(directory)
        close = difflib.get_close_matches(str(name_or_path), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ExperimentError(
            f"unknown experiment {str(name_or_path)!r}{hint}; expected one of {names} "
            "or a path to a .toml file"
        )
    return load_experiment(path)
