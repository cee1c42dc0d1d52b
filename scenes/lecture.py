"""The chapters of the circles lecture, as storyboard functions.

Each chapter takes the scene and the lecture's recorded runs and says what appears and when.
``scenes/circles.py`` plays them in order as one scene with a section per chapter; a chapter
can also be its own scene (see ``ChapterScene``). Geometry lives in :mod:`geomcore.replay`,
drawing in :mod:`geomcore.views`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import manim as mn
import numpy as np

from geomcore.anatomy import kernel_determinants, pca_projection, replay_space, steps_space
from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.narration import Narration
from geomcore.replay import Replay
from geomcore.trajectory import Trajectory
from geomcore.views import (
    BOUNDARY_COLOR,
    CLASS_COLORS,
    FOLD_COLOR,
    CurvePlot,
    DataPlaneView,
    FoldPanel,
    HiddenPlaneView,
    LayerMorphView,
    MetricsReadout,
    Narrator,
    ReplayPanel,
    SpaceView,
    StageView,
    add_layered,
    caption,
    class_legend,
)

__all__ = [
    "CHAPTERS",
    "ChapterScene",
    "LectureRuns",
    "LectureScene",
    "WIDTHS",
    "chapter_title_text",
    "narrator",
    "voice_requested",
]


VOICE_ON = ("1", "on", "yes", "true", "espeak", "pyttsx3")
VOICE_OFF = ("", "0", "off", "no", "false")


def voice_requested() -> bool:
    """Whether ``GEOMCORE_VOICE`` asks for spoken narration.

    Raises
    ------
    SystemExit
        With a one-line message if the value is neither on (:data:`VOICE_ON`) nor off
        (:data:`VOICE_OFF`), rather than silently rendering without a voice.
    """
    value = os.environ.get("GEOMCORE_VOICE", "").strip().lower()
    if value in VOICE_ON:
        return True
    if value in VOICE_OFF:
        return False
    raise SystemExit(
        f"GEOMCORE_VOICE={value!r} is not understood; expected one of {VOICE_ON} for speech "
        f"or one of {VOICE_OFF} for captions only"
    )


if voice_requested():
    try:
        from manim_voiceover import VoiceoverScene as _SceneBase
    except ImportError:  # a clear message instead of a traceback from deep inside
        raise SystemExit(
            "GEOMCORE_VOICE is set but the voice extra is missing: run "
            "\"pip install -e '.[voice]'\" and \"apt-get install espeak-ng "
            "libespeak-ng-libespeak1\" (or 'make video-voice'), or unset GEOMCORE_VOICE"
        ) from None
else:
    _SceneBase = mn.Scene


class LectureScene(_SceneBase):  # type: ignore[misc,valid-type]
    """Base of the lecture's scenes: captions always; speech when ``GEOMCORE_VOICE`` is set.

    With the voice, this is a manim-voiceover ``VoiceoverScene`` speaking through pyttsx3 on
    Debian's espeak-ng, fully offline; animations wait for the speech. Without it, a plain
    ``Scene`` showing the same narration as captions.
    """

    def setup(self) -> None:
        super().setup()
        if voice_requested():
            from manim_voiceover.services.pyttsx3 import PyTTSX3Service

            class EspeakService(PyTTSX3Service):
                """pyttsx3 on espeak-ng writes WAV data; name the files .wav, not .mp3, so
                manim-voiceover reads their duration as WAV."""

                def generate_from_text(self, text: str, cache_dir: object = None,
                                       path: object = None, **kwargs: object) -> object:
                    if path is None:
                        data = {"input_text": text, "service": "pyttsx3"}
                        path = self.get_audio_basename(data) + ".wav"
                    return super().generate_from_text(text, cache_dir, path, **kwargs)

            # The narrator writes the subcaptions itself, with or without a voice.
            self.set_speech_service(EspeakService(), create_subcaption=False)

#: The three experiments of the lecture, by the width of their first hidden layer.
WIDTHS = (2, 3, 4)
#: Seconds of screen time for each training replay.
REPLAY_SECONDS = 20.0


@dataclass
class LectureRuns:
    """The lecture's recorded trajectories, loaded (or recorded) on first use."""

    _cache: dict[str, Trajectory] = field(default_factory=dict)

    def trajectory(self, width: int | str) -> Trajectory:
        """The run ``circles-<width>d``, or the experiment named ``width`` if a string."""
        name = width if isinstance(width, str) else f"circles-{width}d"
        if name not in self._cache:
            self._cache[name], _ = load_or_record(find_experiment(name))
        return self._cache[name]

    def replay(self, width: int | str) -> Replay:
        return Replay(self.trajectory(width))

    @cached_property
    def first(self) -> Trajectory:
        """The width-2 run: every layer 2 wide, so every layer can be drawn in the plane."""
        return self.trajectory(2)


