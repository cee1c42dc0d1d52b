"""The flagship lecture: ``manim render scenes/circles.py`` (from the repository root).

One scene, one named section per chapter of :data:`scenes.lecture.CHAPTERS`
(``--save_sections`` writes one file each), each opening with its title card.
Missing trajectories are recorded first, with a progress bar; cached ones are replayed
without importing TensorFlow.
"""

from __future__ import annotations

from scenes.lecture import CHAPTERS, chapter_title_text
from scenes.stage import LectureRuns, LectureScene, narrator


class CirclesLecture(LectureScene):
    """How a neural network bends space: two rings, networks of width 2, 3 and 4.

    Narration from ``scenes/narration/circles.toml`` as captions and an ``.srt`` file;
    spoken too with ``GEOMCORE_VOICE=1`` and the voice extra (see the README).
    """

    def construct(self) -> None:
        runs = LectureRuns()
        for index, ch in enumerate(CHAPTERS):
            self.next_section(ch.section)
            if index:  # the title chapter is its own card
                narrator(self).chapter_card(chapter_title_text(ch.section))
            ch.storyboard(self, runs)
