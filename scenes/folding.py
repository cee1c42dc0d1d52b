"""Folding: ``manim render scenes/folding.py`` (the chapter ``folding`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class Folding(ChapterScene):
    """Fold curves (Jacobian determinant zero set) of a 3 -> 2 layer and of ReLU."""

    chapter = "folding"
