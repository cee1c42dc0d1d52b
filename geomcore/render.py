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

__all__ = ["FORMATS", "QUALITIES", "default_title", "render_replay", "replay_scene_class"]

#: Manim's quality flags (``-ql`` ...) and the quality names of Manim's config.
QUALITIES: dict[str, str] = {
    "l": "low_quality",
    "m": "medium_quality",
    "h": "high_quality",
    "k": "fourk_quality",
}

#: Output formats: videos (Manim's ``format``) and a still of one epoch.
FORMATS: tuple[str, ...] = ("mp4", "gif", "webm", "png")

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
            panel = ReplayPanel(replay, title=panel_title)
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
        One of :data:`FORMATS`; ``png`` is a still of ``epoch`` (the final state by default).
    heading
        Text at the top of the frame.
    title
        Title above the hidden plane; :func:`default_title` when ``None``.
    epoch
        Epoch shown by a ``png`` still (epochs); only with ``fmt="png"``.

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
    if fmt == "png":
        last = float(replay.epochs[-1])
        epoch = last if epoch is None else float(epoch)
        if not 0 <= epoch <= last:
            raise GeomcoreError(f"epoch {epoch:g} is outside the replayed run (0 to {last:g})")
    elif epoch is not None:
        raise GeomcoreError("--epoch needs --format png (a still); a video shows every epoch")

    import manim as mn

    scene_class = replay_scene_class(replay, seconds=seconds, heading=heading, title=title,
                                     epoch=epoch)
    with tempfile.TemporaryDirectory(prefix="geomcore-render-") as media:
        config: dict[str, Any] = {
            "quality": QUALITIES[quality], "media_dir": media, "disable_caching": True,
            "progress_bar": "none", "verbosity": "ERROR", "output_file": "replay",
            "background_color": BACKGROUND,
        }
        if fmt == "png":
            config.update(write_to_movie=False, save_last_frame=True, format="png")
        else:
            config.update(write_to_movie=True, save_last_frame=False, format=fmt)
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
        # Copy beside the output first so the final rename is atomic on its file system.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part",
                                        dir=output.parent)
        os.close(fd)
        try:
            shutil.copyfile(written, tmp_name)
            os.replace(tmp_name, output)
        except OSError as err:
            Path(tmp_name).unlink(missing_ok=True)
            raise GeomcoreError(f"cannot write {output}: {err.strerror}") from None
    return output
