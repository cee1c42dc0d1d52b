"""Narration in step with the animations: on-screen captions, subcaptions, optional voice.

What lives here: :class:`Narrator`, which shows (and, with manim-voiceover, speaks) the
lecture's cues while a block of animations runs, and writes each cue as a subcaption so a
render leaves an ``.srt`` file beside the video; :func:`add_section_audio`, which gives
each ``--save_sections`` file its part of the soundtrack.

What it may import: Manim, :mod:`geomcore.narration` (the words and their reading times) and
:mod:`geomcore.views.style`, :mod:`geomcore.views.primitives`.

Units: *seconds* of scene time.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import av
import manim as mn
from manim.scene.scene_file_writer import convert_audio
from pydub import AudioSegment

from geomcore.views.primitives import caption
from geomcore.views.style import BOUNDARY_COLOR, CHAPTER_CARD_FONT_SIZE, NARRATION_FONT_SIZE

if TYPE_CHECKING:
    from geomcore.narration import Narration

__all__ = ["Narrator", "add_section_audio", "mux_audio"]


class Narrator:
    """Speaks or shows a lecture's narration in step with its animations.

    ``with narrator.say("data.rings"): scene.play(...)`` shows the cue as a caption at the
    bottom of the frame while the animations inside run, then waits until the cue has been
    on screen for its reading time (:func:`geomcore.narration.reading_time`) or, with a
    voice, until the speech ends. Each cue is also written as a subcaption, so every render
    writes an ``.srt`` file beside the video.

    On a manim-slides ``Slide`` (``scenes/slides.py``), each cue also starts a new slide
    (``next_slide``) whose speaker notes are the cue's words.

    The voice is manim-voiceover's: when ``scene`` is a ``VoiceoverScene`` with a speech
    service set (``create_subcaption=False``; the narrator writes the subcaptions), each cue
    is synthesised and added to the soundtrack.

    Parameters
    ----------
    scene
        The scene being built.
    narration
        The lecture's cues.
    """

    def __init__(self, scene: mn.Scene, narration: Narration) -> None:
        self.scene, self.narration = scene, narration
        self.cues_shown: list[tuple[str, float, float]] = []
        # Manim writes section files (--save_sections) without the soundtrack: add it after.
        writer = getattr(scene.renderer, "file_writer", None)
        combine = getattr(writer, "combine_to_section_videos", None)
        if combine is not None and not getattr(combine, "adds_section_audio", False):
            def combine_with_audio() -> None:
                combine()
                add_section_audio(writer)

            combine_with_audio.adds_section_audio = True  # type: ignore[attr-defined]
            writer.combine_to_section_videos = combine_with_audio

    @property
    def voiced(self) -> bool:
        """Whether cues are spoken (the scene has a manim-voiceover speech service)."""
        return getattr(self.scene, "speech_service", None) is not None

    def caption_mobject(self, text: str) -> mn.VGroup:
        """The on-screen caption: the text on a dark band at the bottom of the frame."""
        # Wrap long cues onto two or three lines rather than shrinking them.
        label = caption("\n".join(textwrap.wrap(text, width=72)), font_size=NARRATION_FONT_SIZE,
                        max_width=12.8, line_spacing=1.0)
        band = mn.RoundedRectangle(
            corner_radius=0.08, width=label.width + 0.4, height=label.height + 0.22,
            fill_color=mn.config.background_color, fill_opacity=0.82, stroke_width=0,
        )
        group = mn.VGroup(band, label.move_to(band))
        return group.to_edge(mn.DOWN, buff=0.1)

    @contextlib.contextmanager
    def say(self, cue: str) -> Iterator[float]:
        """Show (and speak) ``cue`` while the block runs; yields the cue's minimum duration.

        Raises
        ------
        geomcore.narration.NarrationError
            If there is no such cue.
        """
        from geomcore.narration import reading_time

        text = self.narration[cue]
        duration = reading_time(text)
        # A manim-slides Slide (scenes/slides.py): each cue opens a stop; its words are the
        # speaker notes. A plain Scene has no next_slide and renders as before.
        next_slide = getattr(self.scene, "next_slide", None)
        if next_slide is not None:
            next_slide(notes=text)
        if self.voiced:
            tracker = self.scene.add_voiceover_text(text)
            duration = max(duration, float(tracker.duration))
        start = self.scene.time
        band = self.caption_mobject(text)
        self.scene.add_foreground_mobject(band)
        try:
            yield duration
            self._hold(start, duration)
        finally:
            self.scene.remove_foreground_mobject(band)
            self.scene.remove(band)
        shown = self.scene.time - start
        self.scene.add_subcaption(text, duration=shown, offset=-shown)
        self.cues_shown.append((cue, start, shown))

    def _hold(self, start: float, duration: float) -> None:
        """Wait until whole frames since ``start`` cover ``duration`` seconds (rounded up).

        Manim renders a still wait as ``int(seconds * fps)`` frames (rounded down) and an
        animated one as ``ceil``; either way a top-up of single frames follows until the
        promise "on screen for at least its reading time" holds in frames.
        """
        fps = float(mn.config.frame_rate)
        # 1e-6 frame: float noise in scene.time must not cost (or add) a whole frame.
        needed = math.ceil(duration * fps - 1e-6)
        for _ in range(needed + 2):  # never loops forever; normally one or two waits
            missing = needed - (self.scene.time - start) * fps
            if missing <= 1e-6:
                return
            frames = max(1, math.ceil(missing - 1e-6))
            self.scene.wait(frames / fps)

    def chapter_card(self, title: str, seconds: float = 1.6) -> None:
        """A chapter title over the whole frame at a section start."""
        card = caption(title, font_size=CHAPTER_CARD_FONT_SIZE, color=BOUNDARY_COLOR)
        self.scene.play(mn.FadeIn(card, scale=1.05), run_time=0.5)
        self.scene.wait(max(0.0, seconds - 1.0))
        self.scene.play(mn.FadeOut(card), run_time=0.5)


def _seconds(path: Path) -> float:
    """Duration of a video file in seconds (its video stream's frames / frame rate)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = stream.frames or sum(1 for _ in container.demux(stream) if _.dts is not None)
        return float(frames / stream.average_rate)


def mux_audio(video: Path, sound: AudioSegment) -> None:
    """Replace a movie by a copy that also carries a soundtrack, as Manim muxes a movie's sound.

    The video packets are copied (not re-encoded); the sound is encoded as AAC (Opus for
    ``.webm``) with Manim's own :func:`~manim.scene.scene_file_writer.convert_audio`. The new
    file is written in a temporary folder and moved over ``video``.

    Parameters
    ----------
    video : Path
        The movie file (``.mp4``, ``.mov`` or ``.webm``); replaced.
    sound : pydub.AudioSegment
        The soundtrack, from the movie's start.
    """
    codec = "libopus" if video.suffix == ".webm" else "aac"
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "sound.wav"
        coded = Path(tmp) / ("sound.ogg" if codec == "libopus" else "sound.aac")
        sound.export(str(wav), format="wav").close()  # export returns the open file
        convert_audio(wav, coded, codec)
        muxed = Path(tmp) / f"muxed{video.suffix}"
        with av.open(str(video)) as vin, av.open(str(coded)) as ain, \
                av.open(str(muxed), "w") as output:
            sources = [(vin, vin.streams.video[0]), (ain, ain.streams.audio[0])]
            # Every stream must exist before the first packet: the header is written then.
            copies = [output.add_stream_from_template(template=st) for _, st in sources]
            for (container, stream), copy in zip(sources, copies, strict=True):
                for packet in container.demux(stream):
                    if packet.dts is None:  # flushing packets
                        continue
                    packet.stream = copy
                    output.mux(packet)
        shutil.move(str(muxed), str(video))


def add_section_audio(writer: object) -> list[Path]:
    """Give every section file written by ``--save_sections`` its part of the soundtrack.

    Manim concatenates a section's partial movie files without sound; the soundtrack (the
    voice) only goes into the whole movie. Here each section's time range in the movie,
    the sum of its partial movie files' durations after those of the sections before it,
    is cut from the soundtrack (padded with silence to the section's length) and muxed
    into the section's file with PyAV.

    Parameters
    ----------
    writer
        A scene's ``SceneFileWriter`` after it has combined the sections.

    Returns
    -------
    list of Path
        The section files that now carry audio; empty if the scene has no sound.
    """
    sound = getattr(writer, "audio_segment", None)
    if not getattr(writer, "includes_sound", False) or sound is None:
        return []
    done, start = [], 0.0
    for section in writer.sections:
        files = section.get_clean_partial_movie_files()
        duration = sum(_seconds(Path(f)) for f in files)
        if section.video is not None and files:
            path = Path(writer.sections_output_dir) / section.video
            begin, end = int(round(1000 * start)), int(round(1000 * (start + duration)))
            part = sound[begin:end]
            if len(part) < end - begin:
                part = part + AudioSegment.silent(end - begin - len(part),
                                                  frame_rate=sound.frame_rate)
            mux_audio(path, part)
            done.append(path)
        start += duration
    return done
