"""K-class experiments end to end: config, Keras model, both trainers, trajectory schema 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import TINY, merge

from geomcore.errors import ExperimentError, TrajectoryError
from geomcore.experiment import Experiment
from geomcore.recording import probe_subset
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

K3 = merge(TINY, {
    "name": "k3",
    "seed": 1,
    "dataset": {"name": "blobs", "classes": 3, "n_per_class": 120, "std": 0.2},
    "model": {"hidden_widths": [4, 2]},
    "training": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam",
                 "learning_rate": 0.02, "epochs": 4, "batch_size": 32},
    "recording": {"probe_size": 90},
})


@pytest.fixture(scope="module")
def k3_runs():
    from geomcore.training import record_experiment

    e = Experiment.from_dict(K3)
    return e, record_experiment(e), record_experiment(e, trainer="fit")


# -- the experiment file --------------------------------------------------------------------


def test_classes_are_read_from_the_data(tmp_path):
    assert Experiment.from_dict(K3).classes == 3
    assert Experiment.from_dict(merge(K3, {"dataset": {"classes": 5}})).classes == 5
    assert Experiment.from_dict(TINY).classes == 2 and not Experiment.from_dict(TINY).softmax_output
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n0,0,0\n1,0,1\n0,1,2\n1,1,3\n")
    e = Experiment.from_dict({**K3, "dataset": {"name": "csv", "path": str(csv), "classes": 4}})
    assert e.classes == 4 and e.softmax_output


def test_more_than_two_classes_need_the_categorical_loss():
    for loss in ("mse", "binary_crossentropy"):
        with pytest.raises(ExperimentError) as info:
            Experiment.from_dict(merge(K3, {"training": {"loss": loss}}))
        assert str(info.value) == (
            f"<memory>: training.loss = '{loss}' is invalid; expected "
            "'sparse_categorical_crossentropy' for a dataset of 3 classes (a sigmoid unit "
            "separates two)")
    # Two classes may take either output.
    e = Experiment.from_dict(merge(TINY, {"training": {"loss": "sparse_categorical_crossentropy"}}))
    assert e.classes == 2 and e.softmax_output


def test_probe_subset_shares_classes_equally_and_keeps_the_two_class_draw():
    y = np.repeat(np.arange(3), [50, 40, 60])
    idx = probe_subset(y, 20, seed=4)
    assert np.bincount(y[idx]).tolist() == [6, 7, 7]
    assert len(set(idx.tolist())) == 20
    # Two classes: today's draw, written out here as it was (size // 2, then the rest).
    y2 = np.r_[np.zeros(30, int), np.ones(25, int)]
    rng = np.random.default_rng([9, 0x70726F6265])
    old = [np.sort(rng.choice(np.flatnonzero(y2 == c), size=k, replace=False))
           for c, k in ((0, 5), (1, 6))]
    assert np.array_equal(probe_subset(y2, 11, seed=9), np.concatenate(old))


# -- recording --------------------------------------------------------------------------------


def test_keras_model_ends_in_a_softmax_of_k_units():
    from geomcore.models import OUTPUT_LAYER, build_model

    model = build_model(Experiment.from_dict(K3), seed=0)
    out = model.get_layer(OUTPUT_LAYER)
    assert out.units == 3 and out.activation.__name__ == "softmax"
    p = np.asarray(model(np.array([[0.1, -0.2], [1.0, 2.0]], np.float32)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("which", [1, 2], ids=["engine", "fit"])
def test_k_class_run_records_the_output_layer_as_boundary(k3_runs, which):
    from geomcore.datasets import make_dataset

    t = k3_runs[which]
    assert t.metadata["schema_version"] == SCHEMA_VERSION == 3
    assert t.widths == [4, 2, 3] and t.metadata["activations"][-1] == "softmax"
    assert t.metadata["class_counts"] == [120, 120, 120]
    s = t.n_snapshots
    assert t.arrays["boundary"].shape == (s, 3, 3)
    np.testing.assert_array_equal(t.arrays["boundary"][:, :2, :], t.arrays["kernel.output"])
    np.testing.assert_array_equal(t.arrays["boundary"][:, 2, :], t.arrays["bias.output"])
    assert np.bincount(t.probe_labels).tolist() == [30, 30, 30]
    x, y = make_dataset("blobs", seed=1, classes=3, n_per_class=120, std=0.2)
    loss, acc = t.network(-1).loss_and_accuracy(x, y, "sparse_categorical_crossentropy")
    assert t.loss[-1] == pytest.approx(loss) and t.accuracy[-1] == pytest.approx(acc)
    summary = t.summary()
    assert summary["classes"] == 3 and len(summary["per_class_accuracy"]) == 3
    pred = t.network(-1).predict(t.probe_inputs)
    for c in range(3):
        mine = t.probe_labels == c
        assert summary["per_class_accuracy"][c] == pytest.approx(np.mean(pred[mine] == c))
    assert summary["chance_accuracy"] == pytest.approx(1 / 3)
    json.dumps(summary)


def test_engine_and_fit_agree_on_k_class_weights(k3_runs):
    _, engine, fit = k3_runs
    assert engine.n_snapshots == fit.n_snapshots
    for name in engine.layer_names:
        np.testing.assert_allclose(engine.arrays[f"kernel.{name}"], fit.arrays[f"kernel.{name}"],
                                   atol=2e-4)


def test_k_class_trajectory_round_trips(k3_runs, tmp_path):
    t = k3_runs[1]
    loaded = Trajectory.load(t.save(tmp_path / "k3.npz"))
    assert loaded.classes == 3
    np.testing.assert_array_equal(loaded.arrays["boundary"], t.arrays["boundary"])
    arrays = {k: v.copy() for k, v in t.arrays.items()}
    metadata = json.loads(json.dumps(t.metadata))
    arrays["probe_labels"][0] = 3
    with pytest.raises(TrajectoryError, match="class labels 0 to 2 only"):
        Trajectory(arrays, metadata)


def test_a_schema_1_file_loads_as_the_current_schema(tiny_run, tmp_path):
    arrays = {k: v.copy() for k, v in tiny_run.trajectory.arrays.items()}
    metadata = json.loads(json.dumps(tiny_run.trajectory.metadata))
    metadata["schema_version"] = 1
    path = tmp_path / "old.npz"
    with open(path, "wb") as f:
        np.savez(f, **arrays, metadata=np.array(json.dumps(metadata)))
    old = Trajectory.load(path)
    assert old.metadata["schema_version"] == SCHEMA_VERSION and old.classes == 2
    for key, value in tiny_run.trajectory.arrays.items():
        np.testing.assert_array_equal(old.arrays[key], value)
    assert old.summary()["final_accuracy"] == tiny_run.trajectory.summary()["final_accuracy"]
