"""Chapter ``folding``: a 3 → 2 layer, or a ReLU, folds the plane onto itself."""

from __future__ import annotations

import manim as mn

from geomcore.views import FOLD_COLOR, FoldPanel, caption
from scenes import facts, stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The fold curves (where det J changes sign or vanishes) of the width-3 and ReLU runs."""
    say = stage.narrator(scene).say
    wide = runs.trajectory(3)
    relu = runs.trajectory("circles-relu")
    shots = (
        # Beat 1: 3 → 2 lays the plane over itself
        (wide, f"Folding: {wide.widths[0]} → {wide.widths[1]} lays the plane over itself",
         "pink: where det J of input → layer 2 changes sign", "folding.fold3"),
        # Beat 2: ReLU flattens half-planes
        (relu, "Folding: ReLU flattens half-planes",
         f"our ReLU network, {facts.layer_chain(relu)} · pink: edges of the regions where "
         "det J = 0", "folding.relu"),
    )
    for traj, title, text, cue in shots:
        panel = FoldPanel(runs.replay(traj.name))
        heading = stage.title_bar(title)
        sub = caption(text, font_size=22, color=FOLD_COLOR).next_to(heading, mn.DOWN, buff=0.12)
        with say(cue):
            scene.play(mn.FadeIn(heading), mn.FadeIn(panel), mn.FadeIn(sub))
        stage.clear(scene)