#: The lecture's narration: edit or translate the words there, not here.
NARRATION_FILE = Path(__file__).resolve().parent / "narration" / "circles.toml"


def narrator(scene: mn.Scene) -> Narrator:
    """The scene's narrator (created on first use, reading :data:`NARRATION_FILE`)."""
    if getattr(scene, "narrator", None) is None:
        scene.narrator = Narrator(scene, Narration.load(NARRATION_FILE))
    return scene.narrator


def _title_bar(text: str) -> mn.MarkupText:
    return caption(text, font_size=34).to_edge(mn.UP, buff=0.3)


def _clear(scene: mn.Scene, run_time: float = 0.8) -> None:
    """Fade out everything but the narration captions (foreground mobjects)."""
    leaving = [m for m in scene.mobjects if m not in scene.foreground_mobjects]
    if leaving:
        scene.play(*[mn.FadeOut(m) for m in leaving], run_time=run_time)
    scene.remove(*leaving)


def chapter_title(scene: mn.Scene, runs: LectureRuns) -> None:
    """(1) Title."""
    title = caption("How a neural network bends space", font_size=52)
    subtitle = caption("two rings, three small networks, and the line that separates them",
                       font_size=28, color=mn.GREY_A).next_to(title, mn.DOWN, buff=0.35)
    note = caption("every picture is computed by a trained Keras network",
                   font_size=22, color=mn.GREY_B).to_edge(mn.DOWN, buff=1.0)
    say = narrator(scene).say
    with say("title.intro"):
        scene.play(mn.Write(title), run_time=1.5)
        scene.play(mn.FadeIn(subtitle, shift=0.2 * mn.UP))
    with say("title.promise"):
        scene.play(mn.FadeIn(note))
    _clear(scene)


def chapter_data(scene: mn.Scene, runs: LectureRuns) -> None:
    """(2) The data: two noisy rings, drawn from the real dataset."""
    traj = runs.first
    view = DataPlaneView(traj.probe_inputs, traj.probe_labels, box=traj.bounds,
                         center=(-2.2, -0.1, 0), width=5.2, title="")
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
    say = narrator(scene).say
    with say("data.rings"):
        scene.play(mn.FadeIn(heading), mn.Create(view.frame), mn.FadeIn(view.axis_labels))
        scene.play(mn.FadeIn(view.clouds[1]), mn.FadeIn(legend[0]), run_time=1.2)
        scene.play(mn.FadeIn(view.clouds[0]), mn.FadeIn(legend[1]), run_time=1.2)
    with say("data.task"):
        scene.play(mn.FadeIn(text))
    _clear(scene)


def chapter_inside_a_layer(scene: mn.Scene, runs: LectureRuns) -> None:
    """(3) Looking inside a layer: data and grid through the untrained network."""
    traj = runs.first
    net = traj.network(0)
    depth = mn.ValueTracker(0.0)
    view = LayerMorphView(net, traj.probe_inputs, traj.probe_labels, traj.grid_inputs, depth,
                          center=(-2.3, -0.15, 0), width=5.0)
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
    say = narrator(scene).say
    with say("inside.idea"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(stage))
        scene.play(mn.FadeIn(lines), run_time=1.0)
    for n, name in ((1, "layer 1 (2 units)"), (2, "layer 2 (2 units)")):
        new = caption(name, font_size=26, color=BOUNDARY_COLOR).move_to(stage)
        with say(f"inside.layer{n}"):
            scene.play(depth.animate.set_value(n), mn.Transform(stage, new), run_time=3,
                       rate_func=mn.rate_functions.smooth)
    view.dynamic.clear_updaters()
    _clear(scene)


