"""Experiment definitions: a validated dataclass read from a TOML file.

An experiment says which data, which network, how it is trained and what is recorded. The
shipped ones are package data, ``geomcore/data/experiments/*.toml`` (read through
:mod:`importlib.resources`, so an installed wheel finds them too). Every key is checked: an
unknown key, a wrong type or an invalid value raises :class:`ExperimentError` naming the file,
the key, the value received and what was expected. Numpy and the standard library only.

Each key is declared once, on its dataclass field, with :func:`option`: its kind, default and
allowed values. Reading TOML, validating, and the table :data:`FIELDS` are built from those
declarations, so a new key is one line in its section's dataclass.

The dataset ``csv`` reads the user's points from a file: ``[dataset] name = "csv"`` and
``path = "points.csv"``, relative to the experiment file. The configuration hash of such an
experiment covers the file's bytes (not its path), so an edited CSV records a new trajectory.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
import math
import os
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from geomcore.datasets import DATASETS, dataset_parameters, file_hash
from geomcore.errors import DatasetError, ExperimentError
from geomcore.textfile import read_toml

__all__ = [
    "ACTIVATIONS",
    "CATEGORICAL_LOSS",
    "EXPERIMENTS_DIR",
    "FIELDS",
    "LOSSES",
    "MAX_SEED",
    "OPTIMIZERS",
    "TRAINERS",
    "DatasetConfig",
    "Experiment",
    "FieldSpec",
    "GridConfig",
    "ModelConfig",
    "RecordingConfig",
    "TrainingConfig",
    "find_experiment",
    "list_experiments",
    "load_experiment",
    "option",
]

#: Folder of the shipped experiment files: package data, found wherever geomcore is installed.
#: A :class:`pathlib.Path` when geomcore is installed as files (a wheel, an editable install or
#: the checkout on ``sys.path``).
EXPERIMENTS_DIR: Traversable = files("geomcore") / "data" / "experiments"

# The names an experiment (or the ``geomcore`` command) may choose from; each list is defined
# here only: the validator, the model builder (geomcore.models) and the CLI read these.
#: Hidden-layer activations (``model.activation``); ``abs`` is ``|x|``, the others Keras'.
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "abs")
#: Losses (``training.loss``), Keras' losses of the same name. The first two train one
#: sigmoid output unit (two classes); ``sparse_categorical_crossentropy`` a softmax output of
#: K units, one per class of the data (labels 0 … K-1, K >= 2).
LOSSES = ("mse", "binary_crossentropy", "sparse_categorical_crossentropy")
#: The loss that makes the output a softmax of K units (:attr:`Experiment.softmax_output`).
CATEGORICAL_LOSS = "sparse_categorical_crossentropy"
#: Optimizers (``training.optimizer``): Keras' SGD (with ``training.momentum``) and Adam.
OPTIMIZERS = ("sgd", "adam")
#: Trainers that record an experiment (``geomcore train --trainer``): the in-graph engine and
#: Keras ``model.fit`` with the recording callback (see geomcore.training.record_experiment).
TRAINERS = ("engine", "fit")

#: Largest seed: Keras seeds numpy's legacy generator, which takes 32-bit seeds.
MAX_SEED = 2**32 - 1

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

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = 8
_short.maxlevel = 3


def _show(value: object) -> str:
    """``repr(value)``, shortened so an error message stays one readable line."""
    return _short.repr(value)


# -- kinds of values ----------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_widths(value: object) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(_is_int(w) and w >= 1 for w in value)
    )


@dataclass(frozen=True)
class _Kind:
    """How one kind of value is read from TOML and held in the dataclass."""

    read_ok: Callable[[object], bool]  # accepted as read from TOML
    read_expected: str  # what the error says when it is not
    convert: Callable[[Any], Any]  # TOML value -> held value
    held_ok: Callable[[object], bool]  # type check on the dataclass (direct construction too)


_KINDS: dict[str, _Kind] = {
    "int": _Kind(_is_int, "an integer", lambda v: v, _is_int),
    # TOML's 1 is an int: accepted where a float is expected, held as 1.0 (the hash sees 1.0).
    "float": _Kind(_is_number, "a number", float, lambda v: isinstance(v, float)),
    "str": _Kind(lambda v: isinstance(v, str), "a string", lambda v: v,
                 lambda v: isinstance(v, str)),
    "bool": _Kind(lambda v: isinstance(v, bool), "true or false", lambda v: v,
                  lambda v: isinstance(v, bool)),
    "table": _Kind(lambda v: isinstance(v, dict), "a table", dict,
                   lambda v: isinstance(v, dict)),
    # A TOML array of layer widths, held as a tuple (hashable, and the dataclass is frozen).
    "widths": _Kind(lambda v: isinstance(v, list) and _is_widths(v),
                    "a non-empty list of positive integers", tuple,
                    lambda v: isinstance(v, tuple) and _is_widths(v)),
}

#: Key of a field's declaration in ``dataclasses.Field.metadata``.
_RULE = "geomcore"


@dataclass(frozen=True)
class _Rule:
    kind: str
    expected: str
    check: Callable[[Any], bool]
    choices: tuple[str, ...]
    doc: str


def option(
    default: Any = dataclasses.MISSING,
    kind: str = "str",
    *,
    check: Callable[[Any], bool] | None = None,
    expected: str | None = None,
    choices: tuple[str, ...] = (),
    doc: str = "",
) -> Any:
    """Declare one experiment key: a dataclass field with its kind, default and allowed values.

    Parameters
    ----------
    default
        The value when the key is absent; omit it for a required key.
    kind
        ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"table"`` or ``"widths"`` (a
        non-empty list of positive integers, held as a tuple). A value of another type is an
        error naming the key and the kind.
    check
        Predicate a value of the right kind must satisfy; ``None`` accepts any.
    expected
        What a valid value is, in words, for error messages (``"a positive integer"``).
    choices
        The allowed values, for a key naming one of a fixed list (``check`` and ``expected``
        are then derived from it: ``"one of [...]"``).
    doc
        One line saying what the key means, with its unit.

    Returns
    -------
    dataclasses.Field
        To assign in a ``@dataclass`` body: ``epochs: int = option(100, "int", ...)``.

    Raises
    ------
    ValueError
        If ``kind`` is unknown or the default is not a valid value.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind={kind!r} is unknown; expected one of {sorted(_KINDS)}")
    if choices:
        allowed = tuple(choices)
        check = allowed.__contains__
        expected = expected or f"one of {list(allowed)}"
    rule = _Rule(kind, expected or _KINDS[kind].read_expected, check or (lambda v: True),
                 tuple(choices), doc)
    if default is not dataclasses.MISSING and not (
        _KINDS[kind].held_ok(default) and rule.check(default)
    ):
        raise ValueError(f"default={default!r} is invalid; expected {rule.expected}")
    if kind == "table":  # a mutable default needs a factory
        return field(default_factory=lambda: dict(default), metadata={_RULE: rule})
    return field(default=default, metadata={_RULE: rule})


