"""What every chapter stands on: the base scene and voice switch, the runs, the narrator.

A storyboard (``scenes/chapters/``) gets the scene and a :class:`LectureRuns`; it says its
words with ``say = stage.narrator(scene).say``, puts its heading up with
:func:`title_bar`, and ends with :func:`clear`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import manim as mn

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.narration import Narration
from geomcore.replay import Replay
from geomcore.trajectory import Trajectory
from geomcore.views import Narrator, caption
from scenes import slots

__all__ = [
    "NARRATION_FILE",
    "REPLAY_SECONDS",
    "SWEEP_SEEDS",
    "SWEEP_WIDTHS",
    "VOICE_OFF",
    "VOICE_ON",
    "WIDTHS",
    "LectureRuns",
    "LectureScene",
    "clear",
    "freeze",
    "narrator",
    "title_bar",
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
#: The conclusion's claim: seeds ``0 .. SWEEP_SEEDS - 1`` of ``circles-<width>d`` for each of
#: these widths, recorded as a sweep (:mod:`geomcore.sweep`).
SWEEP_SEEDS = 32
SWEEP_WIDTHS = (2, 3)


@dataclass
class LectureRuns:
    """The lecture's recorded trajectories, loaded (or recorded) on first use.

    Attributes
    ----------
    _cache
        Trajectories already loaded, by experiment name; tests may fill it with their own.
    _sweep
        The seed sweep's summary rows (:meth:`seed_sweep`) once loaded; tests may give
        their own, so that no sweep is recorded.
    """

    _cache: dict[str, Trajectory] = field(default_factory=dict)
    _sweep: list[dict[str, Any]] | None = None

    def trajectory(self, width: int | str) -> Trajectory:
        """The run ``circles-<width>d``, or the experiment named ``width`` if a string.

        Raises
        ------
        geomcore.errors.GeomcoreError
            If no such experiment exists, or recording fails.
        """
        name = width if isinstance(width, str) else f"circles-{width}d"
        if name not in self._cache:
            self._cache[name], _ = load_or_record(find_experiment(name))
        return self._cache[name]

    def replay(self, width: int | str) -> Replay:
        """A :class:`~geomcore.replay.Replay` of :meth:`trajectory` ``(width)``."""
        return Replay(self.trajectory(width))

    def seed_sweep(self) -> list[dict[str, Any]]:
        """Summary rows of :data:`SWEEP_SEEDS` seeds of each width in :data:`SWEEP_WIDTHS`.

        Read from the cache's sweep summary, or recorded on first use like any trajectory
        (in this process, with a progress bar): :func:`geomcore.sweep.load_or_run_sweep`.
        """
        if self._sweep is None:
            from geomcore.sweep import load_or_run_sweep, rich_progress, seed_sweep

            rows: list[dict[str, Any]] = []
            for width in SWEEP_WIDTHS:
                spec = seed_sweep(find_experiment(f"circles-{width}d"), SWEEP_SEEDS)
                report, stop = rich_progress(spec.name)
                try:
                    rows += load_or_run_sweep(spec, progress=report)
                finally:
                    stop()
            self._sweep = rows
        return self._sweep

    @cached_property
    def first(self) -> Trajectory:
        """The width-2 run: every layer 2 wide, so every layer can be drawn in the plane."""
        return self.trajectory(2)


#: The lecture's narration: edit or translate the words there, not here.
NARRATION_FILE = Path(__file__).resolve().parent / "narration" / "circles.toml"


def narrator(scene: mn.Scene) -> Narrator:
    """The scene's narrator (created on first use, reading :data:`NARRATION_FILE`).

    ``narrator(scene).say(cue)`` raises :class:`geomcore.narration.NarrationError` for a cue
    the narration file does not have: every cue a chapter uses must be written there.
    """
    if getattr(scene, "narrator", None) is None:
        scene.narrator = Narrator(scene, Narration.load(NARRATION_FILE))
    return scene.narrator


def title_bar(text: str) -> mn.MarkupText:
    """A chapter heading at the top edge of the frame (:data:`slots.TITLE_BUFF`)."""
    return caption(text, font_size=34).to_edge(mn.UP, buff=slots.TITLE_BUFF)


def freeze(*views: mn.Mobject) -> None:
    """Stop the per-frame updates of ``views`` (their ``dynamic`` layer, or themselves)."""
    for view in views:
        getattr(view, "dynamic", view).clear_updaters()


def clear(scene: mn.Scene, *views: mn.Mobject, run_time: float = 0.8) -> None:
    """End a shot: :func:`freeze` ``views``, then fade out all but the captions.

    Parameters
    ----------
    scene
        The scene being built.
    *views
        Views with updaters (clocks, trackers) to stop before they fade.
    run_time
        Seconds of the fade.
    """
    freeze(*views)
    leaving = [m for m in scene.mobjects if m not in scene.foreground_mobjects]
    if leaving:
        scene.play(*[mn.FadeOut(m) for m in leaving], run_time=run_time)
    scene.remove(*leaving)
