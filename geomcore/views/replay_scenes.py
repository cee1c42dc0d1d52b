"""No-code replay scenes: the standard replay, runs side by side, and their vector stills.

What lives here: :func:`replay_scene_class` (a :class:`~geomcore.views.ReplayPanel` played
in a scene, or a :class:`SpaceReplayPanel` when the viewed layer is 3 units wide: the layer
in 3-D by a slowly turning camera, :class:`ReplaySpaceView`), :func:`compare_scene_class`
(up to four runs on one epoch clock, each with a 2- or 3-unit viewed layer),
:func:`render_scene` and :func:`draw_vector` (Manim's renderer, or cairo's SVG/PDF surfaces
through Manim's camera). :mod:`geomcore.render` (the ``geomcore render`` and ``compare``
commands) drives them and owns the files.

What it may import: Manim, numpy, the numpy side of geomcore and the modules of this
package listed before it.

Units: *layer units* a hidden layer's activations, *scene units* Manim's frame coordinates,
*seconds* scene time, *epochs* the run's training epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import manim as mn
import numpy as np

from geomcore.anatomy import replay_space
from geomcore.replay import Frame
from geomcore.views.anatomy import SpaceView
from geomcore.views.layered import Layered, add_layered
from geomcore.views.primitives import caption
from geomcore.views.replay_panel import (
    HiddenPlaneView,
    InputPlaneView,
    MetricsReadout,
    ReplayPanel,
)
from geomcore.views.style import LABEL_FONT_SIZE, TITLE_FONT_SIZE, WARNING_COLOR

if TYPE_CHECKING:
    from geomcore.replay import Replay
    from geomcore.trajectory import Trajectory

__all__ = [
    "BOUNDED_BOX",
    "HOLD_SHARE",
    "ReplaySpaceView",
    "SpaceReplayPanel",
    "compare_scene_class",
    "default_title",
    "draw_vector",
    "render_scene",
    "replay_scene_class",
]


#: Share of the video (seconds) spent holding the final state after the training replay.
HOLD_SHARE = 0.1


def default_title(trajectory: Trajectory, layer: str | None = None) -> str:
    """The hidden-plane title for ``trajectory``: viewed layer's name, width and activation.

    Parameters
    ----------
    trajectory
        The run.
    layer
        The viewed hidden layer; the last hidden layer by default.
    """
    names = trajectory.hidden_layer_names
    layer = layer or names[-1]
    index = trajectory.layer_names.index(layer)
    width = trajectory.widths[index]
    activation = trajectory.metadata["activations"][index]
    return f"{layer}: {width} units, {activation}"


#: Camera of the 3-unit view in a replay: azimuth at the start and its turn over the whole
#: replay (degrees), and the elevation (degrees). A slow turn: 60 degrees in the replay.
SPACE_AZIMUTH, SPACE_TURN, SPACE_ELEVATION = -75.0, 45.0, 20.0


class _TurningAzimuth(mn.ValueTracker):
    """The camera's azimuth (degrees), read from a progress clock: ``start + turn * u``."""

    def __init__(self, clock: mn.ValueTracker) -> None:
        super().__init__(SPACE_AZIMUTH)
        self.clock = clock

    def get_value(self) -> float:
        return SPACE_AZIMUTH + SPACE_TURN * self.clock.get_value()


def space_half_side(replay: Replay) -> float:
    """Half-side of the cube a 3-unit view of ``replay`` draws, layer units.

    1 for a layer whose recorded images stay in ``[-1, 1]^3`` (tanh, sigmoid); otherwise
    the largest recorded coordinate (probe points and grid, every finite snapshot of the
    replay) rounded up to a quarter, so the layer is seen whole (ReLU, linear).
    """
    traj, layer, count = replay.trajectory, replay.layer, replay.n_snapshots
    reach = max(float(np.nanmax(np.abs(traj.arrays[f"{kind}.{layer}"][:count]),
                                initial=0.0)) for kind in ("probe", "grid"))
    return 1.0 if reach <= 1.0 else float(np.ceil(reach * 4.0) / 4.0)


