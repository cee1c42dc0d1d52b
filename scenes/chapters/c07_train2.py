"""Chapter ``train2``: training the network whose hidden layers are both 2 wide."""

from __future__ import annotations

import manim as mn

from scenes import stage
from scenes.chapters import shots


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The width-2 run's training replay (:func:`scenes.chapters.shots.training`)."""
    shots.training(scene, runs, 2)
