"""``geomcore sweep``: runs land in the cache as ``train`` writes them; Dask gives the same."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from geomcore.cli import main
from geomcore.sweep import load_summary


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(folder))
    return folder


def _small(tiny_dict):
    tiny_dict["training"]["epochs"] = 2
    return tiny_dict


# -- one-line errors ----------------------------------------------------------------------


def test_an_experiment_without_seeds_is_a_one_line_error(runner, write_experiment, tiny_dict):
    exp = write_experiment(tiny_dict)
    result = runner.invoke(main, ["sweep", str(exp)])
    assert result.exit_code != 0
    assert result.output.count("\n") == 1 and "expected --seeds N" in result.output


def test_an_unknown_sweep_key_is_a_one_line_error(runner, write_experiment, tiny_dict, tmp_path):
    write_experiment(tiny_dict, "tiny.toml")
    sweep = tmp_path / "grid.toml"
    sweep.write_text('experiment = "tiny.toml"\nlearning_rates = [0.1]\n', encoding="utf-8")
    result = runner.invoke(main, ["sweep", str(sweep)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert "unknown sweep key 'learning_rates'" in result.output


def test_a_grid_with_no_runs_is_a_one_line_error(runner, write_experiment, tiny_dict, tmp_path):
    write_experiment(tiny_dict, "tiny.toml")
    sweep = tmp_path / "grid.toml"
    sweep.write_text('experiment = "tiny.toml"\nhidden_widths = []\n', encoding="utf-8")
    result = runner.invoke(main, ["sweep", str(sweep)])
    assert result.exit_code != 0 and result.output.count("\n") == 1
    assert "the grid has no runs (hidden_widths = [])" in result.output


def test_seeds_twice_is_refused(runner, write_experiment, tiny_dict, tmp_path):
    write_experiment(tiny_dict, "tiny.toml")
    sweep = tmp_path / "grid.toml"
    sweep.write_text('experiment = "tiny.toml"\nseeds = 2\n', encoding="utf-8")
    result = runner.invoke(main, ["sweep", str(sweep), "--seeds", "3"])
    assert result.exit_code != 0 and "give its seeds there" in result.output


# -- in process ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sweep_writes_each_run_where_train_finds_it_and_the_summary(
        runner, write_experiment, tiny_dict, cache, monkeypatch):
    from geomcore import training
    from geomcore.cache import load_or_record
    from geomcore.experiment import load_experiment

    exp_path = write_experiment(_small(tiny_dict))
    result = runner.invoke(main, ["sweep", str(exp_path), "--seeds", "3", "--in-process",
                                  "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    csv_path, json_path = lines[-2], lines[-1]
    assert csv_path.startswith(str(cache / "sweeps" / "tiny-seeds3-")) and csv_path.endswith(
        ".csv")
    rows = load_summary(json_path)
    assert [r["seed"] for r in rows] == [0, 1, 2]
    assert "final accuracy" in result.output and "3 runs" in result.output

    # A later `train` of seed 1 finds the sweep's file: nothing is trained again.
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(training, "record_experiment", no_training)
    seed1 = load_experiment(exp_path).replace(seed=1)
    trajectory, path = load_or_record(seed1, progress=False)
    assert str(path) == rows[1]["trajectory"]
    assert trajectory.accuracy[-1] == pytest.approx(rows[1]["final_accuracy"])
    assert trajectory.loss[-1] == pytest.approx(rows[1]["final_loss"])
    assert len({r["trajectory"] for r in rows}) == 3  # one file per seed


# -- on a Dask cluster --------------------------------------------------------------------


@pytest.mark.slow
def test_a_sweep_on_a_local_cluster_of_two_workers_equals_the_in_process_one(
        make_tiny, tmp_path):
    from geomcore.sweep import SweepSpec, run_sweep
    from geomcore.trajectory import Trajectory

    # Four seeds, two copies per program: two tasks, one per worker.
    spec = SweepSpec(make_tiny(training={"epochs": 1}), "tiny4", (0, 1, 2, 3), max_copies=2)
    local_rows, local_csv, _ = run_sweep(spec, directory=tmp_path / "local", in_process=True)
    done = []
    dask_rows, dask_csv, dask_json = run_sweep(
        spec, directory=tmp_path / "dask", workers=2, progress=lambda d, t: done.append((d, t)))
    assert done[-1] == (4, 4) and len(done) == 2  # one report per group
    assert dask_csv.parent == tmp_path / "dask" / "sweeps"
    assert [r["seed"] for r in dask_rows] == [0, 1, 2, 3]
    for a, b in zip(local_rows, dask_rows):
        assert {k: v for k, v in a.items() if k != "trajectory"} == {
            k: v for k, v in b.items() if k != "trajectory"}
        la, lb = Trajectory.load(a["trajectory"]), Trajectory.load(b["trajectory"])
        assert b["trajectory"].startswith(str(tmp_path / "dask"))
        for name, arr in la.arrays.items():
            np.testing.assert_array_equal(lb.arrays[name], arr, err_msg=name)
    assert load_summary(dask_json) == dask_rows
    assert dask_csv.read_text().splitlines()[1:] == [
        line.replace(str(tmp_path / "local"), str(tmp_path / "dask"))
        for line in local_csv.read_text().splitlines()[1:]]


@pytest.mark.slow  # waits out the 8 s connection timeout
def test_a_scheduler_that_does_not_answer_is_a_one_line_error_within_ten_seconds(
        runner, write_experiment, tiny_dict, cache):
    import time

    exp = write_experiment(_small(tiny_dict))
    start = time.monotonic()
    result = runner.invoke(main, ["sweep", str(exp), "--seeds", "2", "--quiet",
                                  "--scheduler", "tcp://127.0.0.1:9"])
    assert time.monotonic() - start < 10.0
    assert result.exit_code != 0 and result.output.count("\n") == 1
    assert "tcp://127.0.0.1:9" in result.output and "did not answer" in result.output
    assert not (cache / "sweeps").exists()  # nothing recorded
