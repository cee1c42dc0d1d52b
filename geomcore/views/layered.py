"""Static/dynamic layering: draw what does not move once, redraw the rest every frame.

What lives here: :class:`Layered`, the base of every building block that follows a
``ValueTracker``, and :func:`add_layered`, which puts blocks in a scene layer by layer.

What it may import: Manim only.
"""

from __future__ import annotations

from collections.abc import Callable

import manim as mn

__all__ = [
    "Layered",
    "add_layered",
]


class Layered(mn.Group):
    """A block split into a ``static`` and a ``dynamic`` layer.

    Manim's Cairo renderer draws mobjects that do not move into a cached background once
    per animation, but only those that come before the first mobject with an updater in
    the scene's list. A block whose updater sits on its ``dynamic`` layer alone can be put
    in a scene as ``scene.add(*block.layers())`` so its frames, titles and labels are
    drawn once instead of every frame (see :func:`add_layered`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.static = mn.Group()
        self.dynamic = mn.Group()
        self.add(self.static, self.dynamic)

    def layers(self) -> tuple[mn.Group, mn.Group]:
        """``(static, dynamic)``: add them to a scene in this order."""
        return self.static, self.dynamic

    def follow(self, tracker: mn.ValueTracker, show: Callable[[float], object]) -> None:
        """Redraw with ``show(tracker value)`` on every frame (an updater on ``dynamic``)."""
        self.dynamic.add_updater(lambda _m: show(tracker.get_value()))


def add_layered(scene: mn.Scene, *blocks: Layered) -> None:
    """Put blocks in ``scene`` static layers first, so only dynamic layers are redrawn.

    A block already in the scene (e.g. after ``FadeIn(block)``) is replaced by its layers.
    """
    scene.remove(*blocks)
    statics = [b.static for b in blocks]
    dynamics = [b.dynamic for b in blocks]
    scene.add(*statics, *dynamics)
