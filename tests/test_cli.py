"""The ``geomcore`` command: list, train, inspect; bad input gives one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import REPORT_IMPORT, assert_imported_checkout, child_env

import geomcore.training as training
from geomcore.cache import trajectory_path
from geomcore.cli import main
from geomcore.experiment import find_experiment, load_experiment
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

GEOMCORE = Path(sys.executable).with_name("geomcore")


#: Runs the installed command's script (argv[1]) as ``__main__`` after reporting the
#: ``geomcore`` it imports; stdout and stderr stay the command's own. The current folder,
#: which ``python -c`` puts first on the path, is taken off it as running the script would.
LAUNCH = "import sys\ndel sys.path[0]\n" + REPORT_IMPORT + (
    "import runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed ``geomcore`` command in a fresh process, on the checkout under test.

    The checkout goes first on the child's path and the test asserts the child imported it.
    """
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "imported"
        done = subprocess.run(
            [sys.executable, "-c", LAUNCH, str(GEOMCORE), *args], capture_output=True,
            text=True, timeout=300, env=child_env(report, **(env or {})),
        )
        assert_imported_checkout(report)
    return done


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_the_command_is_installed():
    assert GEOMCORE.is_file()
    done = run("--help")
    assert done.returncode == 0
    for command in ("list", "train", "inspect"):
        assert command in done.stdout


# -- list ---------------------------------------------------------------------------------


def test_list_shows_the_three_experiments(runner):
    result = runner.invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    for name, width in (("circles-2d", 2), ("circles-3d", 3), ("circles-4d", 4)):
        assert f"widths 2-{width}-2-1" in lines[name]
        assert "not recorded" in lines[name]
        assert find_experiment(name).description in lines[name]


def test_list_shows_what_is_recorded(runner, tiny_run, monkeypatch, tmp_path):
    folder = tmp_path / "recorded"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(folder))
    # Any valid file at the experiment's path counts as its recording.
    tiny_run.trajectory.save(trajectory_path(find_experiment("circles-3d"), folder))
    lines = {line.split()[0]: line for line in runner.invoke(main, ["list"]).stdout.splitlines()}
    assert "  recorded" in lines["circles-3d"]
    assert "not recorded" in lines["circles-2d"] and "not recorded" in lines["circles-4d"]


# -- train --------------------------------------------------------------------------------


def test_train_an_experiment_file_prints_the_path_it_wrote(
    runner, write_experiment, tiny_dict, tmp_path, monkeypatch
):
    toml = write_experiment(tiny_dict, "tiny.toml")
    cache = tmp_path / "train-cache"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(cache))
    calls = []
    real = training.record_experiment
    monkeypatch.setattr(training, "record_experiment",
                        lambda exp, **kw: calls.append(exp.name) or real(exp, **kw))

    result = runner.invoke(main, ["train", str(toml)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1  # the progress bar goes to stderr
    path = Path(result.stdout.strip())
    assert path == trajectory_path(load_experiment(toml), cache)
    assert path.is_file() and calls == ["tiny"]
    t = Trajectory.load(path)
    assert t.name == "tiny" and t.n_snapshots == 4 and list(t.epochs) == [0, 1, 2, 3]

    # Again: replayed from the cache, not trained.
    again = runner.invoke(main, ["train", str(toml), "--quiet"])
    assert again.exit_code == 0, again.output
    assert again.stdout == f"{path}\n" and calls == ["tiny"]
    # --force records again, to the same path.
    forced = runner.invoke(main, ["train", str(toml), "--force", "--quiet"])
    assert forced.exit_code == 0, forced.output
    assert forced.stdout == f"{path}\n" and calls == ["tiny", "tiny"]
    assert np.array_equal(Trajectory.load(path).loss, t.loss)


@pytest.mark.slow
def test_train_with_the_fit_trainer(runner, write_experiment, tiny_dict, tmp_path, monkeypatch):
    tiny_dict["training"]["epochs"] = 1
    toml = write_experiment(tiny_dict, "tiny.toml")
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "train-cache"))
    by_engine = runner.invoke(main, ["train", str(toml), "--quiet"])
    assert by_engine.exit_code == 0, by_engine.output
    path = Path(by_engine.stdout.strip())
    assert Trajectory.load(path).metadata["trainer"] == "engine"
    by_fit = runner.invoke(main, ["train", str(toml), "--quiet", "--trainer", "fit"])
    assert by_fit.exit_code == 0, by_fit.output
    assert by_fit.stdout == f"{path}\n"
    assert Trajectory.load(path).metadata["trainer"] == "keras.fit"
    bad = runner.invoke(main, ["train", str(toml), "--trainer", "sgd"])
    assert bad.exit_code == 2 and "'sgd' is not one of 'engine', 'fit'" in bad.output


