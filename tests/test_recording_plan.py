"""geomcore.recording.RecordingPlan: one plan, computed once, drives both trainers.

The stored values below were recorded before the plan existed (commit 16f2196, Keras 3.15.1,
TensorFlow 2.21.0): the refactoring must not change a recorded trajectory.
"""

from __future__ import annotations

import numpy as np
import pytest

import geomcore.training as training
from geomcore.datasets import epoch_order, make_dataset
from geomcore.errors import DatasetError, ExperimentError
from geomcore.geometry import grid_lines, padded_bounds
from geomcore.recording import TrajectoryRecorder, probe_subset, recording_plan
from geomcore.training import record_experiment


def dataset_of(experiment):
    return make_dataset(experiment.dataset.name, seed=experiment.seed, **experiment.dataset.params)


DENSE = {"training": {"epochs": 2}, "recording": {"snapshot_every_steps": 5, "dense_epochs": 1}}

#: The tiny experiment with DENSE, recorded before the plan: loss per snapshot.
BEFORE_LOSS = {
    "engine": [0.2600285180866293, 0.25922448085758953, 0.2584838929946179,
               0.2580163284449889, 0.2562467148476202],
    "fit": [0.2600285180866293, 0.25922448094040407, 0.2584838931223753,
            0.25801632891771054, 0.2562467156222147],
}
BEFORE_ACCURACY = [0.5, 0.5025, 0.505, 0.5025, 0.5125]
BEFORE_OUTPUT_KERNEL = [0.8223266005516052, 0.7423384189605713]


# -- the plan's values --------------------------------------------------------------------


def test_plan_from_an_experiment_holds_its_recording_set_up(make_tiny):
    exp = make_tiny(**DENSE)
    x, y = dataset_of(exp)
    plan = recording_plan(x, y, experiment=exp)
    assert plan.x.dtype == np.float32 and plan.y.dtype == np.int64 and plan.x.shape == (400, 2)
    assert plan.loss == "mse" and plan.seed == 3
    assert plan.every_k_steps == 5 and plan.dense_epochs == 1
    assert plan.steps_per_epoch == 13  # ceil(400 / 32)
    assert plan.steps_per_execution() == 1  # gcd(5, 13)
    idx = probe_subset(y, 100, 3)
    np.testing.assert_array_equal(plan.probe_inputs, x[idx])
    np.testing.assert_array_equal(plan.probe_labels, y[idx])
    assert plan.bounds == padded_bounds(x, 0.1)
    np.testing.assert_array_equal(plan.grid_inputs, grid_lines(plan.bounds, 21, 200))
    assert plan.n_probe == 100 and plan.grid_shape == (42, 200)
    assert plan.points.shape == (100 + 42 * 200, 2) and plan.points.dtype == np.float32
    np.testing.assert_array_equal(plan.points[100:], grid_lines(plan.bounds, 21, 200)
                                  .reshape(-1, 2).astype(np.float32))
    np.testing.assert_array_equal(plan.epoch_order(1), epoch_order(400, 3, 1))
    assert plan.experiment == exp.to_dict()
    # 13 steps an epoch and k = 13: one execution per epoch.
    whole = make_tiny(recording={"snapshot_every_steps": 13})
    assert recording_plan(x, y, experiment=whole).steps_per_execution() == 13


def test_plan_for_a_users_model_takes_the_experiment_file_defaults():
    x, y = make_dataset("concentric_circles", seed=0, n_per_class=1_500)
    plan = recording_plan(x, y[:, None])  # a column of labels, as Keras users write them
    assert plan.y.shape == (3_000,)
    assert plan.loss == "mse" and plan.seed == 0 and plan.n_probe == 2_000
    assert plan.grid_shape == (42, 200) and plan.bounds == padded_bounds(x, 0.1)
    assert plan.every_k_steps == 0 and plan.steps_per_epoch is None and plan.experiment == {}
    with pytest.raises(ExperimentError, match="steps per epoch"):
        plan.snapshot_steps(0)
    assert plan.snapshot_steps(0, 4).tolist() == [False, False, False, True]


