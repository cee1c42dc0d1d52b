"""Chapter ``conclusion``: the three final states side by side, with their accuracies, and
how many seeds of each width separate the rings (a sweep: :meth:`stage.LectureRuns.seed_sweep`)."""

from __future__ import annotations

import manim as mn

from geomcore.views import HiddenPlaneView, caption
from scenes import facts, slots, stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """Layer 2 of each run at its last snapshot, titled with its width and final accuracy."""
    say = stage.narrator(scene).say
    replays = [runs.replay(width) for width in stage.WIDTHS]
    heading = stage.title_bar(facts.epochs_heading([r.trajectory for r in replays]))
    views = mn.Group()
    for replay, center in zip(replays, slots.thirds(-0.2)):
        traj = replay.trajectory
        acc = float(traj.accuracy[-1])
        view = HiddenPlaneView(replay, mn.ValueTracker(1.0), center=center, width=3.6,
                               title=f"width {facts.first_width(traj)}: {100 * acc:.1f} %")
        view.clear_updaters()  # a still: the clock stays at the end
        views.add(view)
    # Beat 1: the three endings appear one after the other
    with say("conclusion.compare"):
        scene.play(mn.FadeIn(heading))
        scene.play(mn.LaggedStart(*[mn.FadeIn(v) for v in views], lag_ratio=0.4), run_time=2.5)
    # Beat 2: not luck: how many of 32 seeds of each width separate the rings (measured)
    claim = caption(facts.seed_claim(runs.seed_sweep()), font_size=24)
    claim.next_to(views, mn.DOWN, buff=0.3)
    with say("conclusion.seeds"):
        scene.play(mn.FadeIn(claim))
    # Beat 3: the lesson, over the still picture
    with say("conclusion.lesson"):
        scene.wait(1)
    stage.clear(scene, run_time=1.2)
