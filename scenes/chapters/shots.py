"""Shots two or more chapters share: a training replay, a hidden layer seen in 3-D."""

from __future__ import annotations

import manim as mn

from geomcore.anatomy import pca_projection, replay_space
from geomcore.replay import Replay
from geomcore.views import (
    BOUNDARY_COLOR,
    MetricsReadout,
    ReplayPanel,
    SpaceView,
    add_layered,
    caption,
)
from scenes import facts, slots, stage

#: Seconds of screen time for the replay under a space chapter's cues.
SPACE_SECONDS = 16.0


def training(scene: mn.Scene, runs: stage.LectureRuns, width: int) -> None:
    """One training replay (chapters ``train2``, ``train3``, ``train4``).

    Both planes, readout and loss curve on one clock, under the cues ``train<width>.setup``,
    ``.watch`` and ``.verdict`` (all three must exist in the narration).

    Parameters
    ----------
    scene
        The scene being built.
    runs
        The lecture's runs.
    width
        First hidden width of the run, i.e. the experiment ``circles-<width>d``.
    """
    say = stage.narrator(scene).say
    traj = runs.trajectory(width)
    heading = stage.title_bar(
        f"Training with a first hidden layer {facts.first_width(traj)} wide")
    arch = caption(facts.architecture_line(traj), font_size=20,
                   color=mn.GREY_A).next_to(heading, mn.DOWN, buff=0.12)
    panel = ReplayPanel(Replay(traj),
                        title=f"{facts.layer_name(traj, len(traj.widths) - 1)} "
                              "with the decision line")
    # Beat 1: the network, its training settings, and both planes at epoch 0
    with say(f"train{width}.setup"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(arch), mn.FadeIn(panel))
    add_layered(scene, panel)
    # Beat 2: the whole training, replayed on one clock
    with say(f"train{width}.watch"):
        scene.play(panel.play_training(stage.REPLAY_SECONDS))
    # Beat 3: the verdict, from the run's last snapshot
    final = float(traj.accuracy[-1])
    result = caption(f"final accuracy\n{100 * final:.1f} %", font_size=26,
                     color=BOUNDARY_COLOR).move_to(slots.RIGHT_RESULT)
    with say(f"train{width}.verdict"):
        scene.play(mn.FadeIn(result))
    stage.clear(scene, panel)


def hidden_space(scene: mn.Scene, runs: stage.LectureRuns, width: int, heading_text: str,
                 note: str, projection: bool | object, cues: tuple[str, ...]) -> None:
    """The first hidden layer of ``circles-<width>d`` in 3-D while training replays.

    Parameters
    ----------
    scene, runs
        The scene being built and the lecture's runs.
    width
        First hidden width of the run.
    heading_text, note
        The heading and the note beside the space.
    projection
        Whether to project the layer onto its 3 principal directions (of the final image),
        for layers wider than 3; or the projection itself (a ``Projection``, or an
        ``AlignedProjection`` that follows training, see :func:`geomcore.anatomy.replay_space`).
    cues
        The first is said while the shot appears; the replay runs under the others.
    """
    say = stage.narrator(scene).say
    replay = runs.replay(width)
    traj = replay.trajectory
    proj = projection if not isinstance(projection, bool) else (
        pca_projection(traj.arrays["probe.hidden_1"][-1]) if projection else None)
    clock = mn.ValueTracker(0.0)
    azimuth = mn.ValueTracker(-70.0)
    names = ("PC<sub>1</sub>", "PC<sub>2</sub>", "PC<sub>3</sub>") if projection else (
        "h<sub>1</sub>", "h<sub>2</sub>", "h<sub>3</sub>")
    view = SpaceView(replay_space(replay, "hidden_1", proj), clock, traj.probe_labels, azimuth,
                     elevation=24, center=slots.LEFT_SPACE, size=1.45 if projection else 1.55,
                     axis_names=names, half_side=1.3 if projection else 1.0)
    metrics = MetricsReadout(replay, clock, corner=slots.RIGHT_READOUT, font_size=22)
    heading = stage.title_bar(heading_text)
    text = caption(note, font_size=18, line_spacing=1.0)
    text.next_to(slots.RIGHT_NOTE, mn.DOWN, buff=0, aligned_edge=mn.LEFT)
    # Beat 1: the layer at epoch 0, the readout, what we are looking at
    with say(cues[0]):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(metrics), mn.FadeIn(text))
    # Beat 2…: the replay runs under the remaining cues, one after the other, turning
    parts = len(cues) - 1
    for k, cue in enumerate(cues[1:]):
        with say(cue):
            scene.play(clock.animate.set_value((k + 1) / parts),
                       azimuth.animate.increment_value(110 / parts),
                       run_time=SPACE_SECONDS / parts, rate_func=mn.rate_functions.linear)
    # Last beat: one more turn of the final state
    scene.play(azimuth.animate.increment_value(40), run_time=3)
    stage.clear(scene, view, metrics)
