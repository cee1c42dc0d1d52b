"""scenes.render_config: ``manim render`` gives the same frame from any folder (issue 10, 11).

Each render is a real ``manim render -s`` of the title chapter (a few seconds) in a child
process with this checkout first on its path; the child's log must name this checkout's
``scenes/manim.cfg``, so the test cannot pass on another installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import manim as mn
import pytest
from PIL import Image

import scenes
from scenes import render_config

ROOT = Path(__file__).resolve().parent.parent
TITLE = ROOT / "scenes" / "title.py"
MANIM = Path(sys.executable).parent / "manim"
BACKGROUND = (0x10, 0x14, 0x18)  # manim.cfg: background_color = #101418
PNG = Path("media", "images", "title", f"Title_ManimCE_v{mn.__version__}.png")


def _render(cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "500"}  # no wrapped log lines
    out = subprocess.run(
        [str(MANIM), "render", *flags, "-s", str(TITLE), "Title"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out


def _frame(path: Path) -> tuple[tuple[int, int], tuple[int, int, int]]:
    with Image.open(path) as image:
        return image.size, image.convert("RGB").getpixel((2, 2))


def test_the_package_data_settings_are_the_repository_manim_cfg():
    # One file: scenes/manim.cfg is the repository's manim.cfg (a link), shipped in the wheel.
    assert scenes.MANIM_CFG.read_bytes() == (ROOT / "manim.cfg").read_bytes()
    assert render_config.MANIM_CFG.resolve() == (ROOT / "manim.cfg").resolve()
    assert "background_color = #101418" in scenes.MANIM_CFG.read_text()


@pytest.mark.slow  # renders in a child process
def test_render_from_another_folder_uses_the_lecture_settings(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _render(elsewhere, "-ql")
    assert f"Reading config file: {ROOT / 'scenes' / 'manim.cfg'}" in out.stdout + out.stderr
    # Media land in ./media of the folder manim ran in, as documented; -ql still wins.
    assert _frame(elsewhere / PNG) == ((854, 480), BACKGROUND)


@pytest.mark.slow
def test_render_from_the_repository_root_gives_the_same_frame(tmp_path):
    _render(ROOT, "-ql", "--media_dir", str(tmp_path / "media"))
    assert _frame(tmp_path / PNG) == ((854, 480), BACKGROUND)


@pytest.mark.slow
def test_a_stray_manim_cfg_in_the_current_folder_does_not_change_the_lecture(tmp_path):
    (tmp_path / "manim.cfg").write_text(
        "[CLI]\nbackground_color = #FF0000\nquality = low_quality\nmedia_dir = ./elsewhere\n"
    )
    _render(tmp_path)
    # The lecture's own quality (medium_quality, 720p) and media folder, not the stray file's.
    assert _frame(tmp_path / PNG) == ((1280, 720), BACKGROUND)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.slow
def test_the_command_line_still_wins_over_the_lecture_settings(tmp_path):
    custom = tmp_path / "mine.cfg"
    custom.write_text("[CLI]\nbackground_color = #FF0000\n")
    _render(tmp_path, "-ql", "--config_file", str(custom))
    assert _frame(tmp_path / PNG) == ((854, 480), (255, 0, 0))


def test_the_lecture_and_geomcore_render_encode_with_one_x264_preset():
    from geomcore.render import X264_PRESET

    with mn.tempconfig({}):
        mn.config.digest_file(scenes.MANIM_CFG)
        assert mn.config.video_encoder_options == {"preset": X264_PRESET}
    assert X264_PRESET == "veryfast"


def test_outside_manim_render_nothing_changes():
    before = (mn.config.background_color, mn.config.pixel_width, mn.config.media_dir)
    assert render_config.use_lecture_config() is False
    with click.Context(click.Command("geomcore")):  # another click program: not manim's
        assert render_config.use_lecture_config() is False
    assert (mn.config.background_color, mn.config.pixel_width, mn.config.media_dir) == before


def test_missing_settings_stop_the_render_with_one_line(tmp_path, monkeypatch):
    from manim.cli.render.commands import render

    monkeypatch.setattr(render_config, "MANIM_CFG", tmp_path / "manim.cfg")
    with click.Context(render), pytest.raises(SystemExit) as info:
        render_config.use_lecture_config()
    message = str(info.value)
    assert message == (
        f"error: the lecture's Manim settings {tmp_path / 'manim.cfg'} are missing; "
        "reinstall geomcore or render from the repository root"
    )


def test_unusable_command_line_stops_the_render_with_one_line():
    from manim.cli.render.commands import render

    # tempconfig restores Manim's config, which the half-done rebuild changed.
    with mn.tempconfig({}), click.Context(render) as context, pytest.raises(SystemExit) as info:
        context.params = {}  # not what manim render parsed: no FILE argument
        render_config.use_lecture_config()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("error: cannot apply the lecture's Manim settings ")
    assert "AttributeError" in message and "render from the repository root" in message
