"""Chapter ``data``: two noisy rings, drawn from the real dataset."""

from __future__ import annotations

import manim as mn

from geomcore.views import DataPlaneView, caption, class_legend
from scenes import facts, slots, stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """The probe points of the width-2 run, their legend, the dataset's facts and the task."""
    say = stage.narrator(scene).say
    traj = runs.first
    view = DataPlaneView(traj.probe_inputs, traj.probe_labels, box=traj.bounds,
                         center=slots.LEFT_PANEL, width=5.2, title="")
    heading = stage.title_bar("The data: two noisy concentric rings")
    legend = class_legend(facts.ring_legend(traj)).move_to(slots.RIGHT_LEGEND)
    text = caption(
        facts.data_facts(traj) + "\n\n"
        "Task: a network that outputs\np > 0.5 on the outer ring,\np < 0.5 on the inner one.",
        font_size=24, line_spacing=1.1,
    ).next_to(legend, mn.DOWN, buff=0.5, aligned_edge=mn.LEFT)
    # Beat 1: the empty plane, then the outer ring, then the inner one
    with say("data.rings"):
        scene.play(mn.FadeIn(heading), mn.Create(view.frame), mn.FadeIn(view.axis_labels))
        scene.play(mn.FadeIn(view.clouds[1]), mn.FadeIn(legend[0]), run_time=1.2)
        scene.play(mn.FadeIn(view.clouds[0]), mn.FadeIn(legend[1]), run_time=1.2)
    # Beat 2: how much data, and what the network must learn
    with say("data.task"):
        scene.play(mn.FadeIn(text))
    stage.clear(scene)
