"""Chapter ``four_d``: the width-4 layer through a 3-D projection, saying what it hides."""

from __future__ import annotations

import manim as mn

from geomcore.anatomy import pca_projection
from scenes import facts, stage
from scenes.chapters import shots


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The 4-wide layer on its 3 principal directions, and the spread the view loses."""
    traj = runs.trajectory(4)
    width = facts.first_width(traj)
    proj = pca_projection(traj.arrays["probe.hidden_1"][-1])
    kept = 100 * float(proj.explained.sum())
    # Beyond the 3 directions drawn: one more for a 4-wide layer, width - 3 in general.
    hidden = f"a {width}th direction" if width == 4 else f"{width - 3} more directions"
    shots.hidden_space(
        scene, runs, 4, "Four dimensions, seen in three",
        f"Layer 1 has {width} units. We show\nits 3 principal directions\n(of the final image): "
        f"they\nkeep {kept:.1f} % of the spread.\n\nThe other {100 - kept:.1f} % lies along"
        f"\n{hidden} this view\nflattens: points that look\n"
        f"close may be apart in {width}-D.",
        projection=True, cues=("four_d.intro", "four_d.hidden"),
    )
