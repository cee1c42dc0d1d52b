"""Captions show user text literally (issue 10, fault 1): on screen, in the .srt, everywhere.

Markup (sub/superscripts) is only ever parsed through the explicit ``caption_markup`` path.
"""

from __future__ import annotations

import manim as mn
import pytest

from geomcore.narration import Narration
from geomcore.replay import Replay
from geomcore.views import (
    Narrator,
    ReplayPanel,
    caption,
    caption_markup,
    class_legend,
    markup_escape,
)

#: Characters Pango markup would parse, quotes, and non-ASCII text.
LITERALS = [
    "Loss & accuracy, on one clock.",
    "p < 0.5 on the inner ring, p > 0.5 on the outer",
    "<b>x</b> is not bold",
    "it's \"quoted\" & 'single'",
    "é, σ, → and ∞",
    "a&amp;b stays a&amp;b",
    "runs/circles<1>.csv",
]


def _glyphs(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


@pytest.mark.parametrize("text", LITERALS)
def test_caption_shows_the_text_as_written(text):
    mob = caption(text)
    assert mob.original_text == text
    # One outline per visible character: "&amp;" drawn as "&" would be 4 fewer.
    assert len(mob.submobjects) == _glyphs(text)


def test_caption_markup_parses_markup_and_escape_makes_user_text_literal():
    sub = caption_markup("h<sub>1</sub>")
    assert len(sub.submobjects) == 2  # "h" and a subscript "1"
    assert sub.submobjects[1].height < sub.submobjects[0].height
    mixed = caption_markup(f"{markup_escape('a<b & c')}<sub>1</sub>")
    assert len(mixed.submobjects) == _glyphs("a<b&c1")
    with pytest.raises(ValueError):
        caption_markup("Loss & accuracy")  # bare '&' is bad markup: only here, on purpose


def test_legend_and_panel_titles_are_literal(tiny_run):
    legend = class_legend({0: "inner <ring> & co", 1: "outer → σ"})
    assert [row[1].original_text for row in legend] == ["outer → σ", "inner <ring> & co"]
    panel = ReplayPanel(Replay(tiny_run.trajectory), title="R&D <run> \"2\"")
    assert panel.hidden.title.original_text == "R&D <run> \"2\""


class _CueScene(mn.Scene):
    texts: list[str] = []

    def construct(self) -> None:
        narrator = Narrator(self, Narration({f"c.{i}": t for i, t in enumerate(self.texts)}))
        self.bands = []
        for i in range(len(self.texts)):
            with narrator.say(f"c.{i}"):
                self.bands.append(self.foreground_mobjects[-1])
                self.wait(0.2)


def test_narration_cues_are_literal_on_screen_and_in_the_srt(tmp_path):
    _CueScene.texts = LITERALS[:5]
    config = {"media_dir": str(tmp_path), "pixel_width": 128, "pixel_height": 72,
              "frame_rate": 10, "disable_caching": True, "progress_bar": "none",
              "verbosity": "ERROR", "output_file": "cues"}
    with mn.tempconfig(config):
        scene = _CueScene()
        scene.render()
    shown = [band[1].original_text for band in scene.bands]
    assert shown == LITERALS[:5]
    srt = next(tmp_path.rglob("cues.srt")).read_text(encoding="utf-8")
    for text in LITERALS[:5]:
        assert text in srt
    assert "&amp;" not in srt and "&lt;" not in srt
