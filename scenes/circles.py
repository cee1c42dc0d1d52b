"""The flagship lecture: ``manim render scenes/circles.py`` (from the repository root).

One scene, one named section per chapter (``--save_sections`` writes one file each).
Missing trajectories are recorded first, with a progress bar; cached ones are replayed
without importing TensorFlow.
"""

from __future__ import annotations

import manim as mn

from scenes.lecture import CHAPTERS, LectureRuns


class CirclesLecture(mn.Scene):
    """How a neural network bends space: two rings, networks of width 2, 3 and 4."""

    def construct(self) -> None:
        runs = LectureRuns()
        for name, chapter in CHAPTERS:
            self.next_section(name)
            chapter(self, runs)
