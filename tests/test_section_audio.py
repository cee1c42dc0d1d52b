"""With the voice on, every ``--save_sections`` file carries its own speech (fault 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from test_narration import _voice_missing, parse_srt

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import manim as mn
    from geomcore.narration import Narration
    from geomcore.views import Narrator
    from scenes.stage import LectureScene

    class TwoSections(LectureScene):
        def construct(self):
            narrator = Narrator(self, Narration({
                "a.one": "The first section speaks.",
                "b.two": "And the second section speaks too, a little longer.",
            }))
            self.next_section("first")
            with narrator.say("a.one"):
                self.play(mn.FadeIn(mn.Square()), run_time=0.5)
            self.wait(0.4)  # silence at the end of the first section
            self.next_section("second")
            with narrator.say("b.two"):
                self.play(mn.FadeIn(mn.Circle()), run_time=0.5)

    with mn.tempconfig({"quality": "low_quality", "media_dir": MEDIA, "save_sections": True,
                         "disable_caching": True, "progress_bar": "none",
                         "verbosity": "ERROR", "output_file": "two"}):
        TwoSections().render()
    """
)


def _audio(path: Path) -> tuple[np.ndarray, int, float]:
    """Mono samples, sample rate, and the video stream's duration in seconds."""
    with av.open(str(path)) as container:
        assert container.streams.audio, f"{path.name} has no audio stream"
        video = container.streams.video[0]
        seconds = float(video.frames / video.average_rate)
        stream = container.streams.audio[0]
        rate = stream.rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(stream)])
    return samples.astype(np.float64), rate, seconds


@pytest.mark.slow
@pytest.mark.skipif(_voice_missing() is not None, reason=str(_voice_missing()))
def test_each_section_file_has_its_own_speech(tmp_path):
    script = SCRIPT.replace("MEDIA", repr(str(tmp_path)))
    env = {**os.environ, "GEOMCORE_VOICE": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    index = json.loads(next(tmp_path.rglob("two.json")).read_text())
    assert [s["name"] for s in index] == ["first", "second"]
    files = [next(tmp_path.rglob(s["video"])) for s in index]
    cues = parse_srt(next(tmp_path.rglob("two.srt")).read_text(encoding="utf-8"))
    assert len(cues) == 2
    offset = 0.0
    for path, (start, end, _text) in zip(files, cues):
        samples, rate, seconds = _audio(path)
        # The speech lasts as long as the section, within an audio frame or two.
        assert abs(len(samples) / rate - seconds) < 0.1, (path.name, len(samples) / rate, seconds)
        peak = max(1e-9, float(np.abs(samples).max()))
        window = samples[int((start - offset) * rate): int((min(end, start + 1.0) - offset) * rate)]
        rms = float(np.sqrt(np.mean(window ** 2)))
        assert rms > 1e-3 and rms > 0.02 * peak, (path.name, rms, peak)
        offset += seconds
    # The first section ends in 0.4 s of silence: it is its own speech, not the second's.
    samples, rate, _ = _audio(files[0])
    tail = samples[-int(0.3 * rate):]
    assert float(np.sqrt(np.mean(tail ** 2))) < 1e-3
