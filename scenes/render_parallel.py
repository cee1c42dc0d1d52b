"""The lecture rendered chapter by chapter in parallel, joined into the one movie.

``python -m scenes.render_parallel`` (``make video``) renders every chapter of
:data:`scenes.lecture.CHAPTERS` as its own part (:func:`scenes.circles.lecture_part`: the
lecture's scene restricted to that chapter) in worker processes, as tasks on a
``dask.distributed`` cluster (:func:`geomcore.cluster.client`: a local cluster of one worker a
core, or any scheduler given by ``--scheduler ADDRESS``), then joins the parts into
``media/videos/circles/<quality>/CirclesLecture.mp4``, where ``manim render
scenes/circles.py`` writes it, with its ``.srt`` and, with ``GEOMCORE_VOICE=1``, its
soundtrack.

Why the join equals a serial render frame for frame: Manim encodes every animation as its own
partial movie file and the movie is their lossless concatenation (FFmpeg's concat demuxer,
packets copied), so concatenating per-chapter concatenations of the same partial movies
gives the same packets. Every chapter starts on an empty stage and Manim reseeds its random
generators per scene, so a chapter rendered alone draws what it draws in the whole lecture.
Subtitle cues are shifted by the chapter's start (its first frame's time); sounds are laid at
the same place on one soundtrack.

Each part is checked before the join: a part whose manifest (written last, after the video)
is missing, whose file cannot be decoded, or whose frame count, size or frame rate differs
from what the chapter rendered, stops the render with a one-line
:class:`~geomcore.errors.GeomcoreError`; a worker that dies mid-chapter has its chapter redone
by Dask on another worker (in a fresh folder), never joined truncated.

What it may import: :mod:`geomcore` (cluster, errors), PyAV, pydub, srt; Manim only inside the
part render (:func:`render_part`), which runs in its own process.

Units: *frames* and *seconds* of video; frame rates in frames per second.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from io import BytesIO
from pathlib import Path

from geomcore.errors import GeomcoreError

__all__ = [
    "QUALITIES",
    "LecturePart",
    "RenderSettings",
    "contiguous_parts",
    "estimated_seconds",
    "join_parts",
    "main",
    "render_lecture",
    "render_part",
    "verify_part",
]

#: Manim's quality flags: ``-q l`` ... ``-q k`` as (pixel width, pixel height, frames/s).
QUALITIES: dict[str, tuple[int, int, int]] = {
    "l": (854, 480, 15),
    "m": (1280, 720, 30),
    "h": (1920, 1080, 60),
    "p": (2560, 1440, 60),
    "k": (3840, 2160, 60),
}
#: The lecture's default (``quality = medium_quality`` in manim.cfg).
DEFAULT_QUALITY = "m"
#: File name (without suffix) of the joined movie, as ``manim render scenes/circles.py``.
MOVIE_NAME = "CirclesLecture"
#: Lines of a failed part's log quoted in the error.
LOG_TAIL_LINES = 12


@dataclass(frozen=True)
class RenderSettings:
    """What every part must share to be joined losslessly.

    Attributes
    ----------
    pixel_width, pixel_height
        Frame size in pixels.
    frame_rate
        Frames per second.
    max_inflight_encoders
        Manim's ``max_inflight_encoders``: partial movie files encoded while the scene goes
        on rendering (1: each is encoded before the next animation starts).
    voice
        Spoken narration (``GEOMCORE_VOICE=1``), not only captions.
    """

    pixel_width: int = QUALITIES[DEFAULT_QUALITY][0]
    pixel_height: int = QUALITIES[DEFAULT_QUALITY][1]
    frame_rate: int = QUALITIES[DEFAULT_QUALITY][2]
    max_inflight_encoders: int = 1
    voice: bool = False

    def __post_init__(self) -> None:
        for name in ("pixel_width", "pixel_height", "frame_rate", "max_inflight_encoders"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GeomcoreError(f"{name} must be a positive integer, got {value!r}")
        if self.pixel_width % 2 or self.pixel_height % 2:
            raise GeomcoreError(f"frame size must be even for yuv420p video, got "
                                f"{self.pixel_width}x{self.pixel_height}")

    @classmethod
    def from_quality(cls, quality: str, **kwargs: object) -> RenderSettings:
        """Settings for Manim's quality flag ``quality`` (``"l"``, ``"m"``, ``"h"``, ...).

        Raises
        ------
        GeomcoreError
            If ``quality`` is not a key of :data:`QUALITIES`.
        """
        if quality not in QUALITIES:
            raise GeomcoreError(f"unknown quality {quality!r}; expected one of {list(QUALITIES)}")
        width, height, fps = QUALITIES[quality]
        return cls(pixel_width=width, pixel_height=height, frame_rate=fps, **kwargs)

    @property
    def quality_dir(self) -> str:
        """Manim's folder name for this quality, e.g. ``"720p30"``."""
        return f"{self.pixel_height}p{self.frame_rate}"


