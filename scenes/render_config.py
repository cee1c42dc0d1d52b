"""The lecture's Manim settings, applied whatever folder ``manim render`` runs from.

Manim reads ``manim.cfg`` from the *current* folder only, so ``manim render
path/to/scenes/circles.py`` run anywhere but the repository root used to render silently
with Manim's defaults (black background, 1080p60, caching on). :mod:`scenes` calls
:func:`use_lecture_config` when it is first imported, which every scene module does. Inside
``manim render`` it reads :data:`MANIM_CFG` and then the command line again, in Manim's own
order, lowest first:

1. Manim's library defaults, then the user's ``~/.config/manim/manim.cfg``;
2. the lecture's :data:`MANIM_CFG` (in place of any ``manim.cfg`` in the current folder);
3. a ``--config_file`` given on the command line;
4. every other command-line flag (``-ql``, ``-s``, ``--media_dir``, ...).

Paths in the file stay relative to the current folder, as Manim takes them: media go to
``./media`` of the folder ``manim`` runs in, as the recorded trajectories go to
``./data/trajectories`` there. Outside ``manim render`` (a scene built from Python, the tests)
nothing is changed: the caller owns Manim's ``config`` (``manim.config.digest_file(MANIM_CFG)``
applies the lecture's settings).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["MANIM_CFG", "use_lecture_config"]

#: The lecture's Manim settings. In a checkout it links to the repository's ``manim.cfg`` (one
#: file); the wheel ships it as package data.
MANIM_CFG = Path(__file__).resolve().parent / "manim.cfg"


def use_lecture_config() -> bool:
    """Apply :data:`MANIM_CFG` to Manim's ``config`` if this process is ``manim render``.

    Returns
    -------
    bool
        Whether the settings were applied (False outside ``manim render``).

    Raises
    ------
    SystemExit
        With one line, inside ``manim render``, if the file is missing or Manim's
        configuration could not be rebuilt (a Manim whose command line changed): the render
        stops rather than come out different.
    """
    render_module = sys.modules.get("manim.cli.render.commands")
    if render_module is None:  # manim's command line was never loaded: not `manim render`
        return False
    import click

    context = click.get_current_context(silent=True)
    if context is None or context.command is not getattr(render_module, "render", None):
        return False
    if not MANIM_CFG.is_file():
        raise SystemExit(
            f"error: the lecture's Manim settings {MANIM_CFG} are missing; reinstall geomcore "
            "or render from the repository root"
        )
    try:
        from manim import config
        from manim._config.utils import make_config_parser

        # Manim's own start-up order with our file as the folder-wide one, then the command
        # line re-read exactly as `manim render` digested it, so its flags still win.
        config.digest_parser(make_config_parser(custom_file=MANIM_CFG))
        config.digest_args(render_module.ClickArgs(dict(context.params)))
    except Exception as err:  # any failure leaves the settings unknown: stop
        raise SystemExit(
            f"error: cannot apply the lecture's Manim settings {MANIM_CFG} "
            f"({type(err).__name__}: {err}); render from the repository root, where Manim "
            "reads manim.cfg itself"
        ) from None
    return True