class ReplaySpaceView(SpaceView):
    """A 3-unit viewed layer during a replay: :class:`~geomcore.views.SpaceView` on a clock.

    The camera turns slowly with the clock (:data:`SPACE_TURN` degrees over the replay);
    the faces between the classes' cells are drawn when the layer feeds the output
    (:func:`geomcore.anatomy.replay_space`). Like the plane views, :meth:`show` also takes a
    replay :class:`~geomcore.replay.Frame`.

    Parameters
    ----------
    replay
        The replay (its viewed layer 3 units wide).
    clock
        ``ValueTracker`` of the replay's progress in [0, 1] (or of epochs, with ``end``).
    center
        Placement in scene units.
    reach
        Scene length of half the cube's side (its projection spans at most
        ``2 sqrt(3) reach``; the title sits ``1.95 reach`` above ``center``), scene units.
    title
        Text above the cube.
    """

    def __init__(self, replay: Replay, clock: mn.ValueTracker, *,
                 center: tuple[float, float, float] = (0.0, 0.0, 0.0), reach: float = 1.3,
                 title: str = "") -> None:
        half = space_half_side(replay)
        self.replay, self.clock = replay, clock
        super().__init__(replay_space(replay, replay.layer), clock,
                         replay.trajectory.probe_labels, _TurningAzimuth(clock),
                         elevation=SPACE_ELEVATION, center=center, size=reach / half,
                         title=title, half_side=half, classes=replay.trajectory.classes)

    def show(self, content: object) -> ReplaySpaceView:  # type: ignore[override]
        """Draw a :class:`~geomcore.anatomy.SpaceContent` or a replay ``Frame``."""
        if isinstance(content, Frame):
            content = self.source(content.progress)
        return super().show(content)  # type: ignore[arg-type]


class SpaceReplayPanel(ReplayPanel):
    """The replay of a run whose viewed layer is 3 units wide, on one screen.

    As :class:`~geomcore.views.ReplayPanel` (input plane with the pulled-back boundary,
    readout, loss curve, notices), with the layer in 3-D (:class:`ReplaySpaceView`: a slowly
    turning camera, and the faces between the classes' cells) in place of the hidden plane.

    Parameters
    ----------
    replay
        The replay.
    title
        Shown above the 3-D view.

    Attributes
    ----------
    clock, hidden, input, metrics, loss, blocks, notice
        As for :class:`~geomcore.views.ReplayPanel`; ``hidden`` is the 3-D view.
    """

    def _hidden_view(self, replay: Replay, title: str,
                     hidden_box: tuple[float, float, float, float]) -> Layered:
        return ReplaySpaceView(replay, self.clock, center=(0.55, -0.25, 0.0), reach=1.45,
                               title=title or "hidden layer before the output")


def _viewed_width(replay: Replay) -> int:
    traj = replay.trajectory
    return int(traj.widths[traj.layer_names.index(replay.layer)])


#: The hidden plane's box for a layer whose images stay inside it (tanh, sigmoid), layer units;
#: :class:`~geomcore.views.HiddenPlaneView` widens it to hold whatever the replay draws
#: (ReLU, linear).
BOUNDED_BOX = (-1.15, 1.15, -1.15, 1.15)


