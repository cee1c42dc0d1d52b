"""``init_from``: an experiment starts from another experiment's initial weights."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import merge

from geomcore.errors import ExperimentError
from geomcore.experiment import Experiment, find_experiment
from geomcore.models import build_model


def _tiny(tiny_dict, **changes) -> Experiment:
    return Experiment.from_dict(merge(tiny_dict, changes))


def test_init_from_defaults_to_empty_and_must_be_a_string(tiny_dict):
    assert _tiny(tiny_dict).init_from == ""
    with pytest.raises(ExperimentError, match="init_from"):
        _tiny(tiny_dict, init_from=3)


@pytest.mark.slow
def test_a_model_starts_from_the_named_experiments_initial_weights(tiny_dict,
                                                                   write_experiment):
    source = write_experiment(merge(tiny_dict, {"name": "source", "seed": 7}), "source.toml")
    # Same shapes, another activation and seed: only the starting weights are shared.
    mine = _tiny(tiny_dict, init_from=str(source), seed=1,
                 model={"activation": "relu"})
    expected = build_model(find_experiment(str(source)), seed=7).get_weights()
    own_seed = build_model(_tiny(tiny_dict, seed=1), seed=1).get_weights()
    got = build_model(mine, seed=1).get_weights()
    assert len(got) == 6
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    assert not np.array_equal(got[0], own_seed[0])


def test_other_shapes_are_a_clear_error(tiny_dict):
    # circles-3d is 2-3-2-1; this one is 2-4-2-1.
    mine = _tiny(tiny_dict, init_from="circles-3d", model={"hidden_widths": [4, 2]})
    with pytest.raises(ExperimentError,
                       match=r"init_from 'circles-3d' has weight shapes .*\(2, 3\).*"
                             r"expected the same shapes .*\(2, 4\)"):
        build_model(mine, seed=0)


def test_unknown_and_looping_init_from_are_errors(tiny_dict, write_experiment):
    with pytest.raises(ExperimentError, match="no-such-run"):
        build_model(_tiny(tiny_dict, init_from="no-such-run"), seed=0)
    folder = write_experiment(tiny_dict, "x.toml").parent
    a, b = folder / "a.toml", folder / "b.toml"
    write_experiment(merge(tiny_dict, {"name": "a", "init_from": str(b)}), "a.toml")
    write_experiment(merge(tiny_dict, {"name": "b", "init_from": str(a)}), "b.toml")
    with pytest.raises(ExperimentError, match="loops back"):
        build_model(find_experiment(str(b)), seed=0)


@pytest.mark.slow
def test_the_recording_starts_from_the_shared_weights(tiny_dict):
    from geomcore.training import record_experiment

    mine = _tiny(tiny_dict, init_from="circles-3d", seed=5)
    expected = build_model(find_experiment("circles-3d"), seed=0).get_weights()
    trajectory = record_experiment(mine)
    kernels, biases = trajectory.weights(0)
    np.testing.assert_allclose(kernels[0], expected[0], rtol=0, atol=1e-7)
    np.testing.assert_allclose(biases[1], expected[3], rtol=0, atol=1e-7)
    assert trajectory.metadata["experiment"]["init_from"] == "circles-3d"


def test_an_unused_init_from_keeps_the_config_hash(tiny_dict):
    # Caches recorded before the field existed stay valid; a used one is another run.
    import hashlib
    import json

    plain = _tiny(tiny_dict)
    d = plain.to_dict()
    del d["init_from"]
    before = hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode())
    assert plain.config_hash() == before.hexdigest()
    assert _tiny(tiny_dict, init_from="circles-3d").config_hash() != plain.config_hash()