def chapter_decision_line(scene: mn.Scene, runs: LectureRuns) -> None:
    """(4) The decision line and its equation, on the untrained width-2 network."""
    replay = runs.replay(2)
    clock = mn.ValueTracker(0.0)
    view = HiddenPlaneView(replay, clock, center=(-3.6, -0.2, 0), width=4.9,
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
    right.scale_to_fit_width(min(right.width, 6.9)).move_to((3.3, -0.2, 0))
    view.line.save_state()
    say = narrator(scene).say
    with say("line.unit"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view.frame), mn.FadeIn(view.title),
                   mn.FadeIn(view.grid), mn.FadeIn(view.clouds[0]), mn.FadeIn(view.clouds[1]))
        scene.play(mn.Write(eq1), run_time=1.2)
    scene.add(view)
    with say("line.line"):
        scene.play(mn.Create(view.line), mn.Write(eq2), run_time=1.5)
        scene.play(mn.FadeIn(coef))
    with say("line.moves"):
        scene.play(mn.FadeIn(text))
    view.dynamic.clear_updaters()
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
    narr = narrator(scene)
    with narr.say(f"train{width}.setup"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(arch), mn.FadeIn(panel))
    add_layered(scene, panel)
    watch = f"train{width}.watch"
    if watch in narr.narration.cues:
        with narr.say(watch):
            scene.play(panel.play_training(REPLAY_SECONDS))
    else:
        scene.play(panel.play_training(REPLAY_SECONDS))
    final = float(traj.accuracy[-1])
    result = caption(f"final accuracy\n{100 * final:.1f} %", font_size=26,
                     color=BOUNDARY_COLOR).move_to((5.4, -0.9, 0))
    with narr.say(f"train{width}.verdict"):
        scene.play(mn.FadeIn(result))
    panel.dynamic.clear_updaters()
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
    say = narrator(scene).say
    with say("conclusion.compare"):
        scene.play(mn.FadeIn(heading))
        scene.play(mn.LaggedStart(*[mn.FadeIn(v) for v in views], lag_ratio=0.4), run_time=2.5)
    with say("conclusion.lesson"):
        scene.wait(1)
    _clear(scene, run_time=1.2)


def chapter_anatomy(scene: mn.Scene, runs: LectureRuns) -> None:
    """(3b) Anatomy of a layer: linear map, bias, activation, early and late; 2->3 and 3->2."""
    from geomcore.anatomy import kernel_ellipse

    traj = runs.trajectory(2)
    heading = _title_bar("Anatomy of a layer: h = tanh(x W + b)")
    t = mn.ValueTracker(0.0)
    views, notes = [], []
    for i, (snap, label) in enumerate(((1, "epoch 1"), (-1, "epoch 100"))):
        net = traj.network(snap)
        ell = kernel_ellipse(net.kernels[0])
        view = StageView(net, "hidden_1", traj.probe_inputs, traj.probe_labels,
                         traj.grid_inputs, t, center=(-3.4 + 6.8 * i, -0.15, 0), width=4.0,
                         title=f"width-2 network, layer 1, {label}")
        views.append(view)
        notes.append(caption(
            f"σ<sub>1</sub> = {ell.singular_values[0]:.2f}   σ<sub>2</sub> = "
            f"{ell.singular_values[1]:.2f}\nmajor axis {ell.rotation_degrees:.0f}°   "
            f"det W = {ell.determinant:+.2f}",
            font_size=18, color=mn.GREY_A).next_to(view.frame, mn.DOWN, buff=0.1))
    step = caption("the unit circle (green) and the data, before the layer",
                   font_size=24, color=BOUNDARY_COLOR).next_to(heading, mn.DOWN, buff=0.15)
    say = narrator(scene).say
    with say("anatomy.intro"):
        scene.play(mn.FadeIn(heading), *[mn.FadeIn(v) for v in views], mn.FadeIn(step))
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
    with say("anatomy.compare"):
        scene.wait(0.5)
    for v in views:
        v.dynamic.clear_updaters()
    _clear(scene)

    traj3 = runs.trajectory(3)
    heading = _title_bar("A layer 3 wide lifts the plane into space")
    for layer, text in (("hidden_1", "layer 1: 2 → 3 — the plane is lifted into space"),
                        ("hidden_2", "layer 2: 3 → 2 — space is flattened back onto a plane")):
        t = mn.ValueTracker(0.0)
        azimuth = mn.ValueTracker(-60.0)
        spaces = []
        for i, (snap, label) in enumerate(((1, "epoch 1"), (-1, "epoch 100"))):
            net = traj3.network(snap)
            src = steps_space(net, layer, traj3.probe_inputs, traj3.grid_inputs[:, ::4])
            # Pre-activations of a trained layer reach far beyond tanh's cube: fit them all.
            reach = max(1.0, *(float(np.abs(src(k).grid).max()) for k in (0.0, 1.0, 2.0)))
            spaces.append(SpaceView(src, t, traj3.probe_labels, azimuth, elevation=22,
                                    center=(-3.4 + 6.8 * i, -0.55, 0), size=1.3 / reach,
                                    title=f"{label} (cube ±{reach:.1f})", half_side=reach))
        sub = caption(text, font_size=24, color=BOUNDARY_COLOR).next_to(heading, mn.DOWN,
                                                                        buff=0.15)
        scene.play(mn.FadeIn(heading), mn.FadeIn(sub), *[mn.FadeIn(v) for v in spaces])
        with say("anatomy.lift" if layer == "hidden_1" else "anatomy.collapse"):
            for k in range(3):
                scene.play(t.animate.set_value(k + 1), azimuth.animate.increment_value(25),
                           run_time=2.2, rate_func=mn.rate_functions.smooth)
        for v in spaces:
            v.dynamic.clear_updaters()
        _clear(scene)


