"""Videos and stills of any recorded run, without writing Manim code.

:func:`render_replay` renders the standard replay (:class:`~geomcore.views.ReplayPanel`:
input plane with the pulled-back boundary, hidden plane with the decision line, readout,
loss curve) of a :class:`~geomcore.trajectory.Trajectory` through Manim's Python API, into a
private temporary media folder, and moves the result to the requested path atomically: a
failed render leaves nothing at the output path. ``geomcore render`` is its command line.

Manim is imported when a render starts, not when this module is imported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geomcore.errors import GeomcoreError

if TYPE_CHECKING:
    from geomcore.replay import Replay
    from geomcore.trajectory import Trajectory

__all__ = [
    "BOUNDED_BOX",
    "FORMATS",
    "MAX_COMPARED",
    "QUALITIES",
    "STILLS",
    "compare_scene_class",
    "default_title",
    "hidden_box",
    "render_compare",
    "render_replay",
    "replay_scene_class",
]

#: Manim's quality flags (``-ql`` ...) and the quality names of Manim's config.
QUALITIES: dict[str, str] = {
    "l": "low_quality",
    "m": "medium_quality",
    "h": "high_quality",
    "k": "fourk_quality",
}

#: Output formats: videos (Manim's ``format``) and stills of one epoch (png, and the
#: vector formats svg and pdf drawn by cairo).
FORMATS: tuple[str, ...] = ("mp4", "gif", "webm", "png", "svg", "pdf")

#: The formats that are a still of one epoch.
STILLS: tuple[str, ...] = ("png", "svg", "pdf")

#: The lecture's background colour (as in manim.cfg).
BACKGROUND = "#101418"

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


def _check_viewable(trajectory: Trajectory) -> None:
    width = trajectory.widths[len(trajectory.hidden_layer_names) - 1]
    if width != 2:
        raise GeomcoreError(
            f"{trajectory.name}: its last hidden layer has {width} units; the replay views a "
            "2-unit layer (a plane)"
        )


#: The hidden plane's box for a layer whose images stay inside it (tanh, sigmoid), layer units.
BOUNDED_BOX = (-1.15, 1.15, -1.15, 1.15)


def hidden_box(replay: Replay) -> tuple[float, float, float, float]:
    """The box (layer units) of the viewed hidden plane that holds the whole replay.

    :data:`BOUNDED_BOX` when every recorded grid and probe image of the viewed layer lies in
    it (the lecture's look for tanh), else :func:`geomcore.extents.layer_box` of the replayed
    snapshots (an unbounded activation such as ReLU).
    """
    import numpy as np

    from geomcore.extents import layer_box

    n, layer, arrays = replay.n_snapshots, replay.layer, replay.trajectory.arrays
    images = np.concatenate([arrays[f"grid.{layer}"][:n].reshape(-1, 2),
                             arrays[f"probe.{layer}"][:n].reshape(-1, 2)])
    lo, hi = BOUNDED_BOX[0] + 0.05, BOUNDED_BOX[1] - 0.05  # room for spline overshoot
    if np.all((images >= lo) & (images <= hi)):
        return BOUNDED_BOX
    return layer_box(replay.trajectory, layer, margin=0.15)


def replay_scene_class(replay: Replay, *, seconds: float = 10.0, heading: str = "",
                       title: str | None = None, epoch: float | None = None) -> type:
    """A Manim scene class that plays ``replay`` on a :class:`~geomcore.views.ReplayPanel`.

    Parameters
    ----------
    replay
        The replay (its viewed layer 2 units wide).
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
    import manim as mn

    from geomcore.views import ReplayPanel, add_layered
    from geomcore.views.primitives import caption
    from geomcore.views.style import TITLE_FONT_SIZE

    panel_title = title if title is not None else default_title(replay.trajectory, replay.layer)

    class ReplayScene(mn.Scene):
        """The standard replay of one run."""

        def construct(self) -> None:
            panel = ReplayPanel(replay, title=panel_title, hidden_box=hidden_box(replay))
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


def _check_output(output: Path) -> None:
    parent = output.parent if str(output.parent) else Path(".")
    if output.is_dir():
        raise GeomcoreError(f"output {output} is a folder; expected a file path")
    if not parent.is_dir():
        raise GeomcoreError(f"cannot write {output}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise GeomcoreError(f"cannot write {output}: folder {parent} is not writable")


def render_replay(trajectory: Trajectory, output: str | os.PathLike[str], *,
                  quality: str = "l", seconds: float = 10.0, fmt: str = "mp4",
                  heading: str = "", title: str | None = None,
                  epoch: float | None = None) -> Path:
    """Render the standard replay of ``trajectory`` to ``output``.

    Parameters
    ----------
    trajectory
        The recorded run; its last hidden layer must be 2 units wide.
    output
        The file to write; replaced atomically (nothing is left there if rendering fails).
    quality
        ``"l"``, ``"m"``, ``"h"`` or ``"k"``: Manim's 480p15, 720p30, 1080p60, 2160p60.
    seconds
        Video length, seconds (ignored for ``png``).
    fmt
        One of :data:`FORMATS`; ``png``, ``svg`` and ``pdf`` (:data:`STILLS`) are a still of
        ``epoch`` (the final state by default), svg and pdf as vectors drawn by cairo.
    heading
        Text at the top of the frame.
    title
        Title above the hidden plane; :func:`default_title` when ``None``.
    epoch
        Epoch shown by a still (epochs); only with a format in :data:`STILLS`.

    Returns
    -------
    Path
        The file written (absolute).

    Raises
    ------
    GeomcoreError
        Unknown quality or format, non-positive seconds, an epoch outside the run or given
        for a video, a 3-unit viewed layer, an output path that cannot be written, or a
        failed render.
    """
    if quality not in QUALITIES:
        raise GeomcoreError(f"unknown quality {quality!r}; expected one of {sorted(QUALITIES)}")
    if fmt not in FORMATS:
        raise GeomcoreError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    if not seconds > 0:
        raise GeomcoreError(f"seconds must be > 0; got {seconds!r}")
    output = Path(output).absolute()
    _check_output(output)
    _check_viewable(trajectory)
    from geomcore.replay import Replay

    replay = Replay(trajectory)
    if fmt in STILLS:
        last = float(replay.epochs[-1])
        epoch = last if epoch is None else float(epoch)
        if not 0 <= epoch <= last:
            raise GeomcoreError(f"epoch {epoch:g} is outside the replayed run (0 to {last:g})")
    elif epoch is not None:
        raise GeomcoreError("--epoch needs a still (--format png, svg or pdf); a video shows "
                            "every epoch")

    scene_class = replay_scene_class(replay, seconds=seconds, heading=heading, title=title,
                                     epoch=epoch)
    if fmt in ("svg", "pdf"):
        return _render_vector(scene_class, output, quality, fmt)
    return _render_scene(scene_class, output, quality, fmt)


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


def _render_vector(scene_class: type, output: Path, quality: str, fmt: str) -> Path:
    """Draw the last state of ``scene_class`` as an SVG or PDF page with cairo.

    The scene runs without rendering (Manim's ``dry_run``); then every mobject is drawn
    through Manim's own Cairo camera onto a cairo vector surface of the quality's pixel size:
    paths stay vectors, text is outlines, point clouds are small squares of the size Manim
    draws their pixels.
    """
    import cairo
    import manim as mn
    import numpy as np

    config: dict[str, Any] = {
        "quality": QUALITIES[quality], "dry_run": True, "disable_caching": True,
        "progress_bar": "none", "verbosity": "ERROR", "background_color": BACKGROUND,
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part",
                                    dir=output.parent)
    os.close(fd)
    media = tempfile.TemporaryDirectory(prefix="geomcore-render-")
    config["media_dir"] = media.name  # Manim caches its text outlines there, even dry
    try:
        with media, mn.tempconfig(config):
            scene = scene_class()
            scene.render()
            camera = scene.renderer.camera
            pw, ph = camera.pixel_width, camera.pixel_height
            surface_type = cairo.SVGSurface if fmt == "svg" else cairo.PDFSurface
            surface = surface_type(tmp_name, pw, ph)
            if fmt == "svg":
                surface.set_document_unit(cairo.SVGUnit.PX)  # pixels, as the png
            ctx = cairo.Context(surface)
            ctx.set_source_rgb(*mn.ManimColor(BACKGROUND).to_rgb())
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, output)
    except GeomcoreError:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    except Exception as err:  # cairo/Manim failures: one line, nothing written
        Path(tmp_name).unlink(missing_ok=True)
        raise GeomcoreError(f"rendering failed: {type(err).__name__}: {err}") from None
    return output


#: Colours of a GIF's one shared palette (the lecture draws few colours; the rest blends).
GIF_COLORS = 64


def _gif(video: Path, gif: Path) -> Path:
    """Convert ``video`` to an animated GIF at ``gif``, same frames and frame rate.

    One palette for every frame, taken from frames across the whole video, and no
    dithering: the static parts of consecutive frames are then byte-identical, which GIF's
    frame differencing and LZW compress well (Manim's GIF of circles-3d at -ql, 10 s, is
    21 MB; this one about 3 MB). GIF delays are whole centiseconds, so they alternate to
    keep the total length (e.g. 60 and 70 ms at 15 fps).
    """
    import av
    from PIL import Image

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 15)
        frames = [f.to_image() for f in container.decode(stream)]
    if not frames:
        raise GeomcoreError(f"rendering failed: {video.name} holds no frames")
    width, height = frames[0].size
    picks = frames[:: max(1, len(frames) // 8)]
    montage = Image.new("RGB", (width, height * len(picks)))
    for i, frame in enumerate(picks):
        montage.paste(frame, (0, height * i))
    palette = montage.quantize(colors=GIF_COLORS, method=Image.Quantize.FASTOCTREE)
    indexed = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    ends = [round((i + 1) * 100 / fps) * 10 for i in range(len(frames))]
    durations = [b - a for a, b in zip([0, *ends[:-1]], ends)]
    indexed[0].save(gif, save_all=True, append_images=indexed[1:], duration=durations,
                    loop=0)
    return gif


def _render_scene(scene_class: type, output: Path, quality: str, fmt: str) -> Path:
    """Render ``scene_class`` with Manim in a temporary media folder; move it to ``output``."""
    import manim as mn

    with tempfile.TemporaryDirectory(prefix="geomcore-render-") as media:
        config: dict[str, Any] = {
            "quality": QUALITIES[quality], "media_dir": media, "disable_caching": True,
            "progress_bar": "none", "verbosity": "ERROR", "output_file": "replay",
            "background_color": BACKGROUND,
        }
        if fmt == "png":
            config.update(write_to_movie=False, save_last_frame=True, format="png")
        else:
            # A GIF is made from an MP4 here: Manim's own GIF is 2-3x larger (see _gif).
            config.update(write_to_movie=True, save_last_frame=False,
                          format="mp4" if fmt == "gif" else fmt)
        try:
            with mn.tempconfig(config):
                scene = scene_class()
                scene.render()
                writer = scene.renderer.file_writer
                written = Path(writer.image_file_path if fmt == "png"
                               else writer.movie_file_path)
        except GeomcoreError:
            raise
        except Exception as err:  # Manim/ffmpeg failures: one line, nothing written
            raise GeomcoreError(f"rendering failed: {type(err).__name__}: {err}") from None
        if not written.is_file():
            raise GeomcoreError(f"rendering failed: Manim wrote no {fmt} file")
        if fmt == "gif":
            written = _gif(written, written.with_suffix(".gif"))
        # Copy beside the output first so the final rename is atomic on its file system.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part",
                                        dir=output.parent)
        os.close(fd)
        try:
            shutil.copyfile(written, tmp_name)
            # mkstemp makes the file private (0600); give it the permissions of a new file.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_name, 0o666 & ~umask)
            os.replace(tmp_name, output)
        except OSError as err:
            Path(tmp_name).unlink(missing_ok=True)
            raise GeomcoreError(f"cannot write {output}: {err.strerror}") from None
    return output


#: Most runs :func:`render_compare` puts side by side.
MAX_COMPARED = 4


def _cells(count: int) -> list[tuple[float, float, float]]:
    """``(x, y, scale)`` of each run's cell, scene units: one row for 2, a 2 x 2 grid for 3-4."""
    if count <= 2:
        return [((-3.55 if count == 2 else 0.0) + 7.1 * i, 0.0, 1.0) for i in range(count)]
    return [(-3.55 + 7.1 * (i % 2), 2.0 - 4.0 * (i // 2), 0.56) for i in range(count)]


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
        One replay per run (viewed layers 2 units wide), at most :data:`MAX_COMPARED`.
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
    import manim as mn

    from geomcore.views import HiddenPlaneView, InputPlaneView, MetricsReadout, add_layered
    from geomcore.views.primitives import caption
    from geomcore.views.style import LABEL_FONT_SIZE, TITLE_FONT_SIZE, WARNING_COLOR

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
                hidden = HiddenPlaneView(replay, clock, center=(cx + 1.75 * k, cy + 0.6 * k, 0),
                                         width=2.7 * k, title=title, box=hidden_box(replay))
                for view in (input_view, hidden):
                    # The views draw their texts at full size; shrink them with the fonts.
                    view.title.scale(font).next_to(view.frame, mn.UP, buff=0.12 * font)
                    view.axis_labels[0].scale(font).next_to(view.frame, mn.DOWN,
                                                            buff=0.08 * font)
                    view.axis_labels[1].scale(font).next_to(view.frame, mn.LEFT,
                                                            buff=0.08 * font)
                metrics = MetricsReadout(replay, clock,
                                         corner=(cx - 3.1 * k, cy - 1.6 * k, 0),
                                         font_size=TITLE_FONT_SIZE * font)
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


def render_compare(trajectories: list[Trajectory], output: str | os.PathLike[str], *,
                   quality: str = "l", seconds: float = 10.0, fmt: str = "mp4") -> Path:
    """Render up to four runs side by side on one epoch clock (see :func:`compare_scene_class`).

    Parameters
    ----------
    trajectories
        Two to :data:`MAX_COMPARED` recorded runs, each with a 2-unit last hidden layer.
    output
        The video file to write; replaced atomically.
    quality, seconds
        As for :func:`render_replay`.
    fmt
        ``mp4``, ``gif`` or ``webm``.

    Returns
    -------
    Path
        The file written (absolute).

    Raises
    ------
    GeomcoreError
        Fewer than 2 or more than 4 runs, an unknown quality or format, non-positive
        seconds, a 3-unit viewed layer, an unwritable output or a failed render.
    """
    if not 2 <= len(trajectories) <= MAX_COMPARED:
        raise GeomcoreError(
            f"compare takes 2 to {MAX_COMPARED} runs; got {len(trajectories)}")
    if quality not in QUALITIES:
        raise GeomcoreError(f"unknown quality {quality!r}; expected one of {sorted(QUALITIES)}")
    videos = [f for f in FORMATS if f not in STILLS]
    if fmt not in videos:
        raise GeomcoreError(f"unknown format {fmt!r}; expected one of {videos}")
    if not seconds > 0:
        raise GeomcoreError(f"seconds must be > 0; got {seconds!r}")
    output = Path(output).absolute()
    _check_output(output)
    for trajectory in trajectories:
        _check_viewable(trajectory)
    from geomcore.replay import Replay

    replays = [Replay(t) for t in trajectories]
    names = [t.name for t in trajectories]
    scene_class = compare_scene_class(replays, names, seconds=seconds)
    return _render_scene(scene_class, output, quality, fmt)