@dataclass(frozen=True)
class LecturePart:
    """A rendered part (one or more chapters), as its manifest describes it.

    Attributes
    ----------
    chapters
        Chapter ids, in play order.
    frames
        Frames the scene rendered (its scene time times the frame rate).
    settings
        The settings it was rendered with.
    video
        The part's movie.
    cues
        Subtitle cues ``(start, end, text)``, seconds from the part's first frame.
    audio
        The part's soundtrack (WAV, from its first frame), or None without sound.
    render_seconds
        Wall-clock seconds the part took to render, in its process.
    """

    chapters: tuple[str, ...]
    frames: int
    settings: RenderSettings
    video: Path
    cues: tuple[tuple[float, float, str], ...] = ()
    audio: Path | None = None
    render_seconds: float = 0.0
    manifest: Path | None = field(default=None, compare=False)

    @property
    def seconds(self) -> float:
        """Duration in seconds: :attr:`frames` / frame rate."""
        return self.frames / self.settings.frame_rate

    def to_json(self) -> str:
        """The manifest's text (paths relative to the manifest's folder)."""
        return json.dumps({
            "chapters": list(self.chapters), "frames": self.frames,
            "settings": asdict(self.settings), "video": self.video.name,
            "cues": [list(c) for c in self.cues],
            "audio": None if self.audio is None else self.audio.name,
            "render_seconds": self.render_seconds,
        }, indent=1)

    @classmethod
    def load(cls, manifest: Path) -> LecturePart:
        """Read a part's manifest.

        Raises
        ------
        GeomcoreError
            If the manifest is missing or unreadable (the part did not finish).
        """
        manifest = Path(manifest)
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            folder = manifest.parent
            return cls(
                chapters=tuple(data["chapters"]), frames=int(data["frames"]),
                settings=RenderSettings(**data["settings"]), video=folder / data["video"],
                cues=tuple((float(a), float(b), str(t)) for a, b, t in data["cues"]),
                audio=None if data["audio"] is None else folder / data["audio"],
                render_seconds=float(data["render_seconds"]), manifest=manifest,
            )
        except FileNotFoundError:
            raise GeomcoreError(f"lecture part {manifest} is missing: its render did not "
                                "finish") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise GeomcoreError(f"lecture part manifest {manifest} is unreadable "
                                f"({type(exc).__name__}: {exc})") from None


def estimated_seconds(chapter_id: str) -> float:
    """A chapter's screen time estimated from its narration: the sum of its cues' reading
    times, in seconds (a lower bound: animations may outlast the words).

    Used to cut the lecture into parts of about equal length (:func:`contiguous_parts`).
    """
    from geomcore.narration import Narration, reading_time

    # The file scenes.stage.NARRATION_FILE names, without importing Manim for it.
    narration = Narration.load(Path(__file__).resolve().parent / "narration" / "circles.toml")
    prefix = f"{chapter_id}."
    return sum(reading_time(text) for cue, text in narration.cues.items()
               if cue.startswith(prefix))


