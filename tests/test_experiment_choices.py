"""The choice lists of geomcore.experiment are what the model builder, trainers and CLI accept."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geomcore.cli import main
from geomcore.experiment import ACTIVATIONS, LOSSES, OPTIMIZERS, TRAINERS


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_builds_a_model_that_applies_it(make_tiny, activation):
    import numpy as np

    from geomcore.models import build_model

    model = build_model(make_tiny(model={"activation": activation}))
    hidden = model.get_layer("hidden_1")
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]], dtype=np.float32)
    expected = {"tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z)), "relu": np.maximum(z, 0),
                "linear": z, "abs": np.abs(z)}[activation]
    np.testing.assert_allclose(np.asarray(hidden.activation(z)), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_name_builds_that_keras_optimizer(make_tiny, optimizer):
    from geomcore.models import make_optimizer

    built = make_optimizer(make_tiny(training={"optimizer": optimizer, "learning_rate": 0.25}))
    assert type(built).__name__.lower() == optimizer
    assert float(built.learning_rate) == 0.25


def test_the_trainers_and_the_engine_accept_the_same_names():
    import geomcore.engine as engine
    import geomcore.training as training

    assert tuple(training.TRAINERS) == TRAINERS
    assert set(engine.SUPPORTED_LOSSES) <= set(LOSSES)
    assert set(engine.SUPPORTED_OPTIMIZERS) <= set(OPTIMIZERS)


def test_the_cli_offers_the_trainers_constant():
    [option] = [p for p in main.commands["train"].params if p.name == "trainer"]
    assert tuple(option.type.choices) == TRAINERS and option.default == TRAINERS[0]
    result = CliRunner().invoke(main, ["train", "--help"])
    assert "[engine|fit]" in result.output
