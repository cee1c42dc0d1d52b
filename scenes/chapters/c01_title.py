"""Chapter ``title``: the lecture's title card."""

from __future__ import annotations

import manim as mn

from geomcore.views import caption
from scenes import stage


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """Title, subtitle and the promise that every picture comes from a trained network."""
    say = stage.narrator(scene).say
    title = caption("How a neural network bends space", font_size=52)
    subtitle = caption("two rings, three small networks, and the line that separates them",
                       font_size=28, color=mn.GREY_A).next_to(title, mn.DOWN, buff=0.35)
    note = caption("every picture is computed by a trained Keras network",
                   font_size=22, color=mn.GREY_B).to_edge(mn.DOWN, buff=1.0)
    # Beat 1: the title writes itself, the subtitle rises under it
    with say("title.intro"):
        scene.play(mn.Write(title), run_time=1.5)
        scene.play(mn.FadeIn(subtitle, shift=0.2 * mn.UP))
    # Beat 2: the promise: nothing here is drawn by hand
    with say("title.promise"):
        scene.play(mn.FadeIn(note))
    stage.clear(scene)
