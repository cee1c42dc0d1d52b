"""The 3-D hidden layer: ``manim render scenes/hidden_space.py`` (chapter 5d alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class HiddenSpace3D(ChapterScene):
    """The width-3 network's first layer over training, with the decision surface."""

    chapter = "05d Inside the 3-wide layer"