def chapter_topology(scene: mn.Scene, runs: LectureRuns) -> None:
    """(3c) Topology: stretching dough; no 2->2 tanh layer can cut a ring."""
    traj = runs.trajectory(2)
    heading = _title_bar("Topology: the plane is dough")
    depth = mn.ValueTracker(0.0)
    view = LayerMorphView(traj.network(-1), traj.probe_inputs, traj.probe_labels,
                          traj.grid_inputs, depth, center=(-3.6, -0.5, 0), width=4.4,
                          title="the trained width-2 network, layer by layer")
    text = caption(
        "A 2 → 2 tanh layer whose kernel has det W ≠ 0\n"
        "is a homeomorphism onto its image:\n"
        "it may stretch and bend the dough,\nnever tear it or glue it.",
        font_size=20, line_spacing=1.05).move_to((3.2, 1.3, 0))
    say = narrator(scene).say
    with say("topology.dough"):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(text))
        scene.play(depth.animate.set_value(2.0), run_time=4, rate_func=mn.rate_functions.smooth)
    view.dynamic.clear_updaters()

    # An illustration, not a network: what separating the rings in the plane would take.
    cut_note = caption("Pulling the inner ring out would need a cut:\n"
                       "(an illustration — no such layer exists)",
                       font_size=20, color=FOLD_COLOR).move_to((3.4, -0.5, 0))
    outer = mn.Arc(radius=0.9, start_angle=0.35, angle=2 * np.pi - 0.7, color=CLASS_COLORS[1],
                   stroke_width=5).move_arc_center_to((2.6, -2.2, 0))
    inner = mn.Circle(radius=0.42, color=CLASS_COLORS[0], stroke_width=5).move_to((2.6, -2.2, 0))
    with say("topology.cut"):
        scene.play(mn.FadeIn(cut_note), mn.Create(outer), mn.Create(inner))
        scene.play(inner.animate.shift(2.1 * mn.RIGHT), run_time=1.5)
    scene.play(mn.FadeOut(outer), mn.FadeOut(inner), mn.FadeOut(cut_note))

    dets = kernel_determinants(traj)
    plot = CurvePlot(traj.epochs, {f"layer {k[-1]}": v for k, v in dets.items()},
                     center=(2.9, -0.95, 0), width=3.6, height=1.6,
                     title="det W of each layer along training")
    lowest = min(float(np.abs(v).min()) for v in dets.values())
    verdict = caption(f"never 0 (smallest |det W| = {lowest:.2f}):\nthe rings stay nested",
                      font_size=20, color=BOUNDARY_COLOR).next_to(plot, mn.DOWN, buff=0.3)
    with say("topology.det"):
        scene.play(mn.FadeIn(plot))
        scene.play(mn.FadeIn(verdict))
    _clear(scene)


def chapter_folding(scene: mn.Scene, runs: LectureRuns) -> None:
    """(5b) Folding: a 3->2 layer or a ReLU folds the plane onto itself."""
    for name, title, text, cue in (
        (3, "Folding: 3 → 2 lays the plane over itself",
         "pink: where det J of input → layer 2 changes sign", "folding.fold3"),
        ("circles-relu", "Folding: ReLU flattens half-planes",
         "our ReLU network, 2 → 2 → 2 · pink: edges of the regions where det J = 0",
         "folding.relu"),
    ):
        replay = runs.replay(name)
        panel = FoldPanel(replay)
        heading = _title_bar(title)
        sub = caption(text, font_size=22, color=FOLD_COLOR).next_to(heading, mn.DOWN, buff=0.12)
        with narrator(scene).say(cue):
            scene.play(mn.FadeIn(heading), mn.FadeIn(panel), mn.FadeIn(sub))
        _clear(scene)