def replay_scene_class(replay: Replay, *, seconds: float = 10.0, heading: str = "",
                       title: str | None = None, epoch: float | None = None) -> type:
    """A Manim scene class that plays ``replay`` on a :class:`~geomcore.views.ReplayPanel`.

    Parameters
    ----------
    replay
        The replay (its viewed layer 2 or 3 units wide: a 3-unit layer is drawn in 3-D,
        :class:`SpaceReplayPanel`).
    seconds
        Length of the scene, seconds: the training replay takes ``1 - HOLD_SHARE`` of it,
        then the final state is held.
    heading
        Text at the top of the frame (the experiment's name by default in the CLI).
    title
        Title above the hidden plane; :func:`default_title` when ``None``.
    epoch
        Show this epoch and do not animate (a still); ``None`` animates the whole run.

    Returns
    -------
    type
        A subclass of ``manim.Scene``.
    """


    panel_title = title if title is not None else default_title(replay.trajectory, replay.layer)

    class ReplayScene(mn.Scene):
        """The standard replay of one run."""

        def construct(self) -> None:
            panel = (SpaceReplayPanel(replay, title=panel_title) if _viewed_width(replay) == 3
                     else ReplayPanel(replay, title=panel_title))
            self.panel = panel
            if heading:
                head = caption(heading, font_size=TITLE_FONT_SIZE + 4, max_width=12.5)
                head.move_to((0.0, 3.45, 0.0))
                self.add(head)
            if epoch is not None:
                progress = replay.progress_at_epoch(epoch)
                panel.clock.set_value(progress)
                # A still never runs the clock's updaters: draw that instant directly.
                for block in panel.blocks:
                    block.show(replay.frame(progress))
            add_layered(self, panel)
            if epoch is not None:
                self.wait(1 / mn.config.frame_rate)
                return
            self.play(panel.play_training((1 - HOLD_SHARE) * seconds))
            self.wait(HOLD_SHARE * seconds)

    return ReplayScene


