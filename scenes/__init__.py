"""Manim scenes: storyboards that replay recorded trajectories.

``lecture.py`` is the running order (chapter ids and sections); ``chapters/`` holds one
storyboard per chapter, in play order; ``stage.py`` the base scene, runs, narrator and
clean-up; ``slots.py`` the named layout places; ``facts.py`` the on-screen numbers worded
from the run's metadata; ``narration/circles.toml`` the words, one table per chapter id.
``circles.py`` is the whole lecture; ``<chapter>.py`` and ``replays.py`` standalone scenes.
Scenes import the building blocks from :mod:`geomcore.views` and the data from
:mod:`geomcore.cache`; they hold no geometry of their own.

Render from any folder, e.g. ``manim render scenes/circles.py`` or ``manim render
/path/to/scenes/circles.py``: importing this package inside ``manim render`` applies the
lecture's ``manim.cfg`` (:mod:`scenes.render_config`), whichever folder Manim runs in; media
go to ``./media`` of that folder.
"""

from scenes.render_config import MANIM_CFG, use_lecture_config

__all__ = ["MANIM_CFG", "use_lecture_config"]

use_lecture_config()
