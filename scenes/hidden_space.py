"""The 3-D hidden layer: ``manim render scenes/hidden_space.py`` (chapter ``space3d`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class HiddenSpace3D(ChapterScene):
    """The width-3 network's first layer over training, with the decision surface."""

    chapter = "space3d"