@dataclass(frozen=True)
class FieldSpec:
    """One row of :data:`FIELDS`: an experiment key as declared on its dataclass field.

    Attributes
    ----------
    key
        Dotted TOML key, ``"training.learning_rate"`` (top-level keys have no dot).
    kind
        ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"table"`` or ``"widths"``.
    default
        Value when the key is absent (``dataclasses.MISSING`` for ``name``, which defaults
        to the file's stem).
    expected
        What a valid value is, as error messages say it.
    choices
        The allowed values of a key naming one of a fixed list, else ``()``.
    doc
        What the key means, with its unit.
    """

    key: str
    kind: str
    default: Any
    expected: str
    choices: tuple[str, ...]
    doc: str


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
        """The value of key ``name`` converted to ``kind`` (see :data:`_KINDS`), or ``default``."""
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        rules = _KINDS[kind]
        if not rules.read_ok(value):
            raise self.fail(name, value, rules.read_expected)
        return rules.convert(value)

    def read(self, cls: type) -> Any:
        """An instance of the section dataclass ``cls`` from this table; unknown keys fail."""
        values = {}
        for f in dataclasses.fields(cls):
            default = f.default
            if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            values[f.name] = self.get(f.name, default, _rule(f).kind)
        self.finish()
        return cls(**values)

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


def _rule(f: dataclasses.Field) -> _Rule:
    return f.metadata[_RULE]


def _is_section(f: dataclasses.Field) -> bool:
    """Whether an :class:`Experiment` field is a section (a TOML table with its own keys)."""
    return _RULE not in f.metadata and f.name != "source"


