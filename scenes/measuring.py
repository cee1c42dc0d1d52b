"""Measuring the topology: ``manim render scenes/measuring.py`` (the chapter ``measure`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class Measuring(ChapterScene):
    """Winding numbers during the width-2 and width-3 replays, the unbounded region of the
    width-2 run, and the exact linear regions of the ReLU run."""

    chapter = "measure"
