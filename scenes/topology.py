"""Topology, the dough: ``manim render scenes/topology.py`` (the chapter ``topology`` alone)."""

from __future__ import annotations

from scenes.lecture import ChapterScene


class Topology(ChapterScene):
    """Why 2 -> 2 tanh layers cannot pull nested rings apart; det W along training."""

    chapter = "topology"
