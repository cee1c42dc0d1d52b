"""scenes.render_parallel with the voice: the joined soundtrack is the serial render's."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from helpers import ROOT
from test_narration import _voice_missing
from test_parallel_render import SMALL, frames_of

from scenes.render_parallel import RenderSettings, render_lecture


def envelope(path: Path, window_s: float = 0.05) -> tuple[np.ndarray, float]:
    """RMS loudness of the movie's soundtrack per ``window_s`` seconds, shape (windows,);
    and the soundtrack's length in seconds."""
    with av.open(str(path)) as container:
        assert container.streams.audio, f"{path} has no soundtrack"
        rate = container.streams.audio[0].rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0)
                                  for f in container.decode(audio=0)]).astype(np.float64)
    step = int(rate * window_s)
    n = len(samples) // step
    rms = np.sqrt((samples[: n * step].reshape(n, step) ** 2).mean(axis=1))
    return rms, len(samples) / rate


@pytest.mark.slow
@pytest.mark.skipif(_voice_missing() is not None, reason=str(_voice_missing()))
def test_parallel_voice_equals_the_serial_one(cached_lecture, tmp_path, monkeypatch):
    """Two spoken chapters on 2 workers: same frames as serial, same speech at the same time."""
    from test_parallel_render import render_serial

    monkeypatch.setenv("GEOMCORE_VOICE", "1")
    monkeypatch.chdir(ROOT)
    media = tmp_path / "media"
    serial = render_serial("title,data", media / "serial", voice=True)
    voiced = RenderSettings(SMALL.pixel_width, SMALL.pixel_height, SMALL.frame_rate,
                            max_inflight_encoders=2, voice=True)
    movie = render_lecture(voiced, chapters=["title", "data"], media_dir=media, n_workers=2)
    expected, joined = frames_of(serial), frames_of(movie)
    assert len(joined) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(expected, joined))
    loud_serial, seconds_serial = envelope(serial)
    loud_joined, seconds_joined = envelope(movie)
    # Manim's soundtrack ends with the last speech; the joined one lasts as long as the video.
    assert seconds_joined == pytest.approx(len(joined) / SMALL.frame_rate, abs=0.1)
    assert seconds_serial <= seconds_joined + 0.05
    n = min(len(loud_serial), len(loud_joined))
    assert loud_serial[:n].max() > 0.01  # there is speech
    # The same speech at the same moments: loudness per 50 ms agrees (AAC is lossy).
    assert np.corrcoef(loud_serial[:n], loud_joined[:n])[0, 1] > 0.99
    assert os.environ["GEOMCORE_VOICE"] == "1"
