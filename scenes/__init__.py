"""Manim scenes: storyboards that replay recorded trajectories.

Scenes import the building blocks from :mod:`geomcore.views` and the data from
:mod:`geomcore.cache`; they hold no geometry of their own. Render from the repository root
(``manim`` reads ``manim.cfg`` from the current directory), e.g.
``manim render scenes/circles.py``.
"""