def _check_fields(obj: Any, prefix: str, fail: Callable[..., ExperimentError]) -> None:
    """Check each declared field of the dataclass ``obj`` against its kind and rule."""
    for f in dataclasses.fields(obj):
        if _RULE not in f.metadata:
            continue
        rule = _rule(f)
        value = getattr(obj, f.name)
        if not (_KINDS[rule.kind].held_ok(value) and rule.check(value)):
            raise fail(prefix + f.name, value, rule.expected)


def _valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 100
        and name.isprintable()
        and not any(c in name for c in "/\\")
        and not name.startswith(".")
    )


def _positive(value: float) -> bool:
    return value >= 1 if isinstance(value, int) else 0 < value < math.inf


# -- the sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetConfig:
    """Which dataset and its generator's keyword parameters (see :mod:`geomcore.datasets`).

    In TOML the parameters sit beside ``name`` in ``[dataset]`` (or in ``[dataset.params]``,
    the form :meth:`Experiment.to_dict` writes); the keys a dataset accepts are its
    generator's keyword arguments.
    """

    name: str = option("concentric_circles", choices=tuple(sorted(DATASETS)),
                       doc="dataset generator, or csv for the user's points")
    params: dict[str, Any] = option({}, "table",
                                    expected="the keyword parameters of the named dataset",
                                    doc="the generator's parameters (data units)")


@dataclass(frozen=True)
class ModelConfig:
    """Dense network ``2 -> hidden_widths... -> 1 (sigmoid)``.

    ``hidden_widths[-1]`` is the layer the lecture views; it must be 2 (plane) or 3 (space).
    """

    hidden_widths: tuple[int, ...] = option((3, 2), "widths",
                                            doc="units of each hidden layer, input side first")
    activation: str = option("tanh", choices=ACTIVATIONS, doc="activation of the hidden layers")


@dataclass(frozen=True)
class TrainingConfig:
    """Loss, optimizer and schedule. ``learning_rate`` is per step; ``epochs`` full passes."""

    loss: str = option("mse", choices=LOSSES,
                       doc="loss: on the sigmoid output, or on a softmax of K units "
                       "(sparse_categorical_crossentropy)")
    optimizer: str = option("sgd", choices=OPTIMIZERS, doc="Keras optimizer")
    learning_rate: float = option(0.005, "float", check=_positive,
                                  expected="a positive finite number", doc="step size")
    momentum: float = option(0.0, "float", check=lambda v: 0 <= v < 1,
                             expected="a number in [0, 1)", doc="SGD momentum (sgd only)")
    batch_size: int = option(32, "int", check=_positive, expected="a positive integer",
                             doc="points per optimizer step")
    epochs: int = option(100, "int", check=_positive, expected="a positive integer",
                         doc="full passes over the data")


@dataclass(frozen=True)
class RecordingConfig:
    """What is recorded besides one snapshot per epoch (and epoch 0).

    ``snapshot_every_steps`` = k > 0 adds a snapshot every k optimizer steps during the first
    ``dense_epochs`` epochs (all epochs when ``dense_epochs`` is 0). ``probe_size`` points,
    half of each class, are chosen with the experiment's seed and followed through the network.
    """

    snapshot_every_steps: int = option(0, "int", check=lambda v: v >= 0,
                                       expected="a non-negative integer",
                                       doc="extra snapshot every k steps (0: none)")
    dense_epochs: int = option(0, "int", check=lambda v: v >= 0,
                               expected="a non-negative integer",
                               doc="epochs with the extra snapshots (0: all)")
    probe_size: int = option(2_000, "int", check=lambda v: v >= 2, expected="an integer >= 2",
                             doc="points followed through the network")


@dataclass(frozen=True)
class GridConfig:
    """Grid of ``lines`` horizontal and ``lines`` vertical lines over the data's bounding box.

    The box is padded by ``padding`` times its larger side on each edge; each line has
    ``samples`` points.
    """

    lines: int = option(21, "int", check=lambda v: v >= 2, expected="an integer >= 2",
                        doc="grid lines in each direction")
    samples: int = option(200, "int", check=lambda v: v >= 200,
                          expected="an integer >= 200 (smooth curves at 1080p)",
                          doc="points along each grid line")
    padding: float = option(0.1, "float", check=lambda v: 0 <= v <= 1,
                            expected="a number in [0, 1]",
                            doc="margin around the data, a fraction of its larger side")


