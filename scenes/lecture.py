"""The running order of the circles lecture: chapter ids, section names, storyboards.

Each chapter has a stable id: the same id names its table in ``narration/circles.toml``, its
module in :mod:`scenes.chapters` (``cNN_<id>.py``, NN its place in the play order) and the
standalone scene that plays it alone (``ChapterScene.chapter = "<id>"``).
``scenes/circles.py`` plays them in order as one scene with a section per chapter.
The base scene, the runs and the narrator are in :mod:`scenes.stage`; layout slots in
:mod:`scenes.slots`; every number on screen is worded by :mod:`scenes.facts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import manim as mn

from geomcore.errors import GeomcoreError
from scenes import stage
from scenes.chapters import (
    c01_title,
    c02_data,
    c03_inside,
    c04_anatomy,
    c05_topology,
    c06_line,
    c07_train2,
    c08_folding,
    c09_train3,
    c10_space3d,
    c11_train4,
    c12_four_d,
    c13_measure,
    c14_conclusion,
)

__all__ = ["CHAPTERS", "Chapter", "ChapterScene", "chapter", "chapter_title_text"]


@dataclass(frozen=True)
class Chapter:
    """One chapter of the lecture.

    Attributes
    ----------
    id
        Stable name: narration table, chapter module and standalone scene use it.
    section
        The video section's name, e.g. ``"03b Anatomy of a layer"``.
    storyboard
        ``storyboard(scene, runs)`` plays the chapter.
    """

    id: str
    section: str
    storyboard: Callable[[mn.Scene, stage.LectureRuns], None]


#: The lecture in play order.
CHAPTERS = (
    Chapter("title", "01 Title", c01_title.storyboard),
    Chapter("data", "02 The data", c02_data.storyboard),
    Chapter("inside", "03 Looking inside a layer", c03_inside.storyboard),
    Chapter("anatomy", "03b Anatomy of a layer", c04_anatomy.storyboard),
    Chapter("topology", "03c Topology", c05_topology.storyboard),
    Chapter("line", "04 The decision line", c06_line.storyboard),
    Chapter("train2", "05a Training, width 2", c07_train2.storyboard),
    Chapter("folding", "05b Folding", c08_folding.storyboard),
    Chapter("train3", "05c Training, width 3", c09_train3.storyboard),
    Chapter("space3d", "05d Inside the 3-wide layer", c10_space3d.storyboard),
    Chapter("train4", "05e Training, width 4", c11_train4.storyboard),
    Chapter("four_d", "05f Four dimensions", c12_four_d.storyboard),
    Chapter("measure", "05g Measuring the topology", c13_measure.storyboard),
    Chapter("conclusion", "06 Conclusion", c14_conclusion.storyboard),
)


def chapter(chapter_id: str) -> Chapter:
    """The chapter with id ``chapter_id``.

    Raises
    ------
    GeomcoreError
        If no chapter has that id.
    """
    for ch in CHAPTERS:
        if ch.id == chapter_id:
            return ch
    raise GeomcoreError(f"unknown chapter {chapter_id!r}; expected one of "
                        f"{[ch.id for ch in CHAPTERS]}")


def chapter_title_text(section: str) -> str:
    """``"03b Anatomy of a layer"`` -> ``"3b · Anatomy of a layer"``."""
    number, _, title = section.partition(" ")
    return f"{number.lstrip('0')} · {title}"


class ChapterScene(stage.LectureScene):
    """Base of single-chapter scenes: subclasses name a chapter id in :attr:`chapter`."""

    chapter = "title"

    def construct(self) -> None:
        ch = chapter(self.chapter)
        if ch is not CHAPTERS[0]:  # the title chapter is its own card
            stage.narrator(self).chapter_card(chapter_title_text(ch.section))
        ch.storyboard(self, stage.LectureRuns())