def test_in_epoch_snapshots_follow_k_and_dense_epochs(circles):
    x, y = circles
    plan = recording_plan(x, y, every_k_steps=3, dense_epochs=2)
    assert [s for s in range(1, 13) if plan.in_epoch_snapshot(0, s)] == [3, 6, 9, 12]
    assert plan.in_epoch_snapshot(1, 15) and not plan.in_epoch_snapshot(2, 18)
    assert not recording_plan(x, y).in_epoch_snapshot(0, 3)  # k = 0: epoch ends only


@pytest.fixture
def circles():
    return make_dataset("concentric_circles", seed=0, n_per_class=100)


def test_bad_plans_are_one_line_errors(make_tiny, circles):
    x, y = circles
    with pytest.raises(DatasetError, match=r"x.shape=\(200, 3\), y.shape=\(200,\)"):
        recording_plan(np.zeros((200, 3)), y)
    with pytest.raises(DatasetError, match=r"y.shape=\(199,\)"):
        recording_plan(x, y[:-1])
    with pytest.raises(ExperimentError, match=r"\['probe_size', 'seed'\] given with experiment"):
        recording_plan(x, y, experiment=make_tiny(), probe_size=10, seed=1)
    plan = recording_plan(x, y)
    with pytest.raises(ExperimentError, match=r"a plan and \['x', 'probe_size'\]"):
        TrajectoryRecorder(x, plan=plan, probe_size=10)
    with pytest.raises(ExperimentError, match="x and y, or a plan"):
        TrajectoryRecorder()


# -- both trainers record with one plan ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_record_experiment_computes_the_plan_once(make_tiny, monkeypatch, trainer):
    plans = []

    def counted(*args, **kwargs):
        plans.append(recording_plan(*args, **kwargs))
        return plans[-1]

    monkeypatch.setattr(training, "recording_plan", counted)
    t = record_experiment(make_tiny(training={"epochs": 1}), trainer=trainer)
    assert len(plans) == 1
    np.testing.assert_array_equal(t.probe_inputs, plans[0].probe_inputs)
    np.testing.assert_array_equal(t.grid_inputs, plans[0].grid_inputs)
    assert tuple(t.metadata["bounds"]) == plans[0].bounds
    assert t.metadata["steps_per_epoch"] == plans[0].steps_per_epoch == 13


@pytest.mark.parametrize("trainer", ["engine", "fit"])
def test_trajectories_equal_those_recorded_before_the_plan(make_tiny, trainer):
    t = record_experiment(make_tiny(**DENSE), trainer=trainer)
    assert t.steps.tolist() == [0, 5, 10, 13, 26]
    assert t.epochs.tolist() == [0.0, 5 / 13, 10 / 13, 1.0, 2.0]
    assert t.accuracy.tolist() == BEFORE_ACCURACY
    # Float32 training: equal on the machine that stored them, within round-off elsewhere.
    np.testing.assert_allclose(t.loss, BEFORE_LOSS[trainer], rtol=0, atol=1e-7)
    np.testing.assert_allclose(t.arrays["kernel.output"][-1, :, 0], BEFORE_OUTPUT_KERNEL,
                               rtol=0, atol=1e-6)
    np.testing.assert_array_equal(t.probe_inputs[0], np.float32([0.06692393869161606,
                                                                 0.5017959475517273]))
    assert t.metadata["bounds"] == pytest.approx(
        [-1.212644338607788, 1.2049729824066162, -1.2043052911758423, 1.2101184129714966])


@pytest.mark.slow
def test_both_trainers_report_the_same_progress_loss(make_tiny):
    # 400 points in batches of 32: the 16-point tail batch counts half, as fit logs it.
    reports = {}
    for trainer in ("engine", "fit"):
        reports[trainer] = []
        record_experiment(make_tiny(training={"epochs": 2}), trainer=trainer,
                          progress=lambda *a, r=reports[trainer]: r.append(a))
    assert [r[:2] for r in reports["engine"]] == [r[:2] for r in reports["fit"]] == [(1, 2), (2, 2)]
    np.testing.assert_allclose([r[2] for r in reports["engine"]],
                               [r[2] for r in reports["fit"]], rtol=1e-5)
