"""Chapter ``inside``: data and grid pushed through the untrained network, layer by layer."""

from __future__ import annotations

import manim as mn

from geomcore.views import BOUNDARY_COLOR, LayerMorphView, caption
from scenes import facts, slots, stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The untrained width-2 network's input plane morphing into layer 1, then layer 2."""
    say = stage.narrator(scene).say
    traj = runs.first
    depth = mn.ValueTracker(0.0)
    view = LayerMorphView(traj.network(0), traj.probe_inputs, traj.probe_labels,
                          traj.grid_inputs, depth, center=slots.LEFT_STAGE, width=5.0)
    heading = stage.title_bar("Looking inside a layer")
    label = caption("input plane", font_size=26, color=BOUNDARY_COLOR)
    label.next_to(view.frame, mn.UP, buff=0.12)
    lines = caption(
        "Layer n's view of the data:\nwhere the first n layers send\n"
        "every point and every grid line.\n\n"
        "One layer: h = tanh(x W + b)\n • W stretches and rotates\n • b shifts\n"
        " • tanh bends, squashing\n   everything into (-1, 1)\n\n"
        "This network is untrained:\nits weights are random.",
        font_size=22, line_spacing=1.05,
    ).move_to(slots.RIGHT_TEXT)
    # Beat 1: the input plane and what "a layer's view" means
    with say("inside.idea"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(label))
        scene.play(mn.FadeIn(lines), run_time=1.0)
    # Beat 2 and 3: the plane flows into layer 1, then into layer 2
    for n in (1, 2):
        new = caption(facts.layer_name(traj, n), font_size=26,
                      color=BOUNDARY_COLOR).move_to(label)
        with say(f"inside.layer{n}"):
            scene.play(depth.animate.set_value(n), mn.Transform(label, new), run_time=3,
                       rate_func=mn.rate_functions.smooth)
    stage.clear(scene, view)
