"""Numbers on screen come from the run: each chapter's text checked against the metadata.

Chapters run under ``dry_run`` (:func:`scenes.layout_probe.probe`) on the lecture's recorded
runs and on copies whose metadata (or epochs) were changed: the text must follow.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sweep_helpers import seed_sweep_rows

from geomcore.cache import load_or_record
from geomcore.errors import GeomcoreError
from geomcore.experiment import find_experiment
from geomcore.narration import NarrationError
from geomcore.trajectory import Trajectory
from scenes import facts, stage
from scenes.layout_probe import probe
from scenes.lecture import chapter
from scenes.stage import LectureRuns, LectureScene


def _texts(chapter_id: str, runs: LectureRuns) -> set[str]:
    _, samples = probe(chapter(chapter_id).storyboard, runs, base=LectureScene)
    return {t.text for s in samples for t in s.texts}


def _edited(traj: Trajectory, epochs_scale: float = 1.0, **changes: dict) -> Trajectory:
    """A copy of ``traj`` whose experiment metadata has ``changes`` merged per section."""
    metadata = copy.deepcopy(traj.metadata)
    for section, values in changes.items():
        target = metadata["experiment"][section]
        (target["params"] if section == "dataset" else target).update(values)
    arrays = dict(traj.arrays)
    arrays["epoch"] = (traj.epochs * epochs_scale).astype(traj.epochs.dtype)
    return Trajectory(arrays, metadata)


@pytest.fixture(scope="module")
def real(lecture_runs, lecture_dir) -> dict[str, Trajectory]:
    out = {name: run.trajectory for name, run in lecture_runs.items()}
    out["circles-relu"], _ = load_or_record(find_experiment("circles-relu"),
                                            directory=lecture_dir, progress=False)
    return out


def test_the_real_runs_text_matches_their_metadata(real):
    two = real["circles-2d"]
    texts = _texts("data", LectureRuns(_cache=dict(real)))
    assert "class 1: outer ring, radius 1" in texts
    assert "class 0: inner ring, radius 0.5" in texts
    assert any(t.startswith("20,000 points per class\n(2,000 drawn here)\n"
                            "Gaussian noise σ = 0.005\n") for t in texts)
    assert two.metadata["experiment"]["dataset"]["params"]["n_per_class"] == 20000
    texts = _texts("train3", LectureRuns(_cache=dict(real)))
    assert ("Dense(3, tanh) → Dense(2, tanh) → Dense(1, sigmoid)   ·   SGD, learning rate "
            "0.005, MSE, batch 32") in texts
    assert "Training with a first hidden layer 3 wide" in texts
    assert "layer 2 (2 units) with the decision line" in texts
    acc = 100 * float(real["circles-3d"].accuracy[-1])
    assert f"final accuracy\n{acc:.1f} %" in texts


def test_data_and_training_text_follow_edited_metadata(real):
    runs = dict(real)
    runs["circles-2d"] = _edited(real["circles-2d"], dataset={
        "outer_radius": 2.0, "inner_radius": 0.75, "n_per_class": 12345, "noise": 0.02})
    runs["circles-3d"] = _edited(real["circles-3d"], training={
        "optimizer": "adam", "loss": "binary_crossentropy", "learning_rate": 0.0123,
        "batch_size": 64})
    texts = _texts("data", LectureRuns(_cache=runs))
    assert "class 1: outer ring, radius 2" in texts
    assert "class 0: inner ring, radius 0.75" in texts
    assert "class 1: outer ring, radius 1" not in texts
    assert any(t.startswith("12,345 points per class\n(2,000 drawn here)\n"
                            "Gaussian noise σ = 0.02\n") for t in texts)
    texts = _texts("train3", LectureRuns(_cache=runs))
    assert ("Dense(3, tanh) → Dense(2, tanh) → Dense(1, sigmoid)   ·   Adam, learning rate "
            "0.0123, cross-entropy, batch 64") in texts
    assert not any("SGD" in t for t in texts)


def test_conclusion_heading_and_titles_follow_the_runs(real):
    texts = _texts("conclusion", LectureRuns(_cache=dict(real), _sweep=seed_sweep_rows()))
    assert "After 100 epochs" in texts
    assert ("Seeds that separate the rings (final accuracy ≥ 99 %): width 2: 0 of 32; "
            "width 3: 31 of 32") in texts
    for width in (2, 3, 4):
        acc = 100 * float(real[f"circles-{width}d"].accuracy[-1])
        assert f"width {width}: {acc:.1f} %" in texts
    longer = {name: _edited(t, epochs_scale=2.0) for name, t in real.items()}
    texts = _texts("conclusion", LectureRuns(_cache=longer, _sweep=seed_sweep_rows()))
    assert "After 200 epochs" in texts
    assert "After 100 epochs" not in texts


def test_facts_read_epochs_widths_and_layers(real):
    three = real["circles-3d"]
    assert facts.epoch_label(three, 1) == "epoch 1"
    assert facts.epoch_label(three, -1) == "epoch 100"
    assert facts.epoch_label(_edited(three, epochs_scale=3.0), -1) == "epoch 300"
    assert facts.first_width(real["circles-4d"]) == 4
    assert facts.layer_chain(three) == "2 → 3 → 2"
    assert facts.layer_chain(real["circles-relu"]) == "2 → 2 → 2"
    assert facts.layer_name(three, 1) == "layer 1 (3 units)"
    assert facts.layer_name(three, 2) == "layer 2 (2 units)"
    momentum = _edited(three, training={"momentum": 0.9})
    assert "SGD (momentum 0.9), learning rate 0.005" in facts.architecture_line(momentum)


def test_facts_refuse_what_they_cannot_word(real):
    three = real["circles-3d"]
    with pytest.raises(GeomcoreError, match=r"layer 3 does not exist; expected 1 to 2"):
        facts.layer_name(three, 3)
    with pytest.raises(GeomcoreError, match=r"the runs compared end at epochs \[100.0, 200.0\]"):
        facts.epochs_heading([three, _edited(three, epochs_scale=2.0)])
    metadata = copy.deepcopy(three.metadata)
    metadata["experiment"]["dataset"]["name"] = "moons"
    with pytest.raises(GeomcoreError, match=r"dataset 'moons' has no rings"):
        facts.ring_legend(Trajectory(dict(three.arrays), metadata))


def test_an_unknown_narration_cue_is_an_error():
    def storyboard(scene, runs):
        with stage.narrator(scene).say("train4.nonexistent"):
            scene.wait(1)

    with pytest.raises(NarrationError, match="train4.nonexistent"):
        probe(storyboard, None, base=LectureScene)


def test_every_training_chapter_says_its_watch_cue(real):
    # No silent skip: the replay of each width runs under its own "watch" cue.
    for width in (2, 3, 4):
        scene, _ = probe(chapter(f"train{width}").storyboard, LectureRuns(_cache=dict(real)),
                         base=LectureScene)
        cues = [c for c, _, _ in scene.narrator.cues_shown]
        assert cues == [f"train{width}.setup", f"train{width}.watch", f"train{width}.verdict"]
        assert np.isclose(scene.narrator.cues_shown[1][2], stage.REPLAY_SECONDS)
