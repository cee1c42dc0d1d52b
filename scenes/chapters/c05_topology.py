"""Chapter ``topology``: the plane is dough; no 2 → 2 tanh layer with det W ≠ 0 cuts a ring."""

from __future__ import annotations

import manim as mn
import numpy as np

from geomcore.anatomy import kernel_determinants
from geomcore.views import (
    BOUNDARY_COLOR,
    CLASS_COLORS,
    FOLD_COLOR,
    CurvePlot,
    LayerMorphView,
    caption,
)
from scenes import facts, slots, stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The trained width-2 network layer by layer, an illustrated cut, det W along training."""
    say = stage.narrator(scene).say
    traj = runs.trajectory(2)
    chain = facts.layer_chain(traj).split(" → ")
    heading = stage.title_bar("Topology: the plane is dough")
    depth = mn.ValueTracker(0.0)
    view = LayerMorphView(traj.network(-1), traj.probe_inputs, traj.probe_labels,
                          traj.grid_inputs, depth, center=slots.FAR_LEFT_LOW, width=4.4,
                          title=f"the trained width-{facts.first_width(traj)} network, "
                                "layer by layer")
    text = caption(
        f"A {chain[0]} → {chain[1]} {traj.metadata['activations'][0]} layer whose kernel "
        "has det W ≠ 0\n"
        "is a homeomorphism onto its image:\n"
        "it may stretch and bend the dough,\nnever tear it or glue it.",
        font_size=20, line_spacing=1.05).move_to(slots.RIGHT_TOP_TEXT)
    # Beat 1: the trained network bends the plane, layer by layer, without tearing it
    with say("topology.dough"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(text))
        scene.play(depth.animate.set_value(2.0), run_time=4, rate_func=mn.rate_functions.smooth)
    stage.freeze(view)

    # Beat 2: an illustration, not a network: what separating the rings would take
    cut_note = caption("Pulling the inner ring out would need a cut:\n"
                       "(an illustration — no such layer exists)",
                       font_size=20, color=FOLD_COLOR).move_to(slots.RIGHT_MIDDLE_TEXT)
    outer = mn.Arc(radius=0.9, start_angle=0.35, angle=2 * np.pi - 0.7, color=CLASS_COLORS[1],
                   stroke_width=5).move_arc_center_to(slots.CUT_RINGS)
    inner = mn.Circle(radius=0.42, color=CLASS_COLORS[0], stroke_width=5).move_to(slots.CUT_RINGS)
    with say("topology.cut"):
        scene.play(mn.FadeIn(cut_note), mn.Create(outer), mn.Create(inner))
        scene.play(inner.animate.shift(slots.CUT_SHIFT * mn.RIGHT), run_time=1.5)
    scene.play(mn.FadeOut(outer), mn.FadeOut(inner), mn.FadeOut(cut_note))

    # Beat 3: det W of every layer, from the run: it never reaches 0
    dets = kernel_determinants(traj)
    plot = CurvePlot(traj.epochs, {f"layer {k[-1]}": v for k, v in dets.items()},
                     center=slots.DET_PLOT, width=3.6, height=1.6,
                     title="det W of each layer along training")
    lowest = min(float(np.abs(v).min()) for v in dets.values())
    verdict = caption(f"never 0 (smallest |det W| = {lowest:.2f}):\nthe rings stay nested",
                      font_size=20, color=BOUNDARY_COLOR).next_to(plot, mn.DOWN, buff=0.3)
    with say("topology.det"):
        scene.play(mn.FadeIn(plot))
        scene.play(mn.FadeIn(verdict))
    stage.clear(scene)
