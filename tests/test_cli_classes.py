"""``geomcore train`` and ``inspect`` on the shipped K-class experiments."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geomcore.cli import main
from geomcore.experiment import find_experiment


@pytest.mark.parametrize(("name", "classes", "softmax"), [
    ("spirals-3", 3, True), ("blobs-4", 4, True), ("sine-2", 2, False),
])
def test_shipped_k_class_experiments(name, classes, softmax):
    e = find_experiment(name)
    assert e.classes == classes and e.softmax_output is softmax


@pytest.mark.slow
def test_train_spirals_3_then_inspect_shows_accuracy_per_class(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path))
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "spirals-3"])
    assert trained.exit_code == 0, trained.output
    [path] = tmp_path.glob("spirals-3-*.npz")
    result = runner.invoke(main, ["inspect", "--json", str(path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # Measured when the widths were chosen (see the experiment file's comment): 0.999.
    assert summary["final_accuracy"] >= 0.95
    assert summary["classes"] == 3 and summary["widths"] == [8, 8, 2, 3]
    assert len(summary["per_class_accuracy"]) == 3
    assert all(a >= 0.95 for a in summary["per_class_accuracy"])
    text = runner.invoke(main, ["inspect", str(path)]).stdout
    per = summary["per_class_accuracy"]
    assert (f"per-class acc   0: {per[0]:.4f}  1: {per[1]:.4f}  2: {per[2]:.4f}  (probe points)"
            in text)
