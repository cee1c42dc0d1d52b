"""The flagship lecture: ``manim render scenes/circles.py`` (from the repository root).

One scene, one named section per chapter of :data:`scenes.lecture.CHAPTERS`
(``--save_sections`` writes one file each), each opening with its title card.
Missing trajectories are recorded first, with a progress bar; cached ones are replayed
without importing TensorFlow.

:func:`lecture_part` builds the same scene restricted to some of the chapters: the parallel
render (:mod:`scenes.render_parallel`) plays each chapter as such a part and joins them.
"""

from __future__ import annotations

from collections.abc import Sequence

from geomcore.errors import GeomcoreError
from scenes.lecture import CHAPTERS, Chapter, chapter, chapter_title_text
from scenes.stage import LectureRuns, LectureScene, narrator

__all__ = ["CirclesLecture", "lecture_part"]


class CirclesLecture(LectureScene):
    """How a neural network bends space: two rings, networks of width 2, 3 and 4.

    Narration from ``scenes/narration/circles.toml`` as captions and an ``.srt`` file;
    spoken too with ``GEOMCORE_VOICE=1`` and the voice extra (see the README).
    """

    #: The chapters this scene plays, in order: the whole lecture (see :func:`lecture_part`).
    chapters: tuple[Chapter, ...] = CHAPTERS

    def construct(self) -> None:
        runs = LectureRuns()
        for ch in self.chapters:
            self.next_section(ch.section)
            # The title chapter is its own card. Compared by chapter, not by position, so a
            # part that starts mid-lecture draws exactly the frames the whole lecture does.
            if ch is not CHAPTERS[0]:
                narrator(self).chapter_card(chapter_title_text(ch.section))
            ch.storyboard(self, runs)


def lecture_part(chapter_ids: Sequence[str]) -> type[CirclesLecture]:
    """A :class:`CirclesLecture` that plays only the chapters ``chapter_ids``.

    Every chapter starts on an empty stage (each storyboard ends with ``stage.clear``) and
    Manim reseeds its random generators per scene, so a part's frames are the frames the
    whole lecture shows for those chapters.

    Parameters
    ----------
    chapter_ids
        Chapter ids in play order, e.g. ``("title", "data")``.

    Returns
    -------
    type
        A subclass named ``CirclesLecture_<first id>[_<last id>]`` (Manim names the
        scene's partial movie folder after it).

    Raises
    ------
    GeomcoreError
        If ``chapter_ids`` is empty, names an unknown chapter, or is not in play order.
    """
    ids = [str(i) for i in chapter_ids]
    if not ids:
        raise GeomcoreError("a lecture part needs at least one chapter id, got none")
    chosen = tuple(chapter(i) for i in ids)
    order = [CHAPTERS.index(ch) for ch in chosen]
    if order != sorted(set(order)):
        raise GeomcoreError(f"chapters {ids} are not in the lecture's play order "
                            f"{[ch.id for ch in CHAPTERS]} (or repeat one)")
    name = "_".join(dict.fromkeys((ids[0], ids[-1])))
    return type(f"CirclesLecture_{name}", (CirclesLecture,),
                {"chapters": chosen, "__module__": __name__})
