"""Anatomy of a layer: ``manim render scenes/anatomy.py`` (the chapter ``anatomy`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class LayerAnatomy(ChapterScene):
    """Linear map, bias and tanh of a trained layer, early and late; 2 -> 3 and 3 -> 2."""

    chapter = "anatomy"