@dataclass(frozen=True)
class Experiment:
    """One training run: data, network, training, recording and grid.

    Build it with :func:`load_experiment` (from TOML) or directly; in both cases the values
    are validated on construction. A field declared with :func:`option` is a top-level key;
    a field holding a dataclass is a section (a TOML table) whose fields are its keys.

    Raises
    ------
    ExperimentError
        If any value is invalid; the message names the source, the key, the value and what
        was expected.
    """

    name: str = option(check=_valid_name,
                       expected="a printable string of 1 to 100 characters without '/', "
                       "'\\' or a leading '.' (it names the trajectory file)",
                       doc="names the run and its trajectory file (default: the file's stem)")
    seed: int = option(0, "int", check=lambda v: 0 <= v <= MAX_SEED,
                       expected=f"an integer in [0, {MAX_SEED}]",
                       doc="seeds the data, initial weights, batch order and probe points")
    description: str = option("", doc="one line for geomcore list")
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    init_from: str = option("", doc="start from this experiment's initial weights (a shipped "
                            "name or a .toml file; same layer shapes); empty: from seed")
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        _validate(self)

    @functools.cached_property
    def classes(self) -> int:
        """Number of classes K of the data, read from the data: the largest label + 1.

        Generates one point per class (``n_per_class = 1``) or reads the CSV file.
        """
        probe = dict(self.dataset.params)
        if "n_per_class" in probe:
            probe["n_per_class"] = 1
        _, y = DATASETS[self.dataset.name](seed=0, **probe)
        return int(np.max(y)) + 1

    @property
    def softmax_output(self) -> bool:
        """Whether the output layer is a softmax of :attr:`classes` units (the loss is
        ``sparse_categorical_crossentropy``) rather than one sigmoid unit."""
        return self.training.loss == CATEGORICAL_LOSS

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
        if not self.init_from:  # an unused init_from keeps the hashes (and caches) of before
            del d["init_from"]
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

        Every key is read as its field declares (:data:`FIELDS`); absent keys take their
        defaults and ``name`` defaults to the stem of ``source``.

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
        values: dict[str, Any] = {"name": name}
        for f in dataclasses.fields(cls):
            if f.name in ("name", "source"):
                continue
            if not _is_section(f):
                values[f.name] = top.get(f.name, f.default, _rule(f).kind)
                continue
            section = _Section(source, f.name, top.get(f.name, {}, "table"))
            section_type = f.default_factory
            values[f.name] = (
                _read_dataset(section) if section_type is DatasetConfig
                else section.read(section_type)
            )
        top.finish()
        return cls(**values, source=source)


def _read_dataset(ds: _Section) -> DatasetConfig:
    """``[dataset]``: its ``name``, then the parameters that dataset's generator accepts."""
    name_rule = _rule(DatasetConfig.__dataclass_fields__["name"])
    ds_name = ds.get("name", DatasetConfig.name, "str")
    if not name_rule.check(ds_name):
        raise ds.fail("name", ds_name, name_rule.expected)
    allowed = dataset_parameters(ds_name)
    params = {}
    sections = [ds]
    if "params" in ds.table:  # the nested form to_dict() writes
        sections.append(_Section(ds.source, "dataset.params", ds.get("params", {}, "table")))
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
    if ds_name == "csv" and params.get("path") and ds.source != "<memory>":
        # A CSV named in an experiment file lives beside it (or where its path says).
        params["path"] = str((Path(ds.source).parent / params["path"]).resolve())
    return DatasetConfig(ds_name, params)


