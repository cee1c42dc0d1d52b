"""Four dimensions: ``manim render scenes/four_d.py`` (the chapter ``four_d`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class FourDimensions(ChapterScene):
    """The width-4 layer through its 3 principal components, and what that hides."""

    chapter = "four_d"
