"""geomcore.experiment: each key declared once on its field; the table built from them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from geomcore.errors import ExperimentError
from geomcore.experiment import (
    ACTIVATIONS,
    FIELDS,
    LOSSES,
    OPTIMIZERS,
    TRAINERS,
    Experiment,
    GridConfig,
    ModelConfig,
    TrainingConfig,
    _Section,
    load_experiment,
    option,
)


def _keys_of_the_dataclasses() -> list[str]:
    """Every key walked from the dataclasses themselves, independently of FIELDS."""
    keys = []
    for f in dataclasses.fields(Experiment):
        if f.name == "source":
            continue
        if dataclasses.is_dataclass(f.default_factory):  # a section: a table of keys
            keys += [f"{f.name}.{g.name}" for g in dataclasses.fields(f.default_factory)]
        else:
            keys.append(f.name)
    return keys


def test_every_field_is_in_the_table_in_file_order():
    assert list(FIELDS) == _keys_of_the_dataclasses()
    assert list(FIELDS)[:4] == ["name", "seed", "description", "dataset.name"]
    assert len(FIELDS) == 20  # 4 top-level keys (init_from last), 16 in five sections


def test_table_defaults_are_the_dataclass_defaults():
    e = Experiment(name="defaults")
    for key, spec in FIELDS.items():
        if key == "name":
            assert spec.default is dataclasses.MISSING  # the file's stem when absent
            continue
        section, _, name = key.rpartition(".")
        owner = getattr(e, section) if section else e
        assert getattr(owner, name) == spec.default, key
    assert FIELDS["training.learning_rate"].default == 0.005
    assert FIELDS["model.hidden_widths"].default == (3, 2)
    assert FIELDS["grid.samples"].kind == "int"
    assert FIELDS["grid.padding"].kind == "float"


def test_choice_lists_are_the_one_constants():
    assert FIELDS["model.activation"].choices == ACTIVATIONS
    assert FIELDS["training.loss"].choices == LOSSES
    assert FIELDS["training.optimizer"].choices == OPTIMIZERS
    assert FIELDS["training.optimizer"].expected == "one of ['sgd', 'adam']"
    assert "two_spirals" in FIELDS["dataset.name"].choices
    assert TRAINERS == ("engine", "fit")


#: A wrong-kind value for each kind, and the words the error uses for that kind.
WRONG_KIND = {"int": ("ten", "an integer"), "float": ("fast", "a number"),
              "str": (7, "a string"), "widths": ("3-2", "a non-empty list of positive integers"),
              "table": (3, "a table")}


@pytest.mark.parametrize("key", [k for k in FIELDS if k != "dataset.params"])
def test_every_key_in_the_table_is_read_and_type_checked(write_experiment, tiny_dict, key):
    section, _, name = key.rpartition(".")
    bad, words = WRONG_KIND[FIELDS[key].kind]
    (tiny_dict.setdefault(section, {}) if section else tiny_dict)[name] = bad
    path = write_experiment(tiny_dict)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(info.value) == f"{path}: {key} = {bad!r} is invalid; expected {words}"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("training.momentum", 1.0, "a number in [0, 1)"),
    ("training.batch_size", 0, "a positive integer"),
    ("recording.dense_epochs", -1, "a non-negative integer"),
    ("grid.lines", 1, "an integer >= 2"),
    ("model.activation", "gelu", f"one of {list(ACTIVATIONS)}"),
    ("training.loss", "hinge",
     "one of ['mse', 'binary_crossentropy', 'sparse_categorical_crossentropy']"),
])
def test_a_value_outside_the_declared_range_gives_the_declared_words(make_tiny, key, value,
                                                                     expected):
    section, _, name = key.split(".")[0], None, key.split(".")[1]
    with pytest.raises(ExperimentError) as info:
        make_tiny(**{section: {name: value}})
    assert str(info.value) == f"<memory>: {key} = {value!r} is invalid; expected {expected}"
    assert FIELDS[key].expected == expected


def test_direct_construction_checks_kinds_too():
    with pytest.raises(ExperimentError, match=r"training.epochs = 2.0 is invalid"):
        Experiment(name="x", training=TrainingConfig(epochs=2.0))
    with pytest.raises(ExperimentError, match=r"model.hidden_widths = \[3, 2\] is invalid"):
        Experiment(name="x", model=ModelConfig(hidden_widths=[3, 2]))
    with pytest.raises(ExperimentError, match=r"description = 3 is invalid; expected a string"):
        Experiment(name="x", description=3)
    assert Experiment(name="x", grid=GridConfig(padding=0.0)).grid.padding == 0.0


def test_an_unknown_key_is_still_an_error_with_a_suggestion(write_experiment, tiny_dict):
    tiny_dict["recording"]["probe"] = 10
    path = write_experiment(tiny_dict)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(info.value) == (
        f"{path}: unknown key 'recording.probe' = 10 (did you mean probe_size?); expected one "
        "of ['dense_epochs', 'probe_size', 'snapshot_every_steps']"
    )


# -- a new key is one line ----------------------------------------------------------------


@dataclass(frozen=True)
class WarmupConfig:
    """A section as a new feature would add it: each key one ``option`` line."""

    warmup_epochs: int = option(0, "int", check=lambda v: v >= 0,
                                expected="a non-negative integer")
    schedule: str = option("constant", choices=("constant", "cosine"))


def _read(table: dict) -> WarmupConfig:
    return _Section("new.toml", "warmup", table).read(WarmupConfig)


def test_a_new_section_is_read_from_its_declarations_alone():
    assert _read({}) == WarmupConfig(0, "constant")
    assert _read({"warmup_epochs": 3, "schedule": "cosine"}) == WarmupConfig(3, "cosine")
    with pytest.raises(ExperimentError) as info:
        _read({"warmup_epochs": "3"})
    assert str(info.value) == "new.toml: warmup.warmup_epochs = '3' is invalid; expected an integer"
    with pytest.raises(ExperimentError) as info:
        _read({"warmup_epoch": 3})
    assert "unknown key 'warmup.warmup_epoch'" in str(info.value)
    assert "did you mean warmup_epochs?" in str(info.value)


def test_option_refuses_a_default_it_would_refuse_in_a_file():
    with pytest.raises(ValueError, match="default=-1 is invalid; expected a non-negative"):
        option(-1, "int", check=lambda v: v >= 0, expected="a non-negative integer")
    with pytest.raises(ValueError, match="default='huber' is invalid; expected one of"):
        option("huber", choices=LOSSES)
    with pytest.raises(ValueError, match="kind='list' is unknown"):
        option([], "list")
