"""geomcore.engine: the in-graph trainer gives Keras' weights and the recorder's trajectory."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import geomcore.engine as engine
from geomcore.datasets import epoch_order, make_dataset
from geomcore.engine import record_with_engine, unsupported_reason
from geomcore.recording import recording_plan
from geomcore.training import record_experiment


def dataset_of(experiment):
    return make_dataset(experiment.dataset.name, seed=experiment.seed, **experiment.dataset.params)


# -- same result as keras fit -------------------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
@pytest.mark.parametrize("optimizer", [
    {"optimizer": "sgd", "learning_rate": 0.05},
    {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    {"optimizer": "adam", "learning_rate": 0.01},
])
@pytest.mark.slow
def test_one_epoch_equals_keras_fit_in_the_same_order(make_tiny, loss, optimizer):
    from geomcore.models import build_model, import_keras, make_optimizer

    exp = make_tiny(training={"epochs": 1, "loss": loss, **optimizer})
    x, y = dataset_of(exp)
    t = record_with_engine(exp, x, y)

    keras = import_keras()
    keras.utils.set_random_seed(exp.seed)
    model = build_model(exp)
    model.compile(optimizer=make_optimizer(exp), loss=loss)
    for layer in t.layer_names:  # the same initial weights
        np.testing.assert_array_equal(t.arrays[f"kernel.{layer}"][0], model.get_layer(layer).kernel)
    order = epoch_order(len(x), exp.seed, 0)
    model.fit(x[order].astype(np.float32), y[order].astype(np.float32)[:, None],
              batch_size=exp.training.batch_size, shuffle=False, epochs=1, verbose=0)
    assert t.steps[-1] == int(model.optimizer.iterations.numpy()) == 13  # 400 points / 32
    moved = 0.0
    for layer in t.layer_names:
        kernel, bias = model.get_layer(layer).get_weights()
        np.testing.assert_allclose(t.arrays[f"kernel.{layer}"][1], kernel, rtol=0, atol=1e-5)
        np.testing.assert_allclose(t.arrays[f"bias.{layer}"][1], bias, rtol=0, atol=1e-5)
        moved = max(moved, float(np.max(np.abs(kernel - t.arrays[f"kernel.{layer}"][0]))))
    assert moved > 1e-3  # the comparison has teeth: training moved the weights


@pytest.mark.slow
def test_engine_and_fit_record_the_same_trajectory(make_tiny):
    exp = make_tiny(training={"epochs": 2},
                    recording={"snapshot_every_steps": 5, "dense_epochs": 1})
    by_engine = record_experiment(exp, trainer="engine")
    by_fit = record_experiment(exp, trainer="fit")
    assert by_engine.metadata["trainer"] == "engine"
    assert by_fit.metadata["trainer"] == "keras.fit"
    assert set(by_engine.arrays) == set(by_fit.arrays)
    for name, a in by_fit.arrays.items():
        b = by_engine.arrays[name]
        assert a.dtype == b.dtype and a.shape == b.shape, name
        if name in ("epoch", "step", "probe_inputs", "probe_labels", "grid_inputs", "accuracy"):
            assert np.array_equal(a, b), name
        else:
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-5, err_msg=name)
    same = {"created", "trainer"}
    assert {k: v for k, v in by_engine.metadata.items() if k not in same} == {
        k: v for k, v in by_fit.metadata.items() if k not in same}


# -- dense early snapshots ----------------------------------------------------------------


def test_snapshot_steps_follow_the_recorders_schedule(make_tiny):
    def steps(k, dense, epoch):
        exp = make_tiny(recording={"snapshot_every_steps": k, "dense_epochs": dense})
        return np.flatnonzero(recording_plan(*dataset_of(exp), experiment=exp)
                              .snapshot_steps(epoch)).tolist()

    # 13 steps an epoch, every 5 steps: global steps 5, 10 in epoch 0; 15, 20, 25 in epoch 1.
    assert steps(5, 0, 0) == [4, 9, 12]
    assert steps(5, 0, 1) == [1, 6, 11, 12]
    assert steps(5, 1, 1) == [12]  # after dense epochs
    assert steps(0, 0, 3) == [12]
    assert steps(1, 0, 0) == list(range(13))


@pytest.mark.slow
def test_dense_early_snapshots_are_recorded_at_the_asked_steps(make_tiny):
    exp = make_tiny(training={"epochs": 3},
                    recording={"snapshot_every_steps": 4, "dense_epochs": 2})
    x, y = dataset_of(exp)
    t = record_with_engine(exp, x, y)
    steps = [0, 4, 8, 12, 13, 16, 20, 24, 26, 39]
    assert t.steps.tolist() == steps
    np.testing.assert_allclose(t.epochs, np.array(steps) / 13)
    # Each snapshot holds the network of that step: its stored hidden outputs are the
    # numpy forward pass of its stored weights, and its loss is measured on all the data.
    for s in range(t.n_snapshots):
        net = t.network(s)
        for layer in t.hidden_layer_names:
            h = net.forward(t.probe_inputs, upto=layer)
            np.testing.assert_allclose(t.arrays[f"probe.{layer}"][s], h, rtol=0, atol=1e-5)
        grid = net.forward(t.grid_inputs.reshape(-1, 2), upto="hidden_2")
        np.testing.assert_allclose(t.arrays["grid.hidden_2"][s].reshape(-1, 2), grid, atol=1e-5)
        assert t.loss[s] == pytest.approx(net.loss(x, y, "mse"), rel=1e-12)
    assert len({float(v) for v in t.loss}) == len(steps)  # every snapshot is another network


@pytest.mark.slow
def test_dense_snapshots_cost_no_extra_call_and_do_not_change_training(make_tiny, monkeypatch):
    calls = []
    real = engine._GraphTrainer.run_epoch

    def counted(self, order, mask):
        calls.append(int(mask.sum()))
        return real(self, order, mask)

    monkeypatch.setattr(engine._GraphTrainer, "run_epoch", counted)
    plain = make_tiny(training={"epochs": 2})
    x, y = dataset_of(plain)
    sparse = record_with_engine(plain, x, y)
    assert calls == [1, 1]
    calls.clear()
    every_step = record_with_engine(
        make_tiny(training={"epochs": 2}, recording={"snapshot_every_steps": 1}), x, y)
    assert calls == [13, 13]  # still one compiled call per epoch
    assert every_step.n_snapshots == 27 and every_step.steps.tolist() == list(range(27))
    for name in ("kernel.hidden_1", "bias.output", "loss", "probe.hidden_2"):
        assert np.array_equal(every_step.arrays[name][[0, 13, 26]], sparse.arrays[name]), name


# -- what the engine does not do ----------------------------------------------------------


@pytest.mark.slow
def test_unsupported_experiments_fall_back_to_fit_with_one_log_line(make_tiny, monkeypatch,
                                                                    caplog):
    exp = make_tiny(training={"epochs": 1, "optimizer": "adam", "learning_rate": 0.01})
    assert unsupported_reason(exp) is None
    monkeypatch.setattr(engine, "SUPPORTED_OPTIMIZERS", ("sgd",))
    assert "training.optimizer = 'adam'" in unsupported_reason(exp)
    with pytest.raises(ValueError, match="training.optimizer = 'adam'"):
        record_with_engine(exp, *dataset_of(exp))
    with caplog.at_level(logging.INFO, logger="geomcore"):
        t = record_experiment(exp)
    assert t.metadata["trainer"] == "keras.fit" and t.n_snapshots == 2
    records = [r for r in caplog.records if r.name == "geomcore"]
    assert len(records) == 1
    assert "fit" in records[0].getMessage() and "'adam'" in records[0].getMessage()


def test_an_unknown_trainer_is_an_error(make_tiny):
    with pytest.raises(ValueError, match="trainer='keras'"):
        record_experiment(make_tiny(), trainer="keras")


def test_mismatched_data_is_an_error(make_tiny):
    x, y = dataset_of(make_tiny())
    with pytest.raises(ValueError, match=r"x.shape=\(400, 2\), y.shape=\(399,\)"):
        record_with_engine(make_tiny(), x, y[:-1])


@pytest.mark.slow
def test_divergence_keeps_the_snapshots_before_it_like_fit(make_tiny):
    exp = make_tiny(model={"activation": "linear"},
                    training={"loss": "binary_crossentropy", "learning_rate": 1000.0})
    by_engine = record_experiment(exp)
    by_fit = record_experiment(exp, trainer="fit")
    assert by_engine.diverged and by_fit.diverged
    assert by_engine.n_snapshots == by_fit.n_snapshots >= 1
    at = by_engine.metadata["diverged_at_epoch"]
    assert by_engine.epochs[-1] <= at <= by_fit.metadata["diverged_at_epoch"]
    for name, a in by_engine.arrays.items():
        if a.dtype.kind == "f":
            assert np.all(np.isfinite(a)), name
    np.testing.assert_allclose(by_engine.arrays["kernel.output"], by_fit.arrays["kernel.output"],
                               rtol=1e-5, atol=1e-5)
