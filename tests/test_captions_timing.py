"""Each caption stays on screen for at least its reading time, in whole frames (fault 9)."""

from __future__ import annotations

import manim as mn
import pytest

from geomcore.narration import Narration, reading_time
from geomcore.views import Narrator

#: Cues whose reading times fall between frames at 15, 30 and 60 fps.
TEXTS = [
    "Short.",
    "A cue of thirty-one characters.",
    "A somewhat longer cue, whose reading time is not a whole number of frames.",
    "x" * 47,
]


class _Timed(mn.Scene):
    def construct(self) -> None:
        narrator = Narrator(self, Narration({f"c.{i}": t for i, t in enumerate(TEXTS)}))
        dot = mn.Dot()
        for i in range(len(TEXTS)):
            with narrator.say(f"c.{i}"):
                # An animation inside the block, then a still remainder (Manim rounds a
                # still wait down to whole frames); the last cue has only the wait.
                if i < len(TEXTS) - 1:
                    self.play(dot.animate.shift(0.1 * mn.RIGHT), run_time=0.37 + 0.1 * i)
            self.play(dot.animate.shift(0.1 * mn.LEFT), run_time=0.2)  # gap between cues


@pytest.mark.parametrize("fps", [15, 30, 60])
def test_every_cue_is_shown_for_at_least_its_reading_time(fps):
    config = {"pixel_width": 32, "pixel_height": 18, "frame_rate": fps, "write_to_movie": False,
              "disable_caching": True, "progress_bar": "none", "verbosity": "ERROR"}
    with mn.tempconfig(config):
        scene = _Timed()
        flags: list[bool] = []
        add_frame = scene.renderer.add_frame

        def counting(frame, num_frames=1):
            # The narrator's band is the scene's only foreground mobject while a cue is up.
            flags.extend([bool(scene.foreground_mobjects)] * num_frames)
            add_frame(frame, num_frames)

        scene.renderer.add_frame = counting
        scene.render()
    runs, count = [], 0
    for shown in [*flags, False]:
        if shown:
            count += 1
        elif count:
            runs.append(count)
            count = 0
    assert len(runs) == len(TEXTS)
    for frames, text in zip(runs, TEXTS):
        assert frames / fps >= reading_time(text) - 1e-9, (fps, text, frames)
        # Rounded up, not padded: at most one frame more than needed.
        assert frames / fps < reading_time(text) + 1 / fps + 1e-9, (fps, text, frames)
