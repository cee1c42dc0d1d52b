"""Narration: the cue file, captions and subcaptions (.srt), and the optional offline voice."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import skip_or_fail

from geomcore.narration import Narration, NarrationError, reading_time
from scenes.stage import NARRATION_FILE

ROOT = Path(__file__).resolve().parent.parent
SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d),(\d{3}) --> (\d+):(\d\d):(\d\d),(\d{3})")


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """``(start, end, text)`` of each cue of an SubRip file, in file order."""
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        assert lines[0].strip().isdigit(), f"cue number expected, got {lines[0]!r}"
        m = SRT_TIME.fullmatch(lines[1].strip())
        assert m, f"time line expected, got {lines[1]!r}"
        g = [int(v) for v in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((start, end, " ".join(lines[2:])))
    return cues


def test_narration_file_has_every_chapter():
    narration = Narration.load(NARRATION_FILE)
    chapters = {name.split(".")[0] for name in narration.cues}
    assert chapters == {
        "title", "data", "inside", "anatomy", "topology", "line", "train2", "folding",
        "train3", "space3d", "train4", "four_d", "measure", "conclusion",
    }
    assert narration["data.rings"].startswith("Our data: two noisy rings")
    assert all("  " not in text and text == text.strip() for text in narration.cues.values())


def test_unknown_cue_names_the_file_and_the_closest_cue():
    narration = Narration.load(NARRATION_FILE)
    with pytest.raises(NarrationError, match=r"circles\.toml: no cue 'data\.ring'.*data\.rings"):
        narration["data.ring"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[data]\nrings = ""\n', "data.rings must be non-empty text"),
        ("rings = 'x'\n", r"\[rings\] must be a table"),
        ("[data\n", "not valid TOML"),
        ("[data]\nrings = 3\n", "data.rings must be non-empty text. Received: 3"),
    ],
)
def test_bad_narration_files(tmp_path, content, message):
    path = tmp_path / "n.toml"
    path.write_text(content)
    with pytest.raises(NarrationError, match=message):
        Narration.load(path)
    with pytest.raises(NarrationError, match="cannot read"):
        Narration.load(tmp_path / "missing.toml")


def test_reading_time():
    assert reading_time("ok") == 1.5
    assert reading_time("x" * 150) == pytest.approx(10.5)


def _render_title(media: Path, voice: bool) -> Path:
    script = textwrap.dedent(
        f"""
        import manim as mn
        from scenes.title import Title
        with mn.tempconfig({{"quality": "low_quality", "media_dir": {str(media)!r},
                             "disable_caching": True, "progress_bar": "none",
                             "verbosity": "ERROR", "output_file": "title"}}):
            Title().render()
        """
    )
    env = {**os.environ, "GEOMCORE_VOICE": "1" if voice else ""}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    videos = list(media.rglob("title.mp4"))
    assert len(videos) == 1
    return videos[0]


@pytest.mark.slow
def test_render_writes_srt_beside_the_video(tmp_path):
    video = _render_title(tmp_path, voice=False)
    srt = video.with_suffix(".srt")
    assert srt.is_file()
    cues = parse_srt(srt.read_text(encoding="utf-8"))
    narration = Narration.load(NARRATION_FILE)
    assert [text for _, _, text in cues] == [narration["title.intro"], narration["title.promise"]]
    with av.open(str(video)) as container:
        duration = float(container.duration / av.time_base)
        assert not container.streams.audio, "no voice: captions only"
    for start, end, text in cues:
        assert 0 <= start < end <= duration + 1e-3
        assert end - start >= reading_time(text) - 1 / 15 - 1e-3
    for (_, end0, _), (start1, _, _) in zip(cues, cues[1:]):
        assert end0 <= start1


def _voice_missing() -> str | None:
    if shutil.which("espeak-ng") is None:
        return "espeak-ng is not installed (apt-get install espeak-ng libespeak-ng-libespeak1)"
    try:
        ctypes.CDLL("libespeak.so.1")  # what pyttsx3's espeak driver loads
    except OSError:
        return "libespeak.so.1 is missing (apt-get install libespeak-ng-libespeak1)"
    for module in ("manim_voiceover", "pyttsx3"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[voice]')"
    return None


#: RMS window for speech detection, seconds (20 ms: shorter than a syllable).
RMS_WINDOW = 0.02


def speech_windows(samples: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """Start times of the RMS windows that hold speech, and the threshold used.

    The sound track is cut into :data:`RMS_WINDOW`-second windows; a window holds speech
    when its RMS exceeds 10 % of the loudest window's (espeak's silence is digital zero).
    """
    n = int(RMS_WINDOW * rate)
    count = len(samples) // n
    frames = samples[: count * n].astype(np.float64).reshape(count, n)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    threshold = 0.1 * float(rms.max())
    return np.flatnonzero(rms > threshold) * RMS_WINDOW, threshold


@pytest.mark.slow
def test_voice_speaks_each_cue_in_its_window(tmp_path):
    missing = _voice_missing()
    if missing is not None:
        skip_or_fail(missing)
    video = _render_title(tmp_path, voice=True)
    cues = parse_srt(video.with_suffix(".srt").read_text(encoding="utf-8"))
    with av.open(str(video)) as container:
        assert container.streams.audio, "the voice adds an audio stream"
        stream = container.streams.audio[0]
        rate = stream.rate
        samples = np.concatenate(
            [frame.to_ndarray().mean(axis=0) for frame in container.decode(stream)]
        )
    speech, threshold = speech_windows(samples, rate)
    assert threshold > 0 and len(speech) > 10, "the sound track holds speech"
    # Speech onset, detected in the audio, in each cue's window: the voice starts within
    # half a second of its caption and before the caption ends.
    for start, end, text in cues:
        inside = speech[(speech >= start - RMS_WINDOW) & (speech < end)]
        assert len(inside), f"no speech while {text!r} is shown ({start:.2f}-{end:.2f} s)"
        onset = float(inside[0])
        assert onset - start < 0.5, f"{text!r}: speech starts {onset - start:.2f} s late"
    # No speech outside the captions: the voice never runs ahead of, or past, its words.
    shown = np.zeros(len(speech), dtype=bool)
    for start, end, _ in cues:
        shown |= (speech >= start - RMS_WINDOW) & (speech < end + RMS_WINDOW)
    outside = speech[~shown]
    assert len(outside) == 0, f"speech without a caption at {outside[:5]} s"


@pytest.mark.slow
@pytest.mark.parametrize(("value", "ok"), [("2", False), ("y", False), ("off", True), ("", True)])
def test_voice_switch_refuses_values_it_does_not_understand(value, ok):
    env = {**os.environ, "GEOMCORE_VOICE": value}
    out = subprocess.run([sys.executable, "-c", "import scenes.lecture"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    if ok:
        assert out.returncode == 0, out.stderr[-2000:]
    else:
        assert out.returncode == 1
        assert f"GEOMCORE_VOICE={value!r} is not understood" in out.stderr
        assert "Traceback" not in out.stderr
