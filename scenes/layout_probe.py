"""What a storyboard puts on screen, without rendering a pixel: text, bounding boxes, times.

:func:`probe` runs one storyboard under Manim's ``dry_run`` and, after every ``play`` and
``wait``, notes each visible text object (:class:`manim.Text` / :class:`manim.MarkupText`)
in the scene (and each per-frame ``GlyphText`` line of a readout): its string, its
bounding box in scene units and the scene time in seconds.
The layout test (``tests/test_lecture_layout.py``) checks these boxes against the frame and
each other; the chapter tests check the strings against the run's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import manim as mn
import numpy as np

__all__ = ["Sample", "TextBox", "probe", "text_boxes"]


@dataclass(frozen=True)
class TextBox:
    """One text object on screen.

    Attributes
    ----------
    text
        The text as shown (markup stripped by Pango: ``h<sub>1</sub>`` reads ``h1``).
    box
        ``(left, bottom, right, top)`` in scene units.
    """

    text: str
    box: tuple[float, float, float, float]

    @property
    def center(self) -> tuple[float, float]:
        """Centre ``(x, y)`` in scene units."""
        left, bottom, right, top = self.box
        return ((left + right) / 2, (bottom + top) / 2)

    def overlap(self, other: TextBox) -> float:
        """Area (scene units²) of the intersection of the two boxes; 0 if they are apart."""
        w = min(self.box[2], other.box[2]) - max(self.box[0], other.box[0])
        h = min(self.box[3], other.box[3]) - max(self.box[1], other.box[1])
        return max(0.0, w) * max(0.0, h)


@dataclass(frozen=True)
class Sample:
    """The text objects on screen at the end of one ``play`` or ``wait``.

    Attributes
    ----------
    time
        Scene time in seconds.
    texts
        The visible text objects, in the scene's drawing order.
    """

    time: float
    texts: tuple[TextBox, ...]


def _visible(mob: mn.Mobject) -> bool:
    # Faded-out text still sits in the scene until removed; it is not on screen.
    opacities = [float(np.max(m.get_fill_opacities(), initial=0.0))
                 for m in mob.family_members_with_points() if isinstance(m, mn.VMobject)]
    return bool(opacities) and max(opacities) > 0.05


def _is_glyph_text(mob: mn.Mobject) -> bool:
    # The views' per-frame text (readouts): one VMobject holding ``string``, set by set_text.
    return isinstance(getattr(mob, "string", None), str) and hasattr(mob, "set_text")


def text_boxes(scene: mn.Scene) -> tuple[TextBox, ...]:
    """The visible text objects of ``scene`` (every family member), with bounding boxes."""
    seen: set[int] = set()
    boxes = []
    for top in scene.mobjects:
        for mob in top.get_family():
            if id(mob) in seen or not (isinstance(mob, (mn.Text, mn.MarkupText))
                                       or _is_glyph_text(mob)):
                continue
            seen.add(id(mob))
            if not mob.has_points() and not mob.submobjects:
                continue
            if not _visible(mob):
                continue
            left, bottom = mob.get_corner(mn.DL)[:2]
            right, top_ = mob.get_corner(mn.UR)[:2]
            string = mob.string if _is_glyph_text(mob) else mob.original_text
            boxes.append(TextBox(string,
                                 (float(left), float(bottom), float(right), float(top_))))
    return tuple(boxes)


def probe(storyboard: Callable[[mn.Scene, Any], None] | None, runs: Any = None,
          base: type[mn.Scene] = mn.Scene) -> tuple[mn.Scene, list[Sample]]:
    """Run ``storyboard(scene, runs)`` under ``dry_run`` and sample its text objects.

    Parameters
    ----------
    storyboard
        A chapter: ``storyboard(scene, runs)`` plays it into ``scene``; ``None`` plays
        ``base.construct`` (a whole scene, e.g. a standalone chapter scene).
    runs
        The chapter's recorded runs (a :class:`scenes.stage.LectureRuns`).
    base
        The scene class to run in (the lecture's base scene by default in the tests).

    Returns
    -------
    (scene, samples)
        The scene after the run, and one :class:`Sample` after every ``play``/``wait``.
    """
    samples: list[Sample] = []

    class Probe(base):  # type: ignore[misc,valid-type]
        def construct(self) -> None:
            if storyboard is None:
                super().construct()
            else:
                storyboard(self, runs)

        def play(self, *args: object, **kwargs: object) -> None:
            super().play(*args, **kwargs)
            samples.append(Sample(float(self.time), text_boxes(self)))

        def wait(self, *args: object, **kwargs: object) -> None:
            super().wait(*args, **kwargs)
            samples.append(Sample(float(self.time), text_boxes(self)))

    config = {"dry_run": True, "pixel_width": 256, "pixel_height": 144, "frame_rate": 2,
              "disable_caching": True, "progress_bar": "none", "verbosity": "ERROR"}
    with mn.tempconfig(config):
        scene = Probe()
        scene.render()
    return scene, samples