@pytest.mark.slow
def test_train_a_shipped_experiment_by_name_replays_the_cached_run(lecture_runs, lecture_dir):
    """``geomcore train circles-3d`` then ``geomcore inspect --json`` (issue 2, 'Done when')."""
    env = {"GEOMCORE_CACHE_DIR": str(lecture_dir)}
    for name, check in (("circles-3d", lambda a: a >= 0.99), ("circles-2d", lambda a: a < 0.95)):
        trained = run("train", name, env=env)
        assert trained.returncode == 0, trained.stderr
        path = Path(trained.stdout.strip())
        assert path == lecture_runs[name].path
        inspected = run("inspect", str(path), "--json", env=env)
        assert inspected.returncode == 0, inspected.stderr
        summary = json.loads(inspected.stdout)
        assert summary["experiment"] == name
        assert check(summary["final_accuracy"]), summary["final_accuracy"]
        assert summary["final_accuracy"] == float(lecture_runs[name].trajectory.accuracy[-1])
        assert len(summary["accuracy_by_epoch"]) == 101


# -- inspect ------------------------------------------------------------------------------


def test_inspect_json_matches_the_trajectory(runner, tiny_run):
    result = runner.invoke(main, ["inspect", str(tiny_run.path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    t = tiny_run.trajectory
    assert summary["experiment"] == "tiny"
    assert summary["widths"] == [3, 2, 1] == t.widths
    assert summary["epochs"] == 3
    assert summary["snapshots"] == 4 == t.n_snapshots
    assert summary["final_loss"] == float(t.loss[-1])
    assert summary["final_accuracy"] == float(t.accuracy[-1])
    assert isinstance(summary["accuracy_by_epoch"], list)
    assert summary["accuracy_by_epoch"] == [float(a) for a in t.accuracy]
    assert len(summary["accuracy_by_epoch"]) == tiny_run.experiment.training.epochs + 1
    assert summary["accuracy_by_epoch"][0] == float(t.accuracy[0])  # epoch 0 first
    assert summary["schema_version"] == SCHEMA_VERSION == t.metadata["schema_version"]
    assert summary["seed"] == 3 and summary["data_hash"] == t.metadata["data_hash"]


def test_inspect_as_text(runner, tiny_run):
    result = runner.invoke(main, ["inspect", str(tiny_run.path)])
    assert result.exit_code == 0, result.output
    t = tiny_run.trajectory
    assert "experiment      tiny" in result.stdout
    assert "network         2-3-2-1  (tanh)" in result.stdout
    assert f"final accuracy  {t.accuracy[-1]:.4f}" in result.stdout
    assert f"final loss      {t.loss[-1]:.6f}" in result.stdout
    assert "4 snapshots, 39 steps" in result.stdout


@pytest.mark.slow
def test_inspect_a_diverged_run(runner, make_tiny, tmp_path):
    from geomcore.training import record_experiment

    t = record_experiment(make_tiny(model={"activation": "linear"}, training={
        "loss": "binary_crossentropy", "learning_rate": 1000.0}))
    path = t.save(tmp_path / "diverged.npz")
    result = runner.invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    assert f"DIVERGED        at epoch {t.metadata['diverged_at_epoch']:g}" in result.stdout


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture
def bad_inputs(tmp_path, write_experiment, tiny_dict):
    text = tmp_path / "notes.npz"
    text.write_text("not a trajectory\n")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    tiny_dict["training"]["lr"] = 0.01
    with_lr = write_experiment(tiny_dict, "with-lr.toml")
    return {
        "missing file": (["inspect", str(tmp_path / "missing.npz")],
                         [str(tmp_path / "missing.npz"), "no such trajectory file"]),
        "not a trajectory": (["inspect", str(text)], [str(text), "not a trajectory file"]),
        "foreign npz": (["inspect", str(foreign)], [str(foreign), "missing metadata"]),
        "directory": (["inspect", str(tmp_path)], [str(tmp_path)]),
        "unknown experiment": (["train", "circles-5d"],
                               ["unknown experiment 'circles-5d'", "did you mean"]),
        "missing experiment file": (["train", str(tmp_path / "none.toml")],
                                    [str(tmp_path / "none.toml")]),
        "experiment with lr": (["train", str(with_lr)],
                               [str(with_lr), "training.lr", "did you mean learning_rate"]),
    }


@pytest.mark.parametrize("case", [
    "missing file", "not a trajectory", "foreign npz", "directory", "unknown experiment",
    "missing experiment file", "experiment with lr",
])
def test_bad_input_gives_one_line_and_no_traceback(bad_inputs, case):
    args, fragments = bad_inputs[case]
    done = run(*args)
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- issue 7: bad experiments record nothing; diverged and no-learning runs are flagged ----

BAD_EXPERIMENTS = {
    # case: (section, key, value, fragments of the one-line error besides the file)
    "unknown key": ("training", "warmup", 5, ["unknown key 'training.warmup' = 5", "expected"]),
    "lr for learning_rate": ("training", "lr", 0.01,
                             ["'training.lr' = 0.01", "did you mean learning_rate"]),
    "wrong type": ("training", "epochs", "ten", ["training.epochs = 'ten'", "an integer"]),
    "zero width": ("model", "hidden_widths", [0, 2],
                   ["model.hidden_widths = [0, 2]", "positive integers"]),
    "non-integer width": ("model", "hidden_widths", [2.5, 2],
                          ["model.hidden_widths = [2.5, 2]", "positive integers"]),
    "viewed layer 4 wide": ("model", "hidden_widths", [3, 4],
                            ["model.hidden_widths = [3, 4]", "2 units", "3 units"]),
    "viewed layer 1 wide": ("model", "hidden_widths", [1],
                            ["model.hidden_widths = [1]", "2 units", "3 units"]),
    "unknown dataset": ("dataset", "name", "spiral",
                        ["dataset.name = 'spiral'", "'two_spirals'", "'csv'"]),
    "unknown activation": ("model", "activation", "gelu",
                           ["model.activation = 'gelu'", "'tanh'"]),
    "unknown optimizer": ("training", "optimizer", "rmsprop",
                          ["training.optimizer = 'rmsprop'", "'sgd', 'adam'"]),
    "unknown loss": ("training", "loss", "hinge",
                     ["training.loss = 'hinge'", "'mse', 'binary_crossentropy'"]),
}


@pytest.mark.parametrize("case", sorted(BAD_EXPERIMENTS))
def test_bad_experiment_is_one_line_and_records_nothing(runner, write_experiment, tiny_dict,
                                                        tmp_path, monkeypatch, case):
    section, key, value, fragments = BAD_EXPERIMENTS[case]
    tiny_dict[section][key] = value
    toml = write_experiment(tiny_dict, "bad.toml")
    before = toml.read_bytes()
    cache = tmp_path / "bad-cache"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(cache))
    monkeypatch.setattr(training, "record_experiment",
                        lambda *a, **k: pytest.fail("a bad experiment was trained"))

    result = runner.invoke(main, ["train", str(toml), "--quiet"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {toml}: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "expected" in lines[0]
    # Nothing recorded, nothing half-written, the experiment file untouched.
    assert not cache.exists() or list(cache.iterdir()) == []
    assert toml.read_bytes() == before


def test_bad_experiment_exits_non_zero_from_the_installed_command(write_experiment, tiny_dict,
                                                                  tmp_path):
    tiny_dict["model"]["hidden_widths"] = [3, 0]
    toml = write_experiment(tiny_dict, "bad.toml")
    cache = tmp_path / "cmd-cache"
    done = run("train", str(toml), env={"GEOMCORE_CACHE_DIR": str(cache)})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == (
        f"Error: {toml}: model.hidden_widths = [3, 0] is invalid; expected a non-empty list "
        "of positive integers"
    )
    assert not cache.exists()


@pytest.mark.slow
def test_a_run_that_does_not_learn_is_flagged_by_train_and_inspect(runner, write_experiment,
                                                                    tiny_dict, tmp_path,
                                                                    monkeypatch):
    # A learning rate of 1e6 saturates every tanh unit at once: the accuracy stays at chance.
    tiny_dict["training"]["learning_rate"] = 1e6
    toml = write_experiment(tiny_dict, "saturated.toml")
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "nl-cache"))
    trained = runner.invoke(main, ["train", str(toml), "--quiet"])
    assert trained.exit_code == 0, trained.output
    path = Path(trained.stdout.strip())
    t = Trajectory.load(path)
    assert not t.diverged and t.no_learning and t.chance_accuracy == 0.5
    assert trained.stderr.strip() == f"warning: {t.learning_verdict()}"
    assert "tiny did not learn: final accuracy 0.5000 is within 0.05 of chance (0.5000" in (
        trained.stderr)

    as_json = json.loads(runner.invoke(main, ["inspect", str(path), "--json"]).stdout)
    assert as_json["no_learning"] is True and as_json["chance_accuracy"] == 0.5
    assert as_json["diverged"] is False
    text = runner.invoke(main, ["inspect", str(path)]).stdout
    [line] = [ln for ln in text.splitlines() if ln.startswith("NO LEARNING")]
    assert line == ("NO LEARNING     final accuracy 0.5000 is within 0.05 of chance (0.5000, "
                    "always the majority class)")
    assert "DIVERGED" not in text


def test_a_run_that_learns_is_not_flagged(runner, synthetic3, tmp_path):
    # The synthetic 2-3-2-1 run ends separating the rings (accuracy 1).
    path = synthetic3.save(tmp_path / "learns.npz")
    assert not synthetic3.no_learning and synthetic3.learning_verdict() is None
    summary = json.loads(runner.invoke(main, ["inspect", str(path), "--json"]).stdout)
    assert summary["no_learning"] is False and summary["final_accuracy"] == 1.0
    assert summary["chance_accuracy"] == 0.5  # 60 points of each class
    assert "NO LEARNING" not in runner.invoke(main, ["inspect", str(path)]).stdout


@pytest.mark.slow
def test_inspect_says_a_diverged_run_diverged_in_one_line(runner, make_tiny, tmp_path):
    from geomcore.training import record_experiment

    t = record_experiment(make_tiny(
        model={"activation": "linear"},
        training={"loss": "binary_crossentropy", "learning_rate": 10.0},
        recording={"snapshot_every_steps": 1}))
    assert t.diverged and t.n_snapshots >= 2
    path = t.save(tmp_path / "diverged.npz")
    text = runner.invoke(main, ["inspect", str(path)]).stdout
    at = t.metadata["diverged_at_epoch"]
    [line] = [ln for ln in text.splitlines() if "DIVERGED" in ln]
    assert line == (f"DIVERGED        at epoch {at:g}: a value became non-finite; the "
                    f"{t.n_snapshots} snapshot(s) before it are kept")
    summary = json.loads(runner.invoke(main, ["inspect", str(path), "--json"]).stdout)
    assert summary["diverged"] is True and summary["diverged_at_epoch"] == at
    assert summary["snapshots"] == t.n_snapshots
