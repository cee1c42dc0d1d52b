"""The chapters of the circles lecture, as storyboard functions.

Each chapter takes the scene and the lecture's recorded runs and says what appears and when.
``scenes/circles.py`` plays them in order as one scene with a section per chapter; a chapter
can also be its own scene (see ``ChapterScene``). Geometry lives in :mod:`geomcore.replay`,
drawing in :mod:`geomcore.views`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import manim as mn

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.replay import Replay
from geomcore.trajectory import Trajectory
from geomcore.views import (
    BOUNDARY_COLOR,
    DataPlaneView,
    HiddenPlaneView,
    LayerMorphView,
    ReplayPanel,
    add_layered,
    caption,
    class_legend,
)

__all__ = ["CHAPTERS", "ChapterScene", "LectureRuns", "WIDTHS"]

#: The three experiments of the lecture, by the width of their first hidden layer.
WIDTHS = (2, 3, 4)
#: Seconds of screen time for each training replay.
REPLAY_SECONDS = 20.0


@dataclass
class LectureRuns:
    """The lecture's recorded trajectories, loaded (or recorded) on first use."""

    _cache: dict[int, Trajectory] = field(default_factory=dict)

    def trajectory(self, width: int) -> Trajectory:
        if width not in self._cache:
            self._cache[width], _ = load_or_record(find_experiment(f"circles-{width}d"))
        return self._cache[width]

    def replay(self, width: int) -> Replay:
        return Replay(self.trajectory(width))

    @cached_property
    def first(self) -> Trajectory:
        """The width-2 run: every layer 2 wide, so every layer can be drawn in the plane."""
        return self.trajectory(2)


def _title_bar(text: str) -> mn.MarkupText:
    return caption(text, font_size=34).to_edge(mn.UP, buff=0.3)


def _clear(scene: mn.Scene, run_time: float = 0.8) -> None:
    if scene.mobjects:
        scene.play(*[mn.FadeOut(m) for m in scene.mobjects], run_time=run_time)
    scene.clear()


def chapter_title(scene: mn.Scene, runs: LectureRuns) -> None:
    """(1) Title."""
    title = caption("How a neural network bends space", font_size=52)
    subtitle = caption("two rings, three small networks, and the line that separates them",
                       font_size=28, color=mn.GREY_A).next_to(title, mn.DOWN, buff=0.35)
    note = caption("every picture is computed by a trained Keras network",
                   font_size=22, color=mn.GREY_B).to_edge(mn.DOWN, buff=0.5)
    scene.play(mn.Write(title), run_time=1.5)
    scene.play(mn.FadeIn(subtitle, shift=0.2 * mn.UP), mn.FadeIn(note))
    scene.wait(2)
    _clear(scene)


def chapter_data(scene: mn.Scene, runs: LectureRuns) -> None:
    """(2) The data: two noisy rings, drawn from the real dataset."""
    traj = runs.first
    view = DataPlaneView(traj.probe_inputs, traj.probe_labels, box=traj.bounds,
                         center=(-2.2, -0.3, 0), width=5.6, title="")
    heading = _title_bar("The data: two noisy concentric rings")
    legend = class_legend(
        {1: "class 1: outer ring, radius 1", 0: "class 0: inner ring, radius 0.5"}
    )
    legend.move_to((3.6, 1.2, 0))
    text = caption(
        "20,000 points per class\n(2,000 drawn here)\nGaussian noise σ = 0.005\n\n"
        "Task: a network that outputs\np > 0.5 on the outer ring,\np &lt; 0.5 on the inner one.",
        font_size=24, line_spacing=1.1,
    ).next_to(legend, mn.DOWN, buff=0.5, aligned_edge=mn.LEFT)
    scene.play(mn.FadeIn(heading), mn.Create(view.frame), mn.FadeIn(view.axis_labels))
    scene.play(mn.FadeIn(view.clouds[1]), mn.FadeIn(legend[0]), run_time=1.2)
    scene.play(mn.FadeIn(view.clouds[0]), mn.FadeIn(legend[1]), run_time=1.2)
    scene.play(mn.FadeIn(text))
    scene.wait(3)
    _clear(scene)


