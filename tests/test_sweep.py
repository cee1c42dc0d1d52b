"""geomcore.sweep: copies trained as one program equal the runs recorded alone; the grid."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from geomcore.sweep import (
    SUMMARY_COLUMNS,
    SweepError,
    SweepSpec,
    accuracy_histogram,
    group_runs,
    load_summary,
    load_sweep,
    seed_sweep,
    sweep_runs,
    write_summary,
)


def dataset_of(experiment):
    from geomcore.datasets import make_dataset

    return make_dataset(experiment.dataset.name, seed=experiment.seed,
                        **experiment.dataset.params)


def assert_same_run(alone, batched, atol=1e-5):
    """Every array of two trajectories equal: exactly for counts, to ``atol`` for floats."""
    assert set(alone.arrays) == set(batched.arrays)
    for name, a in alone.arrays.items():
        b = batched.arrays[name]
        assert a.shape == b.shape and a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=0, atol=atol, err_msg=name)
        else:
            assert np.array_equal(a, b), name


# -- one program, the same runs -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("training", [
    {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    {"optimizer": "adam", "learning_rate": 0.01, "loss": "binary_crossentropy"},
])
def test_each_copy_equals_its_run_recorded_alone_after_one_epoch(make_tiny, training):
    from geomcore.engine import record_with_engine
    from geomcore.sweep import record_batched

    runs = [make_tiny(seed=s, training={"epochs": 1, **training}) for s in (3, 11)]
    batched = record_batched(runs)
    moved = []
    for run, b in zip(runs, batched):
        alone = record_with_engine(run, *dataset_of(run))
        assert b.metadata["seed"] == run.seed and b.metadata["batched_copies"] == 2
        assert b.metadata["trainer"] == alone.metadata["trainer"] == "engine"
        assert_same_run(alone, b)
        moved.append(float(np.max(np.abs(b.arrays["kernel.hidden_1"][1]
                                          - b.arrays["kernel.hidden_1"][0]))))
        # Each copy starts from its own seed's weights: not another copy's.
        assert b.metadata["data_hash"] == alone.metadata["data_hash"]
    assert min(moved) > 1e-3  # training moved every copy: the comparison has teeth
    k = [b.arrays["kernel.hidden_1"][0] for b in batched]
    assert not np.allclose(k[0], k[1])


@pytest.mark.slow
def test_a_diverging_copy_is_marked_and_the_others_are_untouched(make_tiny, monkeypatch):
    import geomcore.sweep as sweep
    from geomcore.engine import record_with_engine

    runs = [make_tiny(seed=s, training={"epochs": 2}) for s in (3, 4)]
    run_epoch = sweep._BatchedTrainer.run_epoch

    def poisoned(self, orders, mask):
        # Before the second epoch, copy 1's first kernel becomes NaN: its first step's loss
        # is not finite; copy 0 shares every tensor with it.
        if self.epochs_run == 1:
            kernel = self.variables[0].numpy()
            kernel[1] = np.nan
            self.variables[0].assign(kernel)
        return run_epoch(self, orders, mask)

    monkeypatch.setattr(sweep._BatchedTrainer, "run_epoch", poisoned)
    healthy, broken = sweep.record_batched(runs)
    spe = broken.metadata["steps_per_epoch"]
    assert spe == 13  # 400 points, batches of 32
    assert broken.metadata["diverged"]
    # As the engine marks it: after the step whose loss was not finite (epoch 1's first).
    assert broken.metadata["diverged_at_epoch"] == pytest.approx(1 + 1 / spe)
    assert list(broken.arrays["epoch"]) == [0.0, 1.0]
    assert not healthy.metadata["diverged"] and list(healthy.arrays["epoch"]) == [0.0, 1.0, 2.0]
    assert_same_run(record_with_engine(runs[0], *dataset_of(runs[0])), healthy)


# -- the grid -----------------------------------------------------------------------------


def test_seed_sweep_gives_one_run_per_seed_with_the_experiment_otherwise_unchanged(make_tiny):
    base = make_tiny()
    runs = sweep_runs(seed_sweep(base, 4))
    assert [r.seed for r in runs] == [0, 1, 2, 3]
    assert all(r.name == base.name and r.model == base.model and r.training == base.training
               for r in runs)
    # The same run as the experiment file with that seed: same config hash, same cache file.
    assert runs[3].config_hash() == base.replace(seed=3).config_hash()


def test_a_sweep_file_is_a_grid_in_widths_rates_activations_seeds(tmp_path, write_experiment,
                                                                tiny_dict):
    exp = write_experiment(tiny_dict, "tiny.toml")
    sweep = tmp_path / "grid.toml"
    sweep.write_text(f'experiment = "{exp.name}"\nseeds = [1, 5]\n'
                     "hidden_widths = [[2, 2], [3, 2], [4, 3]]\n"
                     "learning_rate = [0.01, 0.1]\nactivation = [\"tanh\", \"relu\"]\n"
                     "epochs = 2\n", encoding="utf-8")
    spec = load_sweep(sweep)
    runs = sweep_runs(spec)
    assert spec.name == "grid" and len(runs) == 3 * 2 * 2 * 2
    assert {r.model.hidden_widths for r in runs} == {(2, 2), (3, 2), (4, 3)}
    assert {r.training.learning_rate for r in runs} == {0.01, 0.1}
    assert {r.model.activation for r in runs} == {"tanh", "relu"}
    assert {r.seed for r in runs} == {1, 5} and {r.training.epochs for r in runs} == {2}
    groups = group_runs(runs)
    # One program per configuration: its two seeds together.
    assert len(groups) == 12 and all(len(g) == 2 and g[0].seed == 1 and g[1].seed == 5
                                     and g[0].model == g[1].model for g in groups)


@pytest.mark.parametrize("text, message", [
    ('experiment = "tiny.toml"\nseed = 3\n', "unknown sweep key 'seed'"),
    ('experiment = "tiny.toml"\nseeds = []\n', "the grid has no runs"),
    ('experiment = "tiny.toml"\nseeds = 0\n', "the grid has no runs"),
    ('experiment = "tiny.toml"\nlearning_rate = []\n', "the grid has no runs (learning_rate"),
    ('experiment = "tiny.toml"\nactivation = ["gelu"]\n', "activation = ['gelu']"),
    ('experiment = "tiny.toml"\nseeds = [1, 1]\n', "repeats a seed"),
    ('seeds = 3\n', "experiment = None"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path, write_experiment, tiny_dict, text,
                                             message):
    write_experiment(tiny_dict, "tiny.toml")
    sweep = tmp_path / "bad.toml"
    sweep.write_text(text, encoding="utf-8")
    with pytest.raises(SweepError) as err:
        load_sweep(sweep)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(sweep) in str(err.value)


def test_groups_hold_at_most_max_copies_and_split_evenly(make_tiny):
    base = make_tiny()
    runs = sweep_runs(SweepSpec(base, "s", tuple(range(20)), max_copies=16))
    sizes = [len(g) for g in group_runs(runs, 16)]
    assert sizes == [10, 10]
    assert [len(g) for g in group_runs(runs[:16], 16)] == [16]
    assert [len(g) for g in group_runs(runs[:17], 8)] == [6, 6, 5]
    flat = [r.seed for g in group_runs(runs, 16) for r in g]
    assert flat == list(range(20))


# -- the summary --------------------------------------------------------------------------


def _row(seed, acc, widths="2-2", diverged=False):
    return {"experiment": "circles", "seed": seed, "widths": widths, "learning_rate": 0.005,
            "activation": "tanh", "final_accuracy": acc, "final_loss": 1 - acc,
            "diverged": diverged, "diverged_at_epoch": 3.5 if diverged else None,
            "nesting_lost_at_epoch": None, "trajectory": f"/c/circles-{seed}.npz"}


def test_the_summary_is_written_as_csv_and_json_in_the_cache(tmp_path):
    rows = [_row(0, 0.5), _row(1, 0.995, diverged=True)]
    csv_path, json_path = write_summary("circles-seeds2", rows, tmp_path)
    assert csv_path.parent == json_path.parent == tmp_path / "sweeps"
    assert csv_path.name.startswith("circles-seeds2-") and csv_path.suffix == ".csv"
    lines = csv_path.read_text().splitlines()
    assert lines[0] == ",".join(SUMMARY_COLUMNS)
    assert lines[2] == "circles,1,2-2,0.005,tanh,0.995,0.0050000000000000044,True,3.5,," \
                       "/c/circles-1.npz"
    assert load_summary(json_path) == rows
    assert json.loads(json_path.read_text())["name"] == "circles-seeds2"
    assert not list((tmp_path / "sweeps").glob(".*.tmp"))


def test_a_file_that_is_not_a_summary_is_a_one_line_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"runs": [{"seed": 1}]}')
    with pytest.raises(SweepError, match="not a sweep summary"):
        load_summary(path)


def test_the_histogram_counts_final_accuracy_per_configuration():
    rows = [_row(s, a) for s, a in enumerate([0.5, 0.52, 0.97, 0.999])]
    rows += [_row(s, 1.0, widths="3-2") for s in range(3)]
    text = accuracy_histogram(rows, bins=10, width=8).splitlines()
    assert text[0] == "circles  widths 2-2  learning rate 0.005  tanh  (4 runs): final accuracy"
    assert text[1] == "  [0.50, 0.60)  ########  2"
    assert text[2:5] == ["  [0.60, 0.70)            0", "  [0.70, 0.80)            0",
                         "  [0.80, 0.90)            0"]
    assert text[5] == "  [0.90, 1.00]  ########  2"
    assert text[6].startswith("circles  widths 3-2") and text[7] == "  [0.90, 1.00]  ########  3"
    assert len(text) == 8
    assert math.isclose(sum(int(line.split()[-1]) for line in text[1:6]), 4)
