"""The lecture as slides for a live talk: ``make slides`` (needs the ``slides`` extra).

``manim render scenes/slides.py CirclesLecture`` plays the same lecture as
:class:`scenes.circles.CirclesLecture`, on manim-slides' ``Slide``: a stop (the presenter
presses an arrow key) at the start of every chapter and of every narration cue. Each stop's
speaker notes are the chapter's section name (``"Chapter: 02 The data"``) or the cue's words.
manim-slides writes the slides to ``<media_dir>/slides``; :mod:`geomcore.slides` turns them
into one offline HTML player, ``media/slides/CirclesLecture.html``.

Slides are silent (manim-slides cuts them from Manim's partial movie files, which carry no
sound), so this module refuses ``GEOMCORE_VOICE``: the words are in the captions and notes.

What it may import: Manim, manim-slides, :mod:`scenes.stage`, :mod:`scenes.circles`,
:func:`geomcore.slides.chapter_note`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import manim as mn

from geomcore.slides import chapter_note
from scenes import circles, stage

try:
    from manim_slides import Slide
except ImportError:  # a clear message instead of a traceback
    raise SystemExit(
        "the slides need manim-slides: run \"pip install -e '.[slides]'\" (or 'make slides')"
    ) from None

if stage.voice_requested():
    raise SystemExit(
        "GEOMCORE_VOICE is set, but slides are silent (manim-slides cuts them from Manim's "
        "partial movie files, which carry no sound): unset it for 'make slides'; the words "
        "are in the captions and the speaker notes"
    )

__all__ = ["CirclesLecture", "LectureSlides"]


class LectureSlides(Slide):  # type: ignore[misc]
    """Put before a lecture scene's class to play it as slides: a stop per chapter and cue.

    ``class CirclesLecture(LectureSlides, circles.CirclesLecture)``: the lecture's
    ``next_section(name)`` (one per chapter) becomes a stop whose speaker note is
    :func:`geomcore.slides.chapter_note` ``(name)``; the narrator
    (:class:`geomcore.views.Narrator`) calls ``next_slide(notes=text)`` at every cue.
    A chapter's stop holds one frame before its first animation, so a chapter that opens
    with a cue (the title) still has a stop of its own: the slide count is chapters + cues.

    Parameters
    ----------
    output_folder
        Where manim-slides writes the slides (``<name>.json`` and ``files/<name>/``, which
        the JSON names by absolute path); by default ``slides`` in Manim's media folder.
    """

    #: The HTML player never plays a slide backwards: no reversed copies (one re-encode each).
    skip_reversing = True

    def __init__(self, *args: Any, output_folder: Path | None = None, **kwargs: Any) -> None:
        if output_folder is None:
            output_folder = Path(mn.config.media_dir) / "slides"
        # manim-slides reads a slide's file relative to the folder above output_folder, right
        # only for a folder one level down (its default ./slides); absolute paths always are.
        output_folder = Path(output_folder).absolute()
        # Manim 0.22 reads max_files_cached when a scene is made, and after rendering prunes
        # the partial movie files to it (default 100); the slides are cut from all of them.
        max_files_cached = mn.config.max_files_cached
        mn.config.max_files_cached = -1  # unlimited
        try:
            # Past Slide.__init__ to BaseSlide's: manim-slides 5.7.0 sets
            # config["write_to_movie"] there, a setting Manim 0.22 no longer has.
            super(Slide, self).__init__(*args, output_folder=output_folder, **kwargs)
        finally:
            mn.config.max_files_cached = max_files_cached

    def render(self, *args: Any, **kwargs: Any) -> None:
        """Render the scene, then cut it into slides (manim-slides' ``Slide.render``).

        Manim's ``Scene.render``, then manim-slides' ``_save_slides``: the steps of
        manim-slides 5.7.0's ``Slide.render`` without its settings Manim 0.22 refuses
        (``max_files_cached = inf``, see ``__init__``; ``flush_cache``, which it no longer has).
        """
        super(Slide, self).render(*args, **kwargs)  # Manim's Scene.render
        self._save_slides(
            use_cache=not (mn.config.disable_caching or self.disable_caching),
            flush_cache=self.flush_cache,
            skip_reversing=self.skip_reversing,
        )

    def next_section(self, name: str = "unnamed", *args: Any, **kwargs: Any) -> None:
        """A chapter's stop, named ``name`` (section and speaker note), one frame long at least.

        ``*args`` and ``**kwargs`` go to Manim's ``Scene.next_section`` (``section_type``,
        ``skip_animations``).
        """
        self.next_slide(name, *args, notes=chapter_note(name), **kwargs)
        # One still frame (1 / frame rate seconds): the stop is a slide even if a cue follows.
        self.wait(1 / mn.config.frame_rate)


class CirclesLecture(LectureSlides, circles.CirclesLecture):
    """The whole lecture (:class:`scenes.circles.CirclesLecture`) as slides."""