def chapter_inside_a_layer(scene: mn.Scene, runs: LectureRuns) -> None:
    """(3) Looking inside a layer: data and grid through the untrained network."""
    traj = runs.first
    net = traj.network(0)
    depth = mn.ValueTracker(0.0)
    view = LayerMorphView(net, traj.probe_inputs, traj.probe_labels, traj.grid_inputs, depth,
                          center=(-2.3, -0.35, 0), width=5.4)
    heading = _title_bar("Looking inside a layer")
    stage = caption("input plane", font_size=26, color=BOUNDARY_COLOR)
    stage.next_to(view.frame, mn.UP, buff=0.12)
    lines = caption(
        "Layer n's view of the data:\nwhere the first n layers send\n"
        "every point and every grid line.\n\n"
        "One layer: h = tanh(x W + b)\n • W stretches and rotates\n • b shifts\n"
        " • tanh bends, squashing\n   everything into (-1, 1)\n\n"
        "This network is untrained:\nits weights are random.",
        font_size=22, line_spacing=1.05,
    ).move_to((3.9, -0.3, 0))
    scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(stage))
    scene.play(mn.FadeIn(lines), run_time=1.0)
    for n, name in ((1, "layer 1 (2 units)"), (2, "layer 2 (2 units)")):
        new = caption(name, font_size=26, color=BOUNDARY_COLOR).move_to(stage)
        scene.play(depth.animate.set_value(n), mn.Transform(stage, new), run_time=3,
                   rate_func=mn.rate_functions.smooth)
        scene.wait(1)
    scene.wait(1)
    view.clear_updaters()
    _clear(scene)


def chapter_decision_line(scene: mn.Scene, runs: LectureRuns) -> None:
    """(4) The decision line and its equation, on the untrained width-2 network."""
    replay = runs.replay(2)
    clock = mn.ValueTracker(0.0)
    view = HiddenPlaneView(replay, clock, center=(-2.3, -0.35, 0), width=5.4,
                           box=(-1.25, 1.25, -1.25, 1.25), title="layer 2 (2 units)")
    a, b, c = replay.frame(0.0).boundary
    heading = _title_bar("The decision line")
    eq1 = caption("p = σ(a·h<sub>1</sub> + b·h<sub>2</sub> + c)", font_size=30)
    eq2 = caption("p = 0.5  ⇔  a·h<sub>1</sub> + b·h<sub>2</sub> + c = 0", font_size=30,
                  color=BOUNDARY_COLOR)
    coef = caption(f"a = {a:+.2f}   b = {b:+.2f}   c = {c:+.2f}", font_size=24, color=mn.GREY_A)
    text = caption(
        "The output unit sees only (h<sub>1</sub>, h<sub>2</sub>).\n"
        "It answers class 1 on one side\nof a straight line, class 0 on the other.\n\n"
        "Training moves the line\nand bends the space under it\nat the same time.",
        font_size=22, line_spacing=1.05,
    )
    right = mn.VGroup(eq1, eq2, coef, text).arrange(mn.DOWN, aligned_edge=mn.LEFT, buff=0.35)
    right.move_to((3.9, -0.3, 0))
    view.line.save_state()
    scene.play(mn.FadeIn(heading), mn.FadeIn(view.frame), mn.FadeIn(view.title),
               mn.FadeIn(view.grid), mn.FadeIn(view.clouds[0]), mn.FadeIn(view.clouds[1]))
    scene.play(mn.Write(eq1), run_time=1.2)
    scene.add(view)
    scene.play(mn.Create(view.line), mn.Write(eq2), run_time=1.5)
    scene.play(mn.FadeIn(coef), mn.FadeIn(text))
    scene.wait(4)
    view.clear_updaters()
    _clear(scene)


