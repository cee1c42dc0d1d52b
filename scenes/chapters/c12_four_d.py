"""Chapter ``four_d``: the width-4 layer through a 3-D projection, saying what it hides."""

from __future__ import annotations

import manim as mn
import numpy as np

from geomcore.anatomy import pca_projection
from geomcore.topology import AlignedProjection, aligned_pca_projections, mean_displacement
from scenes import facts, stage
from scenes.chapters import shots


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The 4-wide layer on 3 principal directions, and the spread the view loses."""
    traj = runs.trajectory(4)
    width = facts.first_width(traj)
    # One image per snapshot (a long run stores them at a thinned schedule: the rest are
    # computed from the snapshot's weights), so projection i belongs to snapshot i.
    images = np.stack([traj.images("hidden_1", s)[0] for s in range(traj.n_snapshots)])
    # Two views of the layer: the final epoch's principal directions for every epoch, or
    # each epoch's own, turned onto the previous epoch's by orthogonal Procrustes. We show
    # the one whose points move less between consecutive snapshots. On circles-4d (seed 0)
    # the aligned per-epoch view moves 0.0075 layer units a snapshot on average against
    # 0.0119 for the fixed one (geomcore.topology.mean_displacement): early epochs, far from
    # the final image, no longer swing in a projection made for the end.
    final = pca_projection(images[-1])
    aligned = aligned_pca_projections(images)
    use_aligned = (mean_displacement(images, aligned)
                   < mean_displacement(images, [final] * len(images)))
    proj = AlignedProjection(tuple(aligned)) if use_aligned else final
    kept = 100 * float((aligned[-1] if use_aligned else final).explained.sum())
    which = "(each epoch's, aligned)" if use_aligned else "(of the final image)"
    # Beyond the 3 directions drawn: one more for a 4-wide layer, width - 3 in general.
    hidden = f"a {width}th direction" if width == 4 else f"{width - 3} more directions"
    shots.hidden_space(
        scene, runs, 4, "Four dimensions, seen in three",
        f"Layer 1 has {width} units. We show\nits 3 principal directions\n{which}: they"
        f"\nkeep {kept:.1f} % of the spread\nat the last epoch.\n\nThe other {100 - kept:.1f} % "
        f"lies along\n{hidden} this view\nflattens: points that look\n"
        f"close may be apart in {width}-D.",
        projection=proj, cues=("four_d.intro", "four_d.hidden"),
    )
