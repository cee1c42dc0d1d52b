"""Chapter ``space3d``: the width-3 network's first hidden layer in 3-D, with the decision
surface, while training replays."""

from __future__ import annotations

import manim as mn

from scenes import facts, stage
from scenes.chapters import shots


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The 3-wide layer, its decision surface, and the inner ring lifted across it."""
    width = facts.first_width(runs.trajectory(3))
    shots.hidden_space(
        scene, runs, 3, f"Inside the {width}-wide layer",
        "The image of the data and\nof the input grid (a surface)\nin layer 1.\n\n"
        "Yellow: the decision surface,\nthe points that layer 2 sends\nonto the decision line."
        "\n\nTraining lifts the inner ring\nout of the outer one, to the\nother side "
        "of the surface.",
        projection=False, cues=("space3d.intro", "space3d.surface", "space3d.lift"),
    )