def contiguous_parts(weights: Sequence[float], parts: int) -> list[range]:
    """Cut a sequence into at most ``parts`` runs of consecutive items, the heaviest run as
    light as possible (the linear partition problem, solved exactly by dynamic programming:
    Skiena, *The Algorithm Design Manual*, 2nd ed., section 8.5).

    A part is a range of chapters in play order, rendered by one process: each process
    pays its start-up and its own loading of the lecture's runs, which one process a
    chapter paid fourteen times (the 720p30 lecture took 317 s of CPU in 14 parts against
    204 s serially).

    Parameters
    ----------
    weights
        Each item's cost (e.g. seconds, :func:`estimated_seconds`), all >= 0.
    parts
        Most runs wanted, >= 1.

    Returns
    -------
    list of range
        Consecutive, non-empty ranges of indices covering ``range(len(weights))`` in order;
        ``min(parts, len(weights))`` of them.

    Raises
    ------
    ValueError
        If ``parts < 1`` or a weight is negative.
    """
    n = len(weights)
    if parts < 1 or any(w < 0 for w in weights):
        raise ValueError(f"expected parts >= 1 and weights >= 0; received parts={parts}, "
                         f"weights={list(weights)}")
    k = min(parts, n)
    if k == 0:
        return []
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + float(w))
    # best[j][i]: the lightest heaviest run cutting items[:i] into j runs; cut[j][i]: where
    # the last of those runs starts.
    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for j in range(1, k + 1):
        for i in range(j, n + 1):
            for start in range(j - 1, i):
                cost = max(best[j - 1][start], prefix[i] - prefix[start])
                if cost < best[j][i]:
                    best[j][i], cut[j][i] = cost, start
    ranges, end = [], n
    for j in range(k, 0, -1):
        start = cut[j][end]
        ranges.append(range(start, end))
        end = start
    return ranges[::-1]


# ---------------------------------------------------------------------------------------------
# One part, in its own process: Manim renders, the manifest is written last.


