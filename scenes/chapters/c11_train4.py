"""Chapter ``train4``: training the network whose first hidden layer is 4 wide."""

from __future__ import annotations

import manim as mn

from scenes import stage
from scenes.chapters import shots


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The width-4 run's training replay (:func:`scenes.chapters.shots.training`)."""
    shots.training(scene, runs, 4)
