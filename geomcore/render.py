"""Videos and stills of any recorded run, without writing Manim code.

:func:`render_replay` renders the standard replay (:class:`~geomcore.views.ReplayPanel`:
input plane with the pulled-back boundary, hidden plane with the decision line, readout,
loss curve; a 3-unit viewed layer is drawn in 3-D by a turning camera, with the faces
between the classes' cells) of a :class:`~geomcore.trajectory.Trajectory` through Manim's
Python API, into a private temporary media folder, and moves the result to the requested
path atomically: a failed render leaves nothing at the output path. ``geomcore render`` is
its command line.

The scenes themselves live in :mod:`geomcore.views.replay_scenes` (the one package that
imports Manim); this module checks the input, runs them when a render starts and owns the
files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geomcore.errors import GeomcoreError
from geomcore.trajectory import _atomic_write

if TYPE_CHECKING:
    from geomcore.trajectory import Trajectory

__all__ = ["FORMATS", "MAX_COMPARED", "QUALITIES", "STILLS", "render_compare", "render_replay"]

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
#: x264's preset for MP4 (and the MP4 a GIF is made from), as the lecture's ``manim.cfg``:
#: about a third less encoding time than Manim's default "medium", at its crf 23.
X264_PRESET = "veryfast"


def _check_viewable(trajectory: Trajectory) -> None:
    width = trajectory.widths[len(trajectory.hidden_layer_names) - 1]
    if width not in (2, 3):
        raise GeomcoreError(
            f"{trajectory.name}: its last hidden layer has {width} units; the replay views a "
            "2-unit layer (a plane) or a 3-unit layer (a space)"
        )


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
        The recorded run; its last hidden layer must be 2 or 3 units wide.
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
        for a video, a viewed layer neither 2 nor 3 units wide, an output path that cannot
        be written, or a failed render.
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
    from geomcore.views.replay_scenes import replay_scene_class

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


def _render_vector(scene_class: type, output: Path, quality: str, fmt: str) -> Path:
    """Draw the last state of ``scene_class`` as an SVG or PDF page; move it to ``output``."""
    from geomcore.views.replay_scenes import draw_vector

    config: dict[str, Any] = {
        "quality": QUALITIES[quality], "dry_run": True, "disable_caching": True,
        "progress_bar": "none", "verbosity": "ERROR", "background_color": BACKGROUND,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="geomcore-render-") as media:
            config["media_dir"] = media  # Manim caches its text outlines there, even dry
            drawn = Path(media) / f"still.{fmt}"
            draw_vector(scene_class, config, drawn, fmt)
            _move_into_place(drawn, output)
    except GeomcoreError:
        raise
    except Exception as err:  # cairo/Manim failures: one line, nothing written
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
    from geomcore.views.replay_scenes import render_scene

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
            if fmt in ("mp4", "gif"):
                config["video_encoder_options"] = {"preset": X264_PRESET}
        try:
            written = render_scene(scene_class, config, still=fmt == "png")
        except GeomcoreError:
            raise
        except Exception as err:  # Manim/ffmpeg failures: one line, nothing written
            raise GeomcoreError(f"rendering failed: {type(err).__name__}: {err}") from None
        if not written.is_file():
            raise GeomcoreError(f"rendering failed: Manim wrote no {fmt} file")
        if fmt == "gif":
            written = _gif(written, written.with_suffix(".gif"))
        _move_into_place(written, output)
    return output


def _move_into_place(written: Path, output: Path) -> None:
    """Copy ``written`` to ``output`` atomically (a temporary file beside it, then a rename).

    Raises
    ------
    GeomcoreError
        If ``output`` cannot be written; nothing is left at ``output`` then.
    """
    try:
        with open(written, "rb") as source:
            _atomic_write(output, lambda f: shutil.copyfileobj(source, f))
    except OSError as err:
        raise GeomcoreError(f"cannot write {output}: {err.strerror}") from None


#: Most runs :func:`render_compare` puts side by side.
MAX_COMPARED = 4


def render_compare(trajectories: list[Trajectory], output: str | os.PathLike[str], *,
                   quality: str = "l", seconds: float = 10.0, fmt: str = "mp4") -> Path:
    """Render up to four runs side by side on one epoch clock (see :func:`compare_scene_class`).

    Parameters
    ----------
    trajectories
        Two to :data:`MAX_COMPARED` recorded runs, each with a 2- or 3-unit last hidden
        layer.
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
        seconds, a viewed layer neither 2 nor 3 units wide, an unwritable output or a
        failed render.
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
    from geomcore.views.replay_scenes import compare_scene_class

    replays = [Replay(t) for t in trajectories]
    names = [t.name for t in trajectories]
    scene_class = compare_scene_class(replays, names, seconds=seconds)
    return _render_scene(scene_class, output, quality, fmt)
