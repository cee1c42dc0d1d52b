"""The title chapter alone: ``manim render scenes/title.py`` (a 10-second check of a setup)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class Title(ChapterScene):
    """The lecture's title card with its narration."""

    chapter = "title"