def render_part(chapter_ids: Sequence[str], out_dir: Path, settings: RenderSettings,
                name: str = MOVIE_NAME) -> LecturePart:
    """Render the chapters ``chapter_ids`` as one scene into ``out_dir``.

    Writes ``<name>.mp4`` and ``<name>.srt`` (Manim), ``<name>.wav`` when the scene has
    sound, and last ``<name>.json``, the manifest :func:`verify_part` checks; Manim's caches
    (texts, speech) go to ``out_dir`` too. Manim's global
    configuration is changed: call it in a process of its own (the ``--part-dir`` entry).

    Parameters
    ----------
    chapter_ids
        Chapter ids in play order.
    out_dir
        Folder for the part's files (created).
    settings
        Frame size, frame rate, encoders in flight, voice.
    name
        File name of the part's movie, without suffix.

    Returns
    -------
    LecturePart
        The part as its manifest describes it.

    Raises
    ------
    GeomcoreError
        For unknown chapter ids, or a voice setting that differs from ``GEOMCORE_VOICE``
        (the lecture's scene class is chosen when :mod:`scenes.stage` is imported).
    """
    import manim as mn
    from manim._config.utils import make_config_parser

    from scenes import MANIM_CFG, stage
    from scenes.circles import lecture_part

    if stage.voice_requested() != settings.voice:
        raise GeomcoreError(f"voice={settings.voice} but GEOMCORE_VOICE="
                            f"{os.environ.get('GEOMCORE_VOICE', '')!r}; set it to match")
    scene_class = lecture_part(chapter_ids)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # The lecture's manim.cfg, as `manim render scenes/circles.py` reads it, then the settings
    # every part must share.
    mn.config.digest_parser(make_config_parser(custom_file=MANIM_CFG))
    mn.config.input_file = str(Path(stage.__file__).with_name("circles.py"))
    mn.config.frame_size = (settings.pixel_width, settings.pixel_height)
    mn.config.frame_rate = settings.frame_rate
    mn.config.max_inflight_encoders = settings.max_inflight_encoders
    # Every Manim cache of this part (text SVGs, the voice's speech and its cache.json) in
    # its own folder: two parts writing the same cache file at once would leave a reader a
    # partial file.
    mn.config.media_dir = str(out_dir)
    mn.config.video_dir = str(out_dir)
    mn.config.output_file = name
    mn.config.write_to_movie = True
    started = time.perf_counter()
    scene = scene_class()
    scene.render()
    elapsed = time.perf_counter() - started
    writer = scene.renderer.file_writer
    frames = round(scene.renderer.time * settings.frame_rate)
    video = out_dir / f"{name}.mp4"
    cues = tuple((c.start.total_seconds(), c.end.total_seconds(), c.content)
                 for c in writer.subcaptions)
    audio = None
    if getattr(writer, "includes_sound", False):
        audio = out_dir / f"{name}.wav"
        writer.audio_segment.export(str(audio), format="wav").close()
    part = LecturePart(tuple(chapter_ids), frames, settings, video, cues, audio, elapsed)
    manifest = out_dir / f"{name}.json"
    tmp = manifest.with_suffix(".json.tmp")
    tmp.write_text(part.to_json(), encoding="utf-8")
    tmp.replace(manifest)  # atomic: a manifest exists only for a finished part
    return LecturePart.load(manifest)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (a Dask worker) dies, so that an
    orphaned part render never keeps writing after its task was handed to another worker."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _render_part_task(root: str, chapter_ids: tuple[str, ...], parts_dir: str,
                      settings: RenderSettings) -> str:
    """Dask task: render one part in a fresh process, in a fresh folder; its manifest's path.

    Runs ``python -m scenes.render_parallel --part-dir ...`` in ``root`` (the client's
    working folder: its ``data/trajectories`` cache), importing :mod:`scenes` from where this
    worker imported this task. A fresh folder per attempt: a chapter
    redone after its worker died never shares files with the dead attempt.

    Raises
    ------
    RuntimeError
        If the part's process fails, with the end of its log.
    """
    out_dir = Path(parts_dir) / f"{chapter_ids[0]}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    # A Dask nanny's MALLOC_TRIM_THRESHOLD_ (see geomcore.cluster.client) would make every
    # frame a fresh mapping of zeroed pages: 45 % longer renders.
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    env["GEOMCORE_VOICE"] = "1" if settings.voice else "0"
    # The scenes this task came from (a checkout, or the installed package), not another copy.
    code_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([code_root, *filter(None, [env.get("PYTHONPATH")])])
    command = [
        sys.executable, "-m", "scenes.render_parallel", "--part-dir", str(out_dir),
        "--chapters", ",".join(chapter_ids),
        "--size", f"{settings.pixel_width}x{settings.pixel_height}",
        "--fps", str(settings.frame_rate),
        "--max-inflight-encoders", str(settings.max_inflight_encoders),
    ]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-LOG_TAIL_LINES:])
        raise RuntimeError(f"chapter part {','.join(chapter_ids)} failed "
                           f"(exit {done.returncode}):\n{tail}")
    return str(out_dir / f"{MOVIE_NAME}.json")


# ---------------------------------------------------------------------------------------------
# Checking and joining parts.


