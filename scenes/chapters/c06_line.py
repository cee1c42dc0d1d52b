"""Chapter ``line``: the decision line and its equation, on the untrained width-2 network."""

from __future__ import annotations

import manim as mn

from geomcore.views import BOUNDARY_COLOR, HiddenPlaneView, caption, caption_markup
from scenes import facts, slots, stage

#: The hidden plane's box in layer-2 units: tanh's square (-1, 1)², with a margin.
HIDDEN_BOX = (-1.25, 1.25, -1.25, 1.25)


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """Layer 2 of the untrained width-2 network, the output unit's line and its coefficients."""
    say = stage.narrator(scene).say
    replay = runs.replay(2)
    traj = replay.trajectory
    clock = mn.ValueTracker(0.0)
    view = HiddenPlaneView(replay, clock, center=slots.FAR_LEFT_PANEL, width=4.9,
                           box=HIDDEN_BOX, title=facts.layer_name(traj, 2))
    a, b, c = replay.frame(0.0).boundary
    heading = stage.title_bar("The decision line")
    eq1 = caption_markup("p = σ(a·h<sub>1</sub> + b·h<sub>2</sub> + c)", font_size=30)
    eq2 = caption_markup("p = 0.5  ⇔  a·h<sub>1</sub> + b·h<sub>2</sub> + c = 0",
                         font_size=30, color=BOUNDARY_COLOR)
    coef = caption(f"a = {a:+.2f}   b = {b:+.2f}   c = {c:+.2f}", font_size=24, color=mn.GREY_A)
    text = caption_markup(
        "The output unit sees only (h<sub>1</sub>, h<sub>2</sub>).\n"
        "It answers class 1 on one side\nof a straight line, class 0 on the other.\n\n"
        "Training moves the line\nand bends the space under it\nat the same time.",
        font_size=22, line_spacing=1.05,
    )
    right = mn.VGroup(eq1, eq2, coef, text).arrange(mn.DOWN, aligned_edge=mn.LEFT, buff=0.35)
    right.scale_to_fit_width(min(right.width, slots.RIGHT_EQUATIONS_WIDTH))
    right.move_to(slots.RIGHT_EQUATIONS)
    view.line.save_state()
    # Beat 1: the hidden plane and what the output unit computes
    with say("line.unit"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view.frame), mn.FadeIn(view.title),
                   mn.FadeIn(view.grid), mn.FadeIn(view.clouds[0]), mn.FadeIn(view.clouds[1]))
        scene.play(mn.Write(eq1), run_time=1.2)
    scene.add(view)
    # Beat 2: p = 0.5 is a straight line, with this network's coefficients
    with say("line.line"):
        scene.play(mn.Create(view.line), mn.Write(eq2), run_time=1.5)
        scene.play(mn.FadeIn(coef))
    # Beat 3: training will move it
    with say("line.moves"):
        scene.play(mn.FadeIn(text))
    stage.clear(scene, view)