def chapter_training(scene: mn.Scene, runs: LectureRuns, width: int) -> None:
    """(5) One training replay: both planes, readout and loss curve on one clock."""
    traj = runs.trajectory(width)
    exp = traj.metadata["experiment"]
    lr = exp["training"]["learning_rate"]
    heading = _title_bar(f"Training with a first hidden layer {width} wide")
    arch = caption(
        f"Dense({width}, tanh) → Dense(2, tanh) → Dense(1, sigmoid)   ·   "
        f"SGD, learning rate {lr:g}, MSE, batch 32",
        font_size=20, color=mn.GREY_A,
    ).next_to(heading, mn.DOWN, buff=0.12)
    panel = ReplayPanel(Replay(traj), title="layer 2 (2 units) with the decision line")
    scene.play(mn.FadeIn(heading), mn.FadeIn(arch), mn.FadeIn(panel))
    add_layered(scene, panel)
    scene.wait(0.5)
    scene.play(panel.play_training(REPLAY_SECONDS))
    final = float(traj.accuracy[-1])
    verdict = (
        "the rings stay nested: a line can only cut off part of one"
        if final < 0.95
        else "the inner ring is pulled out of the outer one: a line separates them"
    )
    result = caption(f"final accuracy {100 * final:.1f} %  ·  {verdict}", font_size=24,
                     color=BOUNDARY_COLOR).to_edge(mn.DOWN, buff=0.12)
    scene.play(mn.FadeIn(result))
    scene.wait(2.5)
    for m in panel.submobjects:
        m.clear_updaters()
    _clear(scene)


def chapter_conclusion(scene: mn.Scene, runs: LectureRuns) -> None:
    """(6) The three final states side by side, with their accuracies."""
    heading = _title_bar("After 100 epochs")
    views = mn.Group()
    for i, width in enumerate(WIDTHS):
        replay = runs.replay(width)
        clock = mn.ValueTracker(1.0)
        acc = float(replay.trajectory.accuracy[-1])
        view = HiddenPlaneView(replay, clock, center=(-4.5 + 4.5 * i, -0.2, 0), width=3.6,
                               title=f"width {width}: {100 * acc:.1f} %")
        view.clear_updaters()
        views.add(view)
    text = caption(
        "Layers 2 wide can only stretch and bend the plane: the rings stay nested.\n"
        "A third dimension lets the network lift the inner ring out; a line then separates them.",
        font_size=22, line_spacing=1.1,
    ).to_edge(mn.DOWN, buff=0.25)
    scene.play(mn.FadeIn(heading))
    scene.play(mn.LaggedStart(*[mn.FadeIn(v) for v in views], lag_ratio=0.4), run_time=2.5)
    scene.play(mn.FadeIn(text))
    scene.wait(4)
    _clear(scene, run_time=1.2)


#: The lecture in order: (section name, storyboard).
CHAPTERS = [
    ("01 Title", chapter_title),
    ("02 The data", chapter_data),
    ("03 Looking inside a layer", chapter_inside_a_layer),
    ("04 The decision line", chapter_decision_line),
    *[
        (f"05{'abc'[i]} Training, width {w}",
         lambda scene, runs, w=w: chapter_training(scene, runs, w))
        for i, w in enumerate(WIDTHS)
    ],
    ("06 Conclusion", chapter_conclusion),
]


class ChapterScene(mn.Scene):
    """Base of single-chapter scenes: subclasses name a chapter in :attr:`chapter`."""

    chapter = "01 Title"

    def construct(self) -> None:
        chapters = dict(CHAPTERS)
        if self.chapter not in chapters:
            raise ValueError(f"unknown chapter {self.chapter!r}; expected one of {list(chapters)}")
        chapters[self.chapter](self, LectureRuns())

