"""Manim scenes: storyboards that replay recorded trajectories.

``lecture.py`` is the running order (chapter ids and sections); ``chapters/`` holds one
storyboard per chapter, in play order; ``stage.py`` the base scene, runs, narrator and
clean-up; ``slots.py`` the named layout places; ``facts.py`` the on-screen numbers worded
from the run's metadata; ``narration/circles.toml`` the words, one table per chapter id.
``circles.py`` is the whole lecture; ``<chapter>.py`` and ``replays.py`` standalone scenes.
Scenes import the building blocks from :mod:`geomcore.views` and the data from
:mod:`geomcore.cache`; they hold no geometry of their own. Render from the repository root
(``manim`` reads ``manim.cfg`` from the current directory), e.g.
``manim render scenes/circles.py``.
"""
