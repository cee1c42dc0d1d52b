"""geomcore.sweep: each snapshot's loss and accuracy, measured in the batched XLA program,
are what the numpy recording path (Network.loss_and_accuracy) and a lone run store."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TINY, merge

from geomcore.experiment import Experiment


def dataset_of(experiment):
    from geomcore.datasets import make_dataset

    return make_dataset(experiment.dataset.name, seed=experiment.seed,
                        **experiment.dataset.params)


K3 = merge(TINY, {
    "dataset": {"name": "blobs", "classes": 3, "n_per_class": 120, "std": 0.2},
    "model": {"hidden_widths": [4, 2]},
    "training": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam",
                 "learning_rate": 0.02, "epochs": 2},
})


@pytest.mark.slow
@pytest.mark.parametrize("changes", [
    # Snapshots every 4 steps in the first epoch: several slots of one epoch measured.
    {"training": {"epochs": 3}, "recording": {"snapshot_every_steps": 4, "dense_epochs": 1}},
    {"model": {"activation": "relu"},
     "training": {"loss": "binary_crossentropy", "optimizer": "adam", "learning_rate": 0.01,
                  "epochs": 2}},
    K3,
], ids=["mse-dense-snapshots", "bce-relu", "softmax-3-classes"])
def test_sweep_metrics_equal_numpy_and_the_lone_run(changes):
    from geomcore.engine import record_with_engine
    from geomcore.sweep import record_batched

    runs = [Experiment.from_dict(merge(TINY, {**changes, "seed": s})) for s in (3, 8)]
    batched = record_batched(runs)
    for run, b in zip(runs, batched):
        x, y = dataset_of(run)
        assert len(b.arrays["loss"]) > run.training.epochs  # in-epoch snapshots included
        # The graph's float64 measurement is numpy's, from the weights the copy stored: the
        # loss to float64 round-off, the accuracy exactly (no point lies on p = 0.5 here).
        numpy_metrics = np.array([b.network(i).loss_and_accuracy(x, y, run.training.loss)
                                  for i in range(len(b.arrays["loss"]))])
        np.testing.assert_allclose(b.arrays["loss"], numpy_metrics[:, 0], rtol=1e-12, atol=0)
        assert np.array_equal(b.arrays["accuracy"], numpy_metrics[:, 1])
        # And the lone engine recording's: the weights agree to float32 round-off (1e-5),
        # the loss to 1e-6; the accuracy exactly (400 points, none within 1e-5 of a tie).
        alone = record_with_engine(run, x, y)
        assert np.array_equal(b.arrays["epoch"], alone.arrays["epoch"])
        np.testing.assert_allclose(b.arrays["loss"], alone.arrays["loss"], rtol=0, atol=1e-6)
        assert np.array_equal(b.arrays["accuracy"], alone.arrays["accuracy"])
        # The comparison has teeth: the loss moved along training.
        assert abs(b.arrays["loss"][-1] - b.arrays["loss"][0]) > 1e-3