def _validate(e: Experiment) -> None:
    src = e.source

    def fail(key: str, value: object, expected: str) -> ExperimentError:
        return ExperimentError(f"{src}: {key} = {_show(value)} is invalid; expected {expected}")

    # Kinds and allowed values, as each field declares them.
    _check_fields(e, "", fail)
    _check_fields(e.dataset, "dataset.", fail)
    try:
        allowed = dataset_parameters(e.dataset.name)
        for key, value in e.dataset.params.items():
            if key not in allowed:
                raise fail(f"dataset.{key}", value, f"one of the keys {sorted(allowed)}")
        # Check values cheaply by generating one point per class.
        probe = dict(e.dataset.params)
        if "n_per_class" in probe:
            if not _is_int(probe["n_per_class"]) or probe["n_per_class"] < 1:
                raise fail("dataset.n_per_class", probe["n_per_class"], "a positive integer")
            probe["n_per_class"] = 1
        with np.errstate(all="raise"):
            x, labels = DATASETS[e.dataset.name](seed=0, **probe)
        if not np.all(np.isfinite(x)):
            raise DatasetError(f"the parameters {_show(e.dataset.params)} give points that are "
                               "not finite; expected smaller values")
    except FloatingPointError:
        raise fail("dataset", e.dataset.params,
                   "parameters whose points are finite (a value overflows)") from None
    except DatasetError as err:
        raise ExperimentError(f"{src}: [dataset] {err}") from None
    for f in dataclasses.fields(e):
        if _is_section(f) and f.name != "dataset":
            _check_fields(getattr(e, f.name), f"{f.name}.", fail)

    # Rules that tie two keys together.
    widths = e.model.hidden_widths
    if widths[-1] not in (2, 3):
        raise fail(
            "model.hidden_widths",
            list(widths),
            "the last hidden layer (the one before the sigmoid unit, which the lecture "
            "views) to have 2 units (a plane) or 3 units (3-D space)",
        )
    if e.training.momentum and e.training.optimizer != "sgd":
        raise fail("training.momentum", e.training.momentum, "0 unless optimizer = 'sgd'")
    classes = int(np.max(labels)) + 1
    if classes > 2 and e.training.loss != CATEGORICAL_LOSS:
        raise fail("training.loss", e.training.loss,
                   f"'{CATEGORICAL_LOSS}' for a dataset of {classes} classes (a sigmoid unit "
                   "separates two)")


def _field_table() -> dict[str, FieldSpec]:
    table = {}

    def add(prefix: str, f: dataclasses.Field) -> None:
        rule = _rule(f)
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        key = prefix + f.name
        table[key] = FieldSpec(key, rule.kind, default, rule.expected, rule.choices, rule.doc)

    for f in dataclasses.fields(Experiment):
        if _is_section(f):
            for g in dataclasses.fields(f.default_factory):
                add(f"{f.name}.", g)
        elif f.name != "source":
            add("", f)
    return table


#: Every experiment key, dotted (``"training.epochs"``), in file order, as its dataclass field
#: declares it: kind, default, allowed values, meaning. Built from the fields, never edited.
FIELDS: dict[str, FieldSpec] = _field_table()


def load_experiment(path: str | Path | Traversable) -> Experiment:
    """Read and validate an experiment TOML file.

    Parameters
    ----------
    path
        A ``.toml`` file (or a package resource, such as ``EXPERIMENTS_DIR / "x.toml"``).
        Without a ``name`` key the file's stem is the name.

    Raises
    ------
    ExperimentError
        If the file is missing or unreadable, is not UTF-8 text (a byte-order mark is
        accepted; see :func:`geomcore.textfile.read_text`), is not valid TOML, or any key or
        value is invalid.
    """
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
    data = read_toml(path, what="experiment file", error=ExperimentError)
    return Experiment.from_dict(data, source=str(path))


def _folder(directory: str | Path | Traversable) -> Traversable:
    return Path(directory) if isinstance(directory, (str, os.PathLike)) else directory


def list_experiments(directory: str | Path | Traversable = EXPERIMENTS_DIR) -> list[str]:
    """Names of the experiment files in ``directory`` (their stems), sorted.

    Parameters
    ----------
    directory
        A folder; by default the shipped experiments (:data:`EXPERIMENTS_DIR`).
    """
    folder = _folder(directory)
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir()
                  if p.name.endswith(".toml") and p.is_file())


def find_experiment(
    name_or_path: str | Path, directory: str | Path | Traversable = EXPERIMENTS_DIR
) -> Experiment:
    """Load a shipped experiment by name, or any experiment file by path.

    Parameters
    ----------
    name_or_path
        A name in ``directory`` (``"circles-3d"``), or a path to a ``.toml`` file.
    directory
        Where names are looked up; by default the shipped experiments.

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
    path = _folder(directory) / f"{name_or_path}.toml"
    if not path.is_file():
        names = list_experiments(directory)
        close = difflib.get_close_matches(str(name_or_path), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ExperimentError(
            f"unknown experiment {str(name_or_path)!r}{hint}; expected one of {names} "
            "or a path to a .toml file"
        )
    return load_experiment(path)
