"""One training replay per scene, for each of the lecture's experiments.

``manim render scenes/replays.py Circles3dReplay`` renders the width-3 run alone; a replay of
another experiment is the same few lines with another name.
"""

from __future__ import annotations

import manim as mn

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.replay import Replay
from geomcore.views import ReplayPanel, add_layered


class ExperimentReplay(mn.Scene):
    """Replay the experiment named by :attr:`experiment` in :attr:`run_time` seconds."""

    experiment = "circles-3d"
    run_time = 20.0

    def construct(self) -> None:
        trajectory, _ = load_or_record(find_experiment(self.experiment))
        panel = ReplayPanel(Replay(trajectory), title=f"{self.experiment}: hidden layer (2 units)")
        add_layered(self, panel)
        self.play(panel.play_training(self.run_time))
        self.wait(1)


class Circles2dReplay(ExperimentReplay):
    experiment = "circles-2d"


class Circles3dReplay(ExperimentReplay):
    experiment = "circles-3d"


class Circles4dReplay(ExperimentReplay):
    experiment = "circles-4d"


class CirclesReluReplay(ExperimentReplay):
    """The ReLU run of the folding chapter: its hidden layer reaches far beyond tanh's range."""

    experiment = "circles-relu"


class Spirals3Replay(ExperimentReplay):
    experiment = "spirals-3"


class Blobs4Replay(ExperimentReplay):
    experiment = "blobs-4"


class Sine2Replay(ExperimentReplay):
    experiment = "sine-2"
