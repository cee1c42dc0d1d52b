"""Chapter ``anatomy``: a layer's linear map, bias and activation, early and late in training;
then a 2 → 3 layer lifting the plane into space and a 3 → 2 layer flattening it back."""

from __future__ import annotations

import manim as mn
import numpy as np

from geomcore.anatomy import kernel_ellipse, steps_space
from geomcore.views import BOUNDARY_COLOR, SpaceView, StageView, caption, caption_markup
from scenes import facts, slots, stage

#: The two moments compared side by side: the first and the last snapshot after epoch 0.
SNAPSHOTS = (1, -1)


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """Both halves of the chapter: the three steps of one layer, then lift and collapse."""
    steps_of_a_layer(scene, runs)
    lift_and_collapse(scene, runs)


def steps_of_a_layer(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The width-2 run's first layer, split into x W, + b and tanh, at two epochs."""
    say = stage.narrator(scene).say
    traj = runs.trajectory(2)
    heading = stage.title_bar("Anatomy of a layer: h = tanh(x W + b)")
    t = mn.ValueTracker(0.0)
    views, notes = [], []
    for snap, center in zip(SNAPSHOTS, slots.halves(-0.15)):
        net = traj.network(snap)
        ell = kernel_ellipse(net.kernels[0])
        view = StageView(net, "hidden_1", traj.probe_inputs, traj.probe_labels,
                         traj.grid_inputs, t, center=center, width=4.0,
                         title=f"width-{facts.first_width(traj)} network, layer 1, "
                               f"{facts.epoch_label(traj, snap)}")
        views.append(view)
        notes.append(caption_markup(
            f"σ<sub>1</sub> = {ell.singular_values[0]:.2f}   σ<sub>2</sub> = "
            f"{ell.singular_values[1]:.2f}\nmajor axis {ell.rotation_degrees:.0f}°   "
            f"det W = {ell.determinant:+.2f}",
            font_size=18, color=mn.GREY_A).next_to(view.frame, mn.DOWN, buff=0.1))
    step = caption("the unit circle (green) and the data, before the layer",
                   font_size=24, color=BOUNDARY_COLOR).next_to(heading, mn.DOWN, buff=0.15)
    # Beat 1: the same layer early and late, before it acts
    with say("anatomy.intro"):
        scene.play(mn.FadeIn(heading), *[mn.FadeIn(v) for v in views], mn.FadeIn(step))
    # Beats 2-4: x W (with the kernel's singular values), + b, then tanh
    steps = (
        ("anatomy.linear", "1. linear map x W: the unit circle becomes an ellipse;\n"
         "its axes are W's singular values (stretch) and directions (rotate)"),
        ("anatomy.bias", "2. bias: + b shifts everything"),
        ("anatomy.tanh", "3. tanh bends: points far out saturate near ±1"),
    )
    for k, (cue, text) in enumerate(steps):
        new = caption(text, font_size=24, color=BOUNDARY_COLOR).next_to(heading, mn.DOWN,
                                                                         buff=0.2)
        with say(cue):
            scene.play(mn.Transform(step, new), run_time=0.6)
            scene.play(t.animate.set_value(k + 1), run_time=2.5,
                       rate_func=mn.rate_functions.smooth)
            if k == 0:
                scene.play(*[mn.FadeIn(n) for n in notes])
    # Beat 5: compare early and late
    with say("anatomy.compare"):
        scene.wait(0.5)
    stage.clear(scene, *views)


def lift_and_collapse(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The width-3 run: layer 1 (2 → 3) lifts the plane, layer 2 (3 → 2) flattens it."""
    say = stage.narrator(scene).say
    traj3 = runs.trajectory(3)
    wide, narrow = traj3.widths[0], traj3.widths[1]
    heading = stage.title_bar(f"A layer {wide} wide lifts the plane into space")
    for layer, text, cue in (
        ("hidden_1", f"layer 1: 2 → {wide} — the plane is lifted into space", "anatomy.lift"),
        ("hidden_2", f"layer 2: {wide} → {narrow} — space is flattened back onto a plane",
         "anatomy.collapse"),
    ):
        t = mn.ValueTracker(0.0)
        azimuth = mn.ValueTracker(-60.0)
        spaces = []
        for snap, center in zip(SNAPSHOTS, slots.halves(-0.55)):
            net = traj3.network(snap)
            src = steps_space(net, layer, traj3.probe_inputs, traj3.grid_inputs[:, ::4])
            # Pre-activations of a trained layer reach far beyond tanh's cube: fit them all.
            reach = max(1.0, *(float(np.abs(src(k).grid).max()) for k in (0.0, 1.0, 2.0)))
            spaces.append(SpaceView(src, t, traj3.probe_labels, azimuth, elevation=22,
                                    center=center, size=1.3 / reach,
                                    title=f"{facts.epoch_label(traj3, snap)} "
                                          f"(cube ±{reach:.1f})",
                                    half_side=reach))
        sub = caption(text, font_size=24, color=BOUNDARY_COLOR).next_to(heading, mn.DOWN,
                                                                        buff=0.15)
        # Beat 6 and 7: the space turns while the layer's three steps play
        scene.play(mn.FadeIn(heading), mn.FadeIn(sub), *[mn.FadeIn(v) for v in spaces])
        with say(cue):
            for k in range(3):
                scene.play(t.animate.set_value(k + 1), azimuth.animate.increment_value(25),
                           run_time=2.2, rate_func=mn.rate_functions.smooth)
        stage.clear(scene, *spaces)