def _space_chapter(scene: mn.Scene, runs: LectureRuns, width: int, heading_text: str,
                   note: str, projection: bool, cues: tuple[str, ...]) -> None:
    replay = runs.replay(width)
    traj = replay.trajectory
    proj = pca_projection(traj.arrays["probe.hidden_1"][-1]) if projection else None
    clock = mn.ValueTracker(0.0)
    azimuth = mn.ValueTracker(-70.0)
    names = ("PC<sub>1</sub>", "PC<sub>2</sub>", "PC<sub>3</sub>") if projection else (
        "h<sub>1</sub>", "h<sub>2</sub>", "h<sub>3</sub>")
    view = SpaceView(replay_space(replay, "hidden_1", proj), clock, traj.probe_labels, azimuth,
                     elevation=24, center=(-2.3, -0.2, 0), size=1.45 if projection else 1.55,
                     axis_names=names,
                     half_side=1.3 if projection else 1.0)
    metrics = MetricsReadout(replay, clock, corner=(2.6, 2.3, 0), font_size=22)
    heading = _title_bar(heading_text)
    text = caption(note, font_size=18, line_spacing=1.0)
    text.next_to((2.6, 0.9, 0), mn.DOWN, buff=0, aligned_edge=mn.LEFT)
    say = narrator(scene).say
    with say(cues[0]):
        scene.play(mn.FadeIn(heading), mn.FadeIn(view), mn.FadeIn(metrics), mn.FadeIn(text))
    # The replay runs under the remaining cues, one after the other.
    total, parts = 16.0, len(cues) - 1
    for k, cue in enumerate(cues[1:]):
        with say(cue):
            scene.play(clock.animate.set_value((k + 1) / parts),
                       azimuth.animate.increment_value(110 / parts),
                       run_time=total / parts, rate_func=mn.rate_functions.linear)
    scene.play(azimuth.animate.increment_value(40), run_time=3)
    view.dynamic.clear_updaters()
    metrics.dynamic.clear_updaters()
    _clear(scene)


def chapter_space3d(scene: mn.Scene, runs: LectureRuns) -> None:
    """(5c) The width-3 network's first hidden layer in 3-D, with the decision surface."""
    _space_chapter(
        scene, runs, 3, "Inside the 3-wide layer",
        "The image of the data and\nof the input grid (a surface)\nin layer 1.\n\n"
        "Yellow: the decision surface,\nthe points that layer 2 sends\nonto the decision line."
        "\n\nTraining lifts the inner ring\nout of the outer one, to the\nother side "
        "of the surface.",
        projection=False, cues=("space3d.intro", "space3d.surface", "space3d.lift"),
    )


def chapter_four_d(scene: mn.Scene, runs: LectureRuns) -> None:
    """(5d) The width-4 layer through a 3-D projection, saying what it hides."""
    traj = runs.trajectory(4)
    proj = pca_projection(traj.arrays["probe.hidden_1"][-1])
    kept = 100 * float(proj.explained.sum())
    _space_chapter(
        scene, runs, 4, "Four dimensions, seen in three",
        f"Layer 1 has 4 units. We show\nits 3 principal directions\n(of the final image): "
        f"they\nkeep {kept:.1f} % of the spread.\n\nThe other {100 - kept:.1f} % lies along"
        "\na 4th direction this view\nflattens: points that look\nclose may be apart in 4-D.",
        projection=True, cues=("four_d.intro", "four_d.hidden"),
    )


#: The lecture in order: (section name, storyboard).
CHAPTERS = [
    ("01 Title", chapter_title),
    ("02 The data", chapter_data),
    ("03 Looking inside a layer", chapter_inside_a_layer),
    ("03b Anatomy of a layer", chapter_anatomy),
    ("03c Topology", chapter_topology),
    ("04 The decision line", chapter_decision_line),
    ("05a Training, width 2", lambda scene, runs: chapter_training(scene, runs, 2)),
    ("05b Folding", chapter_folding),
    ("05c Training, width 3", lambda scene, runs: chapter_training(scene, runs, 3)),
    ("05d Inside the 3-wide layer", chapter_space3d),
    ("05e Training, width 4", lambda scene, runs: chapter_training(scene, runs, 4)),
    ("05f Four dimensions", chapter_four_d),
    ("06 Conclusion", chapter_conclusion),
]


def chapter_title_text(section: str) -> str:
    """``"03b Anatomy of a layer"`` -> ``"3b · Anatomy of a layer"``."""
    number, _, title = section.partition(" ")
    return f"{number.lstrip('0')} · {title}"


class ChapterScene(LectureScene):
    """Base of single-chapter scenes: subclasses name a chapter in :attr:`chapter`."""

    chapter = "01 Title"

    def construct(self) -> None:
        chapters = dict(CHAPTERS)
        if self.chapter not in chapters:
            raise ValueError(
                f"unknown chapter {self.chapter!r}; expected one of {list(chapters)}"
            )
        if self.chapter != CHAPTERS[0][0]:
            narrator(self).chapter_card(chapter_title_text(self.chapter))
        chapters[self.chapter](self, LectureRuns())

