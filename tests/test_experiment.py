"""geomcore.experiment: the shipped experiments and the validation of experiment files."""

from __future__ import annotations

import pytest

from geomcore.errors import ExperimentError, GeomcoreError
from geomcore.experiment import (
    EXPERIMENTS_DIR,
    Experiment,
    find_experiment,
    list_experiments,
    load_experiment,
)

#: The lecture's experiments: first hidden width and learning rate.
LECTURE = {"circles-2d": (2, 0.001), "circles-3d": (3, 0.005), "circles-4d": (4, 0.005)}


# -- the shipped experiments --------------------------------------------------------------


def test_the_three_lecture_experiments_are_shipped():
    assert {"circles-2d", "circles-3d", "circles-4d"} <= set(list_experiments())


@pytest.mark.parametrize(("name", "width", "lr"), [(n, w, lr) for n, (w, lr) in LECTURE.items()])
def test_shipped_experiment_is_the_briefs(name, width, lr):
    e = find_experiment(name)
    assert e.name == name
    assert e.source == str(EXPERIMENTS_DIR / f"{name}.toml")
    assert e.model.hidden_widths == (width, 2)
    assert e.model.activation == "tanh"
    assert e.viewed_width == 2
    assert e.training.learning_rate == lr
    assert e.training.epochs == 100
    assert e.training.batch_size == 32
    assert e.training.loss == "mse"
    assert e.training.optimizer == "sgd"
    assert e.training.momentum == 0.0
    assert e.dataset.name == "concentric_circles"
    assert e.dataset.params == {
        "n_per_class": 20_000, "outer_radius": 1.0, "inner_radius": 0.5, "noise": 0.005,
    }
    assert e.recording.probe_size == 2_000
    assert e.grid.lines == 21 and e.grid.samples >= 200


def test_find_experiment_by_path_equals_by_name():
    by_path = find_experiment(EXPERIMENTS_DIR / "circles-3d.toml")
    assert by_path == find_experiment("circles-3d")
    assert by_path.config_hash() == find_experiment("circles-3d").config_hash()


def test_unknown_experiment_name_suggests_a_close_one():
    with pytest.raises(ExperimentError) as info:
        find_experiment("circles-3")
    message = str(info.value)
    assert "'circles-3'" in message and "did you mean circles-3d" in message


def test_missing_experiment_file_is_named(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ExperimentError, match="no such experiment file") as info:
        find_experiment(path)
    assert str(path) in str(info.value)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(path) in str(info.value)