def _cells(count: int) -> list[tuple[float, float, float]]:
    """``(x, y, scale)`` of each run's cell, scene units: one row for 2, a 2 x 2 grid for 3-4."""
    if count <= 2:
        return [((-3.55 if count == 2 else 0.0) + 7.1 * i, 0.0, 1.0) for i in range(count)]
    return [(-3.55 + 7.1 * (i % 2), 2.0 - 4.0 * (i // 2), 0.56) for i in range(count)]


def _fit_class_lines(metrics: MetricsReadout, bottom: float) -> None:
    """Drop the readout's per-class lines (K > 2) if they would reach below ``bottom``.

    A compare cell has room for the epoch, accuracy and loss; with many classes, or four
    cells, the per-class accuracies below them would leave the cell (or the frame).
    """
    if not metrics.class_lines or metrics.class_lines[-1].get_bottom()[1] >= bottom:
        return
    names = list(metrics.static)[3:]  # the "class c" labels follow the three names
    metrics.static.remove(*names)
    metrics.dynamic.remove(*metrics.class_lines)
    metrics.class_lines = []


def compare_scene_class(replays: list[Replay], names: list[str], *,
                        seconds: float = 10.0) -> type:
    """A Manim scene class playing up to four replays side by side on one epoch clock.

    Every cell shows a run's input plane with the pulled-back boundary, its viewed hidden
    plane with the decision line and its epoch, accuracy and loss. All cells show the same
    epoch at the same time: the shared clock runs linearly in epochs from 0 to the longest
    run's last epoch (a shorter run holds its last state). A run that diverged stops at its
    last finite snapshot and, from the epoch where it diverged on, its cell says so in the
    warning colour while the others go on.

    Parameters
    ----------
    replays
        One replay per run (viewed layers 2 or 3 units wide; a 3-unit layer is drawn in
        3-D, :class:`ReplaySpaceView`, its camera turning with the run's progress), at
        most four.
    names
        The runs' names, shown above their cells.
    seconds
        Length of the scene, seconds; the last ``HOLD_SHARE`` holds the final state.

    Returns
    -------
    type
        A subclass of ``manim.Scene``; after ``construct`` it has ``epoch_clock`` (a
        ``ValueTracker`` in epochs) and ``cells`` (one dict of blocks per run).
    """


    last = max(float(r.epochs[-1]) for r in replays)

    class EpochClock(mn.ValueTracker):
        """A run's progress, read from the shared epoch clock (so every view agrees)."""

        def __init__(self, master: mn.ValueTracker, replay: Replay) -> None:
            super().__init__(0.0)
            self.master, self.replay = master, replay

        def get_value(self) -> float:
            epoch = min(self.master.get_value(), float(self.replay.epochs[-1]))
            return self.replay.progress_at_epoch(epoch)

    class CompareScene(mn.Scene):
        """Runs side by side, one clock in epochs."""

        def construct(self) -> None:
            self.epoch_clock = mn.ValueTracker(0.0)
            self.cells = []
            blocks = []
            for replay, name, (cx, cy, k) in zip(replays, names, _cells(len(replays))):
                clock = EpochClock(self.epoch_clock, replay)
                # Fonts shrink less than the planes so the 2 x 2 grid stays readable.
                font = k ** 0.5
                heading = caption(name, font_size=(TITLE_FONT_SIZE + 2) * font,
                                  max_width=6.6 * k).move_to((cx, cy + 3.1 * k, 0))
                title = default_title(replay.trajectory, replay.layer).split(":")[0]
                input_view = InputPlaneView(replay, clock, center=(cx - 1.75 * k, cy + 0.6 * k, 0),
                                            width=2.7 * k, title="input plane",
                                            resolution=80)
                if _viewed_width(replay) == 3:
                    # The cube's outline fits the plane views' 2.7 k square as it turns.
                    hidden = ReplaySpaceView(replay, clock, center=(cx + 1.75 * k,
                                                                    cy + 0.45 * k, 0),
                                             reach=0.82 * k, title=title)
                    # Its title at the input plane's title's height, at the same size.
                    hidden.title.scale(font).set_y(input_view.title.get_y())
                    for label in hidden.axis_markup:
                        label.scale(font)
                    hidden.show(hidden.source(clock.get_value()))
                    planes = (input_view,)
                else:
                    hidden = HiddenPlaneView(replay, clock,
                                             center=(cx + 1.75 * k, cy + 0.6 * k, 0),
                                             width=2.7 * k, title=title, box=BOUNDED_BOX)
                    planes = (input_view, hidden)
                for view in planes:
                    # The views draw their texts at full size; shrink them with the fonts.
                    view.title.scale(font).next_to(view.frame, mn.UP, buff=0.12 * font)
                    view.axis_labels[0].scale(font).next_to(view.frame, mn.DOWN,
                                                            buff=0.08 * font)
                    view.axis_labels[1].scale(font).next_to(view.frame, mn.LEFT,
                                                            buff=0.08 * font)
                metrics = MetricsReadout(replay, clock,
                                         corner=(cx - 3.1 * k, cy - 1.6 * k, 0),
                                         font_size=TITLE_FONT_SIZE * font)
                _fit_class_lines(metrics, bottom=cy - (2.0 if len(replays) > 2 else 3.9) * k)
                cell = {"heading": heading, "input": input_view, "hidden": hidden,
                        "metrics": metrics, "notice": None}
                self.add(heading)
                if replay.diverged_at_epoch is not None:
                    at = replay.diverged_at_epoch
                    notice = caption(f"diverged at epoch {at:g}", color=WARNING_COLOR,
                                     font_size=LABEL_FONT_SIZE * font, max_width=3.0 * k)
                    notice.move_to((cx + 1.75 * k, cy - 1.75 * k - 0.2 * font, 0))
                    notice.add_updater(lambda m, at=at: m.set_opacity(
                        1.0 if self.epoch_clock.get_value() >= at else 0.0))
                    notice.set_opacity(0.0)
                    cell["notice"] = notice
                self.cells.append(cell)
                blocks += [input_view, hidden, metrics]
            add_layered(self, *blocks)
            for cell in self.cells:
                if cell["notice"] is not None:
                    self.add(cell["notice"])
            self.play(self.epoch_clock.animate(
                run_time=(1 - HOLD_SHARE) * seconds, rate_func=mn.rate_functions.linear
            ).set_value(last))
            self.wait(HOLD_SHARE * seconds)

    return CompareScene


class _RGBContext:
    """A cairo context whose ``set_source_rgba`` takes Manim camera's blue-green-red order.

    Manim's Cairo camera draws into a little-endian ARGB32 image and so passes colours with
    red and blue swapped; a vector surface needs them in order again.
    """

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def set_source_rgba(self, b: float, g: float, r: float, a: float = 1.0) -> None:
        self._ctx.set_source_rgba(r, g, b, a)


def render_scene(scene_class: type, config: dict[str, Any], *, still: bool = False) -> Path:
    """Render ``scene_class`` under Manim's ``config`` (a ``tempconfig`` dict).

    Parameters
    ----------
    scene_class
        A scene class, e.g. from :func:`replay_scene_class`.
    config
        Manim settings: quality, ``media_dir``, ``format``, ``write_to_movie``, ...
    still
        The file wanted is the last frame's image (``save_last_frame``), not the movie.

    Returns
    -------
    Path
        The file Manim wrote (inside ``config["media_dir"]``).
    """
    with mn.tempconfig(config):
        scene = scene_class()
        scene.render()
        writer = scene.renderer.file_writer
        return Path(writer.image_file_path if still else writer.movie_file_path)


def draw_vector(scene_class: type, config: dict[str, Any], path: Path, fmt: str) -> Path:
    """Draw the last state of ``scene_class`` as an SVG or PDF page at ``path`` with cairo.

    The scene runs without rendering (``config`` should set Manim's ``dry_run``); then every
    mobject is drawn through Manim's own Cairo camera onto a cairo vector surface of the
    quality's pixel size: paths stay vectors, text is outlines, point clouds are small
    squares of the size Manim draws their pixels.

    Parameters
    ----------
    scene_class
        A scene class, e.g. from :func:`replay_scene_class` with an epoch.
    config
        Manim settings, with ``background_color``.
    path
        The file to write.
    fmt
        ``"svg"`` or ``"pdf"``.

    Returns
    -------
    Path
        ``path``.
    """
    import cairo

    with mn.tempconfig(config):
        scene = scene_class()
        scene.render()
        camera = scene.renderer.camera
        pw, ph = camera.pixel_width, camera.pixel_height
        surface_type = cairo.SVGSurface if fmt == "svg" else cairo.PDFSurface
        surface = surface_type(str(path), pw, ph)
        if fmt == "svg":
            surface.set_document_unit(cairo.SVGUnit.PX)  # pixels, as the png
        ctx = cairo.Context(surface)
        ctx.set_source_rgb(*mn.ManimColor(config["background_color"]).to_rgb())
        ctx.paint()
        fw, fh, fc = camera.frame_width, camera.frame_height, camera.frame_center
        # Manim's own scene-to-pixel transform (Camera.get_cairo_context).
        ctx.set_matrix(cairo.Matrix(pw / fw, 0, 0, -(ph / fh),
                                    pw / 2 - fc[0] * pw / fw, ph / 2 + fc[1] * ph / fh))
        for mob in mn.utils.family.extract_mobject_family_members(
                scene.mobjects, only_those_with_points=True):
            if isinstance(mob, mn.VMobject):
                camera.display_vectorized(mob, _RGBContext(ctx))
            elif isinstance(mob, mn.PMobject) and len(mob.points):
                ctx.new_path()  # the camera leaves the last VMobject's path set
                side = camera.adjusted_thickness(mob.stroke_width) * fw / pw
                for point, rgba in zip(mob.points, np.asarray(mob.rgbas)):
                    ctx.set_source_rgba(*rgba)
                    ctx.rectangle(point[0] - side / 2, point[1] - side / 2, side, side)
                    ctx.fill()
        surface.finish()
    return path
