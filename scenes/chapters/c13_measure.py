"""Chapter ``measure``: the topology measured on the recorded runs, not told.

Played before the conclusion (module numbered after it so the other chapter modules keep
their names). Every number on screen is measured by :mod:`geomcore.topology`.
"""

from __future__ import annotations

import manim as mn

from geomcore.replay import Replay
from geomcore.topology import inner_region, nesting_lost, region_bound, ring_curves
from geomcore.views import (
    WARNING_COLOR,
    HiddenPlaneView,
    LinearRegionsView,
    LossCurve,
    RegionOfRingView,
    WindingReadout,
    add_layered,
    caption,
    nesting_event_mark,
)
from scenes import facts, slots, stage

#: Seconds of screen time for each replay in this chapter.
MEASURE_SECONDS = 8.0
#: Width of the plane on the left (scene units).
PLANE_WIDTH = 4.4


def _winding_replay(scene: mn.Scene, runs: stage.LectureRuns, width: int, cue: str) -> None:
    """One run's viewed layer replayed beside its live winding number and its loss curve."""
    say = stage.narrator(scene).say
    replay = Replay(runs.trajectory(width))
    traj = replay.trajectory
    clock = mn.ValueTracker(0.0)
    heading = stage.title_bar(
        f"Measuring the topology: first hidden layer {facts.first_width(traj)} wide")
    plane = HiddenPlaneView(replay, clock, center=slots.MEASURE_PLANE, width=PLANE_WIDTH,
                            title=facts.layer_name(traj, len(traj.widths) - 1))
    readout = WindingReadout(replay, clock, corner=slots.MEASURE_READOUT)
    loss = LossCurve(replay, clock, center=slots.MEASURE_LOSS, width=4.4, height=1.5)
    blocks = [plane, readout, loss]
    event = nesting_lost(replay)
    marks = []
    if event.epoch is not None:
        marks.append(nesting_event_mark(loss, event.epoch,
                                        f"the inner ring leaves at epoch {event.epoch:.1f}"))
    with say(cue):
        scene.play(mn.FadeIn(heading), *[mn.FadeIn(b) for b in blocks],
                   *[mn.FadeIn(m) for m in marks])
        add_layered(scene, *blocks)
        scene.play(clock.animate.set_value(1.0), run_time=MEASURE_SECONDS,
                   rate_func=mn.rate_functions.linear)
    stage.clear(scene, *blocks)


def storyboard(scene: mn.Scene, runs: stage.LectureRuns) -> None:
    """Winding numbers of the width-2 and width-3 runs, the unbounded region, exact regions."""
    say = stage.narrator(scene).say
    # Beat 1: what is measured, over the width-2 run; it stays at ±1
    with say("measure.intro"):
        scene.wait(0.5)
    _winding_replay(scene, runs, 2, "measure.width2")
    # Beat 2: the width-3 run, where it drops to 0; the event marked on the loss curve
    _winding_replay(scene, runs, 3, "measure.width3")
    # Beat 3: the width-2 run's region holding the inner ring reaches the edge of a big box
    traj = runs.trajectory(2)
    rings = ring_curves(traj)
    region = inner_region(traj.network(-1), rings)
    xmin, xmax, ymin, ymax = region.box
    heading = stage.title_bar("The inner ring's region is unbounded")
    view = RegionOfRingView(region, rings, center=slots.MEASURE_PLANE, width=PLANE_WIDTH,
                            title=f"width {facts.first_width(traj)}, "
                                  f"{facts.epoch_label(traj, -1)}: box [{xmin:g}, {xmax:g}]²")
    reach = "reaches" if region.unbounded else "does not reach"
    note = caption(f"The region the network gives\nthe inner ring {reach}\nthe edge of the box.\n\n"
                   "Every layer is at most as wide\nas the input: no decision region\n"
                   "can be bounded (Beise et al.\n2018; Johnson 2019).",
                   font_size=22, line_spacing=1.0)
    note.next_to(slots.MEASURE_NOTE + 0.6 * mn.UP, mn.DOWN, buff=0, aligned_edge=mn.LEFT)
    with say("measure.unbounded"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(note))
    stage.clear(scene)
    # Beat 4: the ReLU run's exact regions over training, counted against the bound
    relu = Replay(runs.trajectory("circles-relu"))
    clock = mn.ValueTracker(0.0)
    heading = stage.title_bar("Exact linear regions of our ReLU network")
    regions = LinearRegionsView(relu, clock, center=slots.MEASURE_PLANE, width=PLANE_WIDTH,
                                title=f"input plane, {facts.layer_chain(relu.trajectory)} ReLU",
                                count_corner=slots.MEASURE_COUNT)
    widths = relu.trajectory.widths[:-1]
    factors = " × ".join(str(region_bound([w])) for w in widths)
    bound_note = caption(f"bound {factors} = {region_bound(widths)}: a layer of\n"
                         "n units cuts each region into\nat most 1 + n + n(n−1)/2 pieces",
                         font_size=20, color=WARNING_COLOR, line_spacing=1.0)
    bound_note.next_to(slots.MEASURE_NOTE, mn.DOWN, buff=0, aligned_edge=mn.LEFT)
    with say("measure.relu"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(regions))
        add_layered(scene, regions)
    with say("measure.count"):
        scene.play(mn.FadeIn(bound_note))
        scene.play(clock.animate.set_value(1.0), run_time=MEASURE_SECONDS,
                   rate_func=mn.rate_functions.linear)
    stage.clear(scene, regions)