def test_invalid_toml_is_named(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n[model\n")
    with pytest.raises(ExperimentError, match="not valid TOML") as info:
        load_experiment(path)
    assert str(path) in str(info.value)


# -- reading files ------------------------------------------------------------------------


def test_round_trip_through_toml(write_experiment, tiny_dict):
    path = write_experiment(tiny_dict)
    e = load_experiment(path)
    assert e.name == "tiny" and e.seed == 3 and e.source == str(path)
    assert e.dataset.params == {"n_per_class": 200}
    assert e.model.hidden_widths == (3, 2)
    assert e.training.learning_rate == 0.05 and e.training.epochs == 3
    assert e.recording.probe_size == 100
    # Unset values take the documented defaults.
    assert e.grid.lines == 21 and e.grid.samples == 200 and e.grid.padding == 0.1
    assert Experiment.from_dict(e.to_dict()) == e


def test_name_defaults_to_the_file_stem(write_experiment, tiny_dict):
    del tiny_dict["name"]
    assert load_experiment(write_experiment(tiny_dict, "my-run.toml")).name == "my-run"


def test_integer_where_a_float_is_expected_is_accepted(write_experiment, tiny_dict):
    tiny_dict["training"]["learning_rate"] = 1
    tiny_dict["dataset"]["noise"] = 0
    e = load_experiment(write_experiment(tiny_dict))
    assert e.training.learning_rate == 1.0 and isinstance(e.training.learning_rate, float)
    assert e.dataset.params["noise"] == 0.0


@pytest.mark.parametrize(
    ("section", "key", "shown"),
    [
        ("training", "foo", "training.foo"),
        ("", "colour", "colour"),
        ("model", "dropout", "model.dropout"),
        ("dataset", "radius", "dataset.radius"),
        ("grid", "line", "grid.line"),
    ],
)
def test_unknown_key_names_file_and_key(write_experiment, tiny_dict, section, key, shown):
    (tiny_dict.setdefault(section, {}) if section else tiny_dict)[key] = 1
    path = write_experiment(tiny_dict)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert f"unknown key {shown!r}" in message


@pytest.mark.parametrize(
    ("section", "key", "suggestion"),
    [
        ("training", "lr", "learning_rate"),
        ("training", "n_epochs", "epochs"),
        ("training", "batchsize", "batch_size"),
        ("model", "widths", "hidden_widths"),
        ("grid", "sample", "samples"),
    ],
)
def test_misspelt_key_gets_a_suggestion(write_experiment, tiny_dict, section, key, suggestion):
    tiny_dict.setdefault(section, {})[key] = 0.01 if key == "lr" else 2
    path = write_experiment(tiny_dict)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert str(path) in message and f"{section}.{key}" in message
    assert f"did you mean {suggestion}" in message


@pytest.mark.parametrize(
    ("section", "key", "value", "shown_key", "shown_value"),
    [
        # wrong types
        ("training", "epochs", "100", "training.epochs", "'100'"),
        ("training", "epochs", 2.5, "training.epochs", "2.5"),
        ("training", "learning_rate", "fast", "training.learning_rate", "'fast'"),
        ("", "seed", True, "seed", "True"),
        ("model", "hidden_widths", 3, "model.hidden_widths", "3"),
        ("model", "hidden_widths", [3, "2"], "model.hidden_widths", "[3, '2']"),
        ("dataset", "n_per_class", 200.0, "dataset.n_per_class", "200.0"),
        # invalid values
        ("model", "hidden_widths", [3, 0], "model.hidden_widths", "[3, 0]"),
        ("model", "hidden_widths", [-3, 2], "model.hidden_widths", "[-3, 2]"),
        ("model", "hidden_widths", [], "model.hidden_widths", "[]"),
        ("model", "hidden_widths", [3, 4], "model.hidden_widths", "[3, 4]"),
        ("model", "hidden_widths", [2, 1], "model.hidden_widths", "[2, 1]"),
        ("model", "activation", "softplus", "model.activation", "'softplus'"),
        ("dataset", "name", "circles", "dataset.name", "'circles'"),
        ("training", "optimizer", "rmsprop", "training.optimizer", "'rmsprop'"),
        ("training", "loss", "hinge", "training.loss", "'hinge'"),
        ("training", "learning_rate", 0, "training.learning_rate", "0.0"),
        ("training", "learning_rate", -0.1, "training.learning_rate", "-0.1"),
        ("training", "batch_size", 0, "training.batch_size", "0"),
        ("training", "epochs", -1, "training.epochs", "-1"),
        ("training", "momentum", 1.5, "training.momentum", "1.5"),
        ("", "seed", -1, "seed", "-1"),
        ("dataset", "n_per_class", 0, "dataset.n_per_class", "0"),
        ("dataset", "noise", -0.5, "noise", "-0.5"),
        ("dataset", "inner_radius", 2.0, "inner_radius", "2.0"),
        ("recording", "probe_size", 1, "recording.probe_size", "1"),
        ("recording", "snapshot_every_steps", -5, "recording.snapshot_every_steps", "-5"),
        ("grid", "lines", 1, "grid.lines", "1"),
        ("grid", "samples", 50, "grid.samples", "50"),
        ("grid", "padding", 2.0, "grid.padding", "2.0"),
    ],
)
def test_invalid_value_names_file_key_value_and_expectation(
    write_experiment, tiny_dict, section, key, value, shown_key, shown_value
):
    (tiny_dict.setdefault(section, {}) if section else tiny_dict)[key] = value
    path = write_experiment(tiny_dict)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert shown_key in message
    assert shown_value in message
    assert "expected" in message or "Received" in message
    assert isinstance(info.value, GeomcoreError) and isinstance(info.value, ValueError)


def test_viewed_layer_of_four_units_is_explained(write_experiment, tiny_dict):
    tiny_dict["model"]["hidden_widths"] = [3, 4]
    with pytest.raises(ExperimentError) as info:
        load_experiment(write_experiment(tiny_dict))
    assert "before the sigmoid unit" in str(info.value)
    assert "2 units" in str(info.value) and "3 units" in str(info.value)


def test_a_three_unit_viewed_layer_is_allowed(make_tiny):
    assert make_tiny(model={"hidden_widths": [4, 3]}).viewed_width == 3


def test_momentum_needs_sgd(make_tiny):
    with pytest.raises(ExperimentError, match="training.momentum"):
        make_tiny(training={"optimizer": "adam", "momentum": 0.9})
    assert make_tiny(training={"momentum": 0.9}).training.momentum == 0.9


def test_section_that_is_not_a_table(write_experiment, tiny_dict, tmp_path):
    path = tmp_path / "flat.toml"
    path.write_text('name = "x"\nmodel = 3\n')
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "model" in str(info.value)


def test_direct_construction_is_validated():
    with pytest.raises(ExperimentError, match="seed = -2"):
        Experiment(name="direct", seed=-2)
    with pytest.raises(ExperimentError, match="name"):
        Experiment(name="a/b")


# -- configuration hash -------------------------------------------------------------------


def test_config_hash_is_stable_and_independent_of_the_source(write_experiment, tiny_dict):
    a = load_experiment(write_experiment(tiny_dict, "a.toml"))
    b = load_experiment(write_experiment(tiny_dict, "b.toml"))
    c = Experiment.from_dict(tiny_dict)
    assert a.source != b.source
    assert a.config_hash() == b.config_hash() == c.config_hash()
    assert len(a.config_hash()) == 64 and int(a.config_hash(), 16) >= 0
    # Stable across processes: a pure function of the configuration.
    shipped = find_experiment("circles-3d")
    assert shipped.config_hash() == find_experiment("circles-3d").config_hash()


CHANGES = [
    {"name": "tiny2"},
    {"seed": 4},
    {"description": "other words"},
    {"dataset": {"n_per_class": 201}},
    {"dataset": {"noise": 0.006}},
    {"dataset": {"name": "two_moons"}},
    {"model": {"hidden_widths": [4, 2]}},
    {"model": {"hidden_widths": [3, 3, 2]}},
    {"model": {"activation": "relu"}},
    {"training": {"loss": "binary_crossentropy"}},
    {"training": {"optimizer": "adam"}},
    {"training": {"learning_rate": 0.0500001}},
    {"training": {"momentum": 0.5}},
    {"training": {"batch_size": 16}},
    {"training": {"epochs": 4}},
    {"recording": {"snapshot_every_steps": 5}},
    {"recording": {"dense_epochs": 1}},
    {"recording": {"probe_size": 102}},
    {"grid": {"lines": 11}},
    {"grid": {"samples": 201}},
    {"grid": {"padding": 0.2}},
]


def test_config_hash_changes_with_any_value(make_tiny):
    base = make_tiny().config_hash()
    hashes = {base}
    for change in CHANGES:
        h = make_tiny(**change).config_hash()
        assert h != base, change
        hashes.add(h)
    assert len(hashes) == len(CHANGES) + 1  # all different from each other too


def test_to_dict_round_trips_through_from_dict(make_tiny):
    # The trajectory metadata stores to_dict(); it must rebuild the same experiment.
    for e in (make_tiny(), find_experiment("circles-2d")):
        again = Experiment.from_dict(e.to_dict())
        assert again == e and again.config_hash() == e.config_hash()
        assert again.dataset.params == e.dataset.params


def test_replace_is_validated(make_tiny):
    e = make_tiny()
    assert e.replace(seed=9).seed == 9
    with pytest.raises(ExperimentError):
        e.replace(seed=-1)


def test_shipped_hashes_are_unchanged():
    # Recorded trajectories are found by these hashes; changing them re-records every run.
    assert {n: find_experiment(n).config_hash()[:16] for n in list_experiments()} == {
        "circles-2d": "38612bb63f931ade",
        "circles-3d": "21f471390d6e8a7f",
        "circles-4d": "7b1ac6e9e678de45",
        "circles-relu": "889a9741a4b580d8",
        "blobs-4": "2cae6159f065076d",
        "sine-2": "b6176df344c8d1b9",
        "spirals-3": "146164281c6681b0",
    }


# -- the user's own data: dataset "csv" ---------------------------------------------------

CSV = "x1,x2,label\n-1,0,0\n-0.9,0.1,0\n1,0,1\n0.9,-0.1,1\n"


def csv_experiment(tiny_dict, folder):
    tiny_dict["dataset"] = {"name": "csv", "path": "points.csv"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "points.csv").write_text(CSV)
    path = folder / "exp.toml"
    from conftest import to_toml

    path.write_text(to_toml(tiny_dict))
    return path


def test_csv_path_is_relative_to_the_experiment_file(tiny_dict, tmp_path, monkeypatch):
    path = csv_experiment(tiny_dict, tmp_path / "course")
    monkeypatch.chdir(tmp_path)  # not the experiment's folder
    e = load_experiment(path)
    assert e.dataset.name == "csv"
    assert e.dataset.params == {"path": str((tmp_path / "course" / "points.csv").resolve())}
    assert Experiment.from_dict(e.to_dict()) == e


def test_csv_config_hash_follows_the_files_bytes_not_its_place(tiny_dict, tmp_path):
    e = load_experiment(csv_experiment(tiny_dict, tmp_path / "a"))
    moved = load_experiment(csv_experiment(tiny_dict, tmp_path / "b"))
    assert e.dataset.params != moved.dataset.params
    assert e.config_hash() == moved.config_hash()
    (tmp_path / "b" / "points.csv").write_text(CSV + "0,1,1\n")
    assert load_experiment(tmp_path / "b" / "exp.toml").config_hash() != e.config_hash()


@pytest.mark.parametrize(("csv_text", "fragments"), [
    (None, ["points.csv: no such CSV file"]),
    ("x1,label\n0,1\n", ["line 1", "missing column(s) ['x2']"]),
    ("x1,x2,label\n0,0,0\n0,zero,1\n", ["line 3", "column 'x2'", "'zero' is not a number"]),
    ("x1,x2,label\n0,0,0\n0,NaN,1\n", ["line 3", "column 'x2'", "not finite"]),
    ("x1,x2,label\n0,0,1\n1,0,1\n", ["every point has label 1"]),
    ("x1,x2,label\n0,0,0\n1,0,1\n2,0,3\n", ["line 4", "column 'label'", "must be 0 or 1"]),
])
def test_bad_csv_in_an_experiment_names_both_files(tiny_dict, tmp_path, csv_text, fragments):
    path = csv_experiment(tiny_dict, tmp_path)
    if csv_text is None:
        (tmp_path / "points.csv").unlink()
    else:
        (tmp_path / "points.csv").write_text(csv_text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(f"{path}: [dataset] ")
    for fragment in fragments:
        assert fragment in message


def test_csv_experiment_needs_a_path_of_text(tiny_dict, write_experiment):
    tiny_dict["dataset"] = {"name": "csv"}
    with pytest.raises(ExperimentError, match="needs a file"):
        load_experiment(write_experiment(tiny_dict))
    tiny_dict["dataset"]["path"] = 3
    with pytest.raises(ExperimentError, match=r"dataset.path = 3 is invalid; expected a string"):
        load_experiment(write_experiment(tiny_dict))


@pytest.mark.parametrize(("change", "shown"), [
    ({"seed": 2**32}, "seed = 4294967296"),
    ({"name": ".hidden"}, "name = '.hidden'"),
    ({"name": "a\\b"}, "name = " + repr("a\\b")),
    ({"dataset": {"name": "two_spirals", "turns": 1e308}}, "dataset = "),
])
def test_values_that_would_fail_later_are_refused_now(make_tiny, change, shown):
    with pytest.raises(ExperimentError) as info:
        make_tiny(**change)
    assert shown in str(info.value) and "expected" in str(info.value)