def _stream_frames(path: Path) -> tuple[int, int, int, Fraction, str, str]:
    """(frames, width, height, frame rate, codec, pixel format) of a movie's video stream;
    frames counted as the demuxed packets (one a frame for Manim's intra-coded H.264/VP9)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        # The stream's own frame rate (r_frame_rate): the average over the duration is
        # inexact for some lengths (15 fps came back as 1152000/76799 for a 375-frame part).
        rate = stream.base_rate or stream.guessed_rate or stream.average_rate or 0
        return (frames, ctx.width, ctx.height, Fraction(rate), ctx.name, str(ctx.pix_fmt))


def verify_part(part: LecturePart | Path, settings: RenderSettings) -> LecturePart:
    """Check that a part is whole and joinable before it is joined.

    Parameters
    ----------
    part
        A part, or the path of its manifest.
    settings
        The settings every part of this render shares.

    Returns
    -------
    LecturePart
        The part.

    Raises
    ------
    GeomcoreError
        If the manifest or movie is missing or undecodable, or the movie's frame count, size,
        frame rate or codec is not what the part rendered (a truncated or foreign file).
    """
    import av

    if not isinstance(part, LecturePart):
        part = LecturePart.load(Path(part))
    label = f"lecture part {','.join(part.chapters)} ({part.video})"
    if part.settings != settings:
        raise GeomcoreError(f"{label} was rendered with {part.settings}, expected {settings}")
    if not part.video.is_file():
        raise GeomcoreError(f"{label}: the movie is missing")
    try:
        frames, width, height, rate, codec, pix_fmt = _stream_frames(part.video)
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise GeomcoreError(f"{label} cannot be decoded ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}); "
                            "truncated? render it again") from None
    if (width, height) != (settings.pixel_width, settings.pixel_height) or rate != Fraction(
            settings.frame_rate):
        raise GeomcoreError(f"{label} is {width}x{height} at {rate} frames/s, expected "
                            f"{settings.pixel_width}x{settings.pixel_height} at "
                            f"{settings.frame_rate}")
    if (codec, pix_fmt) != ("h264", "yuv420p"):
        raise GeomcoreError(f"{label} is {codec}/{pix_fmt}, expected h264/yuv420p")
    if frames != part.frames:
        raise GeomcoreError(f"{label} holds {frames} frames, expected {part.frames}: "
                            "truncated; render it again")
    if part.audio is not None and not part.audio.is_file():
        raise GeomcoreError(f"{label}: its soundtrack {part.audio} is missing")
    return part


def _concat_manifest(paths: Sequence[Path]) -> bytes:
    """An FFmpeg concat manifest (as Manim writes for its partial movie files)."""
    return "".join(f"file 'file:{Path(p).resolve().as_posix()}'\n" for p in paths).encode()


def join_parts(parts: Sequence[LecturePart], output: Path) -> Path:
    """Join verified parts, in order, into one movie with its ``.srt`` and soundtrack.

    The video packets are copied (FFmpeg's concat demuxer, as Manim joins its partial movie
    files): no re-encoding, so every frame is the part's. Subtitle cues are shifted by their
    part's start, ``frames before it / frame rate`` seconds; each part's sound is laid on one
    soundtrack at that start (milliseconds), muxed as Manim muxes a movie's sound (AAC).

    Parameters
    ----------
    parts
        Parts in play order, checked by :func:`verify_part`.
    output
        The movie to write (``.mp4``); ``output.with_suffix(".srt")`` gets the cues. Written
        to a temporary file first and moved into place.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    GeomcoreError
        If ``parts`` is empty, or the joined movie's frame count is not the parts' sum.
    """
    import av
    import srt

    if not parts:
        raise GeomcoreError("nothing to join: no lecture parts")
    fps = parts[0].settings.frame_rate
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.joining{output.suffix}")
    manifest = BytesIO(_concat_manifest([p.video for p in parts]))
    with av.open(manifest, format="concat", options={"safe": "0", "an": "1"}) as source:
        stream = source.streams.video[0]
        with av.open(str(tmp), mode="w") as target:
            copy = target.add_stream_from_template(template=stream)
            for packet in source.demux(stream):
                if packet.dts is None:  # the flushing packets demux yields
                    continue
                packet.dts = None  # dts restart in each part: let libav recompute them
                packet.stream = copy
                target.mux(packet)
    total = sum(p.frames for p in parts)
    got = _stream_frames(tmp)[0]
    if got != total:
        tmp.unlink(missing_ok=True)
        raise GeomcoreError(f"the joined lecture holds {got} frames, expected {total}")

    subtitles, sound, frames_before = [], None, 0
    starts = []
    for part in parts:
        start = frames_before / fps
        starts.append(start)
        for begin, end, text in part.cues:
            subtitles.append(srt.Subtitle(
                index=len(subtitles) + 1, content=text,
                start=datetime.timedelta(seconds=start + begin),
                end=datetime.timedelta(seconds=start + end)))
        frames_before += part.frames
    if any(p.audio is not None for p in parts):
        from pydub import AudioSegment

        sound = AudioSegment.silent(duration=round(1000 * total / fps))
        for part, start in zip(parts, starts, strict=True):
            if part.audio is not None:
                with part.audio.open("rb") as wav:  # pydub leaves a path's file open
                    sound = sound.overlay(AudioSegment.from_wav(wav),
                                          position=round(1000 * start))
        from geomcore.views.narrator import mux_audio

        mux_audio(tmp, sound)
    tmp.replace(output)
    srt_path = output.with_suffix(".srt")
    if subtitles:
        srt_path.write_text(srt.compose(subtitles, reindex=False), encoding="utf-8")
    else:
        srt_path.unlink(missing_ok=True)
    return output


# ---------------------------------------------------------------------------------------------
# The whole render.


def _chapter_ids(chapters: Sequence[str] | None) -> tuple[str, ...]:
    from scenes.lecture import CHAPTERS, chapter

    if chapters is None:
        return tuple(ch.id for ch in CHAPTERS)
    ids = tuple(chapter(c).id for c in chapters)
    if not ids:
        raise GeomcoreError("--chapters names no chapter; expected ids such as 'title,data'")
    return ids


def render_lecture(
    settings: RenderSettings | None = None,
    *,
    chapters: Sequence[str] | None = None,
    media_dir: Path | str = "media",
    scheduler: str | None = None,
    n_workers: int | None = None,
    keep_parts: bool = False,
    log: object = None,
) -> Path:
    """Render the lecture's chapters in parallel on Dask and join them into one movie.

    Parameters
    ----------
    settings
        Frame size, rate, encoders in flight, voice (default: 720p30, no voice).
    chapters
        Chapter ids to render, in play order (default: the whole lecture).
    media_dir
        Manim's media folder; the movie goes to
        ``<media_dir>/videos/circles/<quality>/CirclesLecture.mp4``, the parts to
        ``.../parts/`` beside it (removed after the join unless ``keep_parts``).
    scheduler
        Address of a Dask scheduler; None starts a local cluster
        (:func:`geomcore.cluster.client`). Remote workers must see this folder at the same
        path (shared file system) and have geomcore installed.
    n_workers
        Local worker processes (default: one a core).
    keep_parts
        Keep the part folders (to inspect them).
    log
        ``print``-like callable for progress lines, or None for silence.

    Returns
    -------
    Path
        The joined movie.

    Raises
    ------
    GeomcoreError
        If a chapter id is unknown, the scheduler does not answer, a part fails (with its
        log's last lines) or is not whole (:func:`verify_part`), or a chapter's worker died
        more often than Dask allows (``distributed.scheduler.allowed-failures``).
    """
    settings = settings or RenderSettings()
    ids = _chapter_ids(chapters)  # bad input fails before Dask is even imported
    from geomcore.cluster import client, local_workers

    local = local_workers(n_workers) if scheduler is None else None  # before any recording

    from distributed import KilledWorker, as_completed

    say = log or (lambda *_: None)
    if "conclusion" in ids:
        # The conclusion's seed sweep (64 runs) is recorded here, once, with its progress
        # bar, before any part needs it: a part's output is not shown, and two parts
        # would otherwise wait on one recording.
        from scenes.stage import LectureRuns

        LectureRuns().seed_sweep()
    # Dask's start-up and shut-down lines would bury the chapters' progress.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    root = Path.cwd().resolve()
    video_dir = (root / media_dir / "videos" / "circles" / settings.quality_dir).resolve()
    parts_dir = video_dir / "parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    manifests: dict[tuple[str, ...], str] = {}
    with client(scheduler, n_workers=n_workers) as dask:
        # One part a worker: consecutive chapters of about equal length, so each process
        # starts and loads the lecture's runs once (see contiguous_parts).
        if local is not None:
            dask.wait_for_workers(local, timeout=60)
        workers = max(1, len(dask.scheduler_info().get("workers", {})))
        groups = [tuple(ids[i] for i in r)
                  for r in contiguous_parts([estimated_seconds(i) for i in ids], workers)]
        futures = {
            dask.submit(_render_part_task, str(root), group, str(parts_dir), settings,
                        key=f"chapters-{group[0]}-{uuid.uuid4().hex[:6]}", pure=False): group
            for group in groups
        }
        try:
            for future in as_completed(futures):
                group = futures[future]
                named = ", ".join(group)
                try:
                    manifests[group] = future.result()
                except KilledWorker:
                    raise GeomcoreError(f"chapters {named}: their worker died on every try; "
                                        "nothing was joined") from None
                except RuntimeError as exc:
                    raise GeomcoreError(str(exc)) from None
                say(f"chapters {named}: rendered ({len(manifests)}/{len(groups)} parts)")
        finally:
            for future in futures:
                future.cancel()
    parts = [verify_part(Path(manifests[group]), settings) for group in groups]
    movie = join_parts(parts, video_dir / f"{MOVIE_NAME}.mp4")
    if not keep_parts:
        for part in parts:
            shutil.rmtree(part.video.parent, ignore_errors=True)
        with contextlib.suppress(OSError):
            parts_dir.rmdir()  # only if empty: a dead attempt may have left a folder
    return movie


def _parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scenes.render_parallel``: the lecture rendered in parallel (see module doc).

    Returns
    -------
    int
        The exit status: 0 on success, 1 with a one-line error on stderr.
    """
    parser = argparse.ArgumentParser(
        prog="python -m scenes.render_parallel",
        description="Render the lecture's chapters in parallel (Dask) and join them into "
                    "media/videos/circles/<quality>/CirclesLecture.mp4 with its .srt.")
    parser.add_argument("-q", "--quality", choices=list(QUALITIES), default=DEFAULT_QUALITY,
                        help="Manim's quality: l 480p15, m 720p30 (default), h 1080p60, ...")
    parser.add_argument("--size", type=_parse_size, help="WIDTHxHEIGHT, overrides -q's")
    parser.add_argument("--fps", type=int, help="frames per second, overrides -q's")
    parser.add_argument("--chapters", help="comma-separated chapter ids (default: all)")
    parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 "
                        "(default: a local cluster, one worker a core)")
    parser.add_argument("--workers", type=int, help="local worker processes")
    parser.add_argument("--max-inflight-encoders", type=int, default=4,
                        help="Manim's max_inflight_encoders per part (default 4, as "
                        "Manim suggests; bench/lecture.py measures its effect)")
    parser.add_argument("--media-dir", default="media")
    parser.add_argument("--keep-parts", action="store_true")
    parser.add_argument("--part-dir", help=argparse.SUPPRESS)  # one part, in this process
    args = parser.parse_args(argv)
    try:
        from scenes.stage import voice_requested

        width, height, fps = QUALITIES[args.quality]
        if args.size:
            width, height = args.size
        settings = RenderSettings(width, height, args.fps or fps, args.max_inflight_encoders,
                                  voice_requested())
        chapters = None if args.chapters is None else [
            c.strip() for c in args.chapters.split(",") if c.strip()]
        if args.workers is not None and args.workers < 1:
            # Before anything is recorded or started (the conclusion's sweep comes first).
            raise GeomcoreError(f"--workers must be a positive number of local worker "
                                f"processes; received {args.workers}")
        if args.part_dir:
            _die_with_parent()
            render_part(_chapter_ids(chapters), Path(args.part_dir), settings)
            return 0
        started = time.perf_counter()
        movie = render_lecture(settings, chapters=chapters, media_dir=args.media_dir,
                               scheduler=args.scheduler, n_workers=args.workers,
                               keep_parts=args.keep_parts, log=print)
        print(f"{movie} (rendered in {time.perf_counter() - started:.1f} s)")
    except GeomcoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
