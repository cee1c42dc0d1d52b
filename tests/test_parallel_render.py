"""scenes.render_parallel: parts checked before the join, joined losslessly, cues shifted.

The fast tests build small H.264 parts with PyAV (no Manim render); the slow ones render the
lecture's first chapters at a tiny size, serially and on a local Dask cluster of 2 workers,
and compare the decoded frames and the .srt cue times.
"""

from __future__ import annotations

import datetime
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
import srt
from helpers import ROOT, VERYFAST, x264_options

from geomcore.errors import GeomcoreError
from scenes.circles import CirclesLecture, lecture_part
from scenes.lecture import CHAPTERS
from scenes.render_parallel import (
    LecturePart,
    RenderSettings,
    contiguous_parts,
    estimated_seconds,
    join_parts,
    render_lecture,
    verify_part,
)

#: Tiny parts for the fast tests: 64x36 pixels, 10 frames/s.
TINY = RenderSettings(pixel_width=64, pixel_height=36, frame_rate=10)
#: The slow renders' size: small enough for seconds, large enough to show every shape.
SMALL = RenderSettings(pixel_width=192, pixel_height=108, frame_rate=10)



def frames_of(path: Path) -> list[np.ndarray]:
    """Every decoded frame of a movie, as RGB arrays of shape (height, width, 3)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def make_part(folder: Path, levels: list[int], cues=(), audio_ms: int | None = None,
              settings: RenderSettings = TINY) -> LecturePart:
    """A part of ``len(levels)`` frames, frame i filled with grey ``levels[i]``, encoded as
    Manim encodes (libx264, yuv420p), with its manifest; optionally a 440 Hz tone of
    ``audio_ms`` milliseconds as its soundtrack."""
    folder.mkdir(parents=True)
    video = folder / "CirclesLecture.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=settings.frame_rate)
        stream.width, stream.height = settings.pixel_width, settings.pixel_height
        stream.pix_fmt = "yuv420p"
        for level in levels:
            rgb = np.full((settings.pixel_height, settings.pixel_width, 3), level, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    sound = None
    if audio_ms is not None:
        from pydub.generators import Sine

        sound = folder / "CirclesLecture.wav"
        Sine(440).to_audio_segment(duration=audio_ms, volume=-6).export(str(sound), "wav").close()
    part = LecturePart(("x",), len(levels), settings, video, tuple(cues), sound)
    manifest = folder / "CirclesLecture.json"
    manifest.write_text(part.to_json(), encoding="utf-8")
    return LecturePart.load(manifest)


# --- settings and parts of the lecture -------------------------------------------------------


def test_settings_reject_bad_values():
    with pytest.raises(GeomcoreError, match="frame_rate must be a positive integer"):
        RenderSettings(frame_rate=0)
    with pytest.raises(GeomcoreError, match="even"):
        RenderSettings(pixel_width=101)
    with pytest.raises(GeomcoreError, match="unknown quality 'x'"):
        RenderSettings.from_quality("x")
    assert RenderSettings.from_quality("h").quality_dir == "1080p60"
    assert RenderSettings().quality_dir == "720p30"  # manim.cfg's medium_quality


def test_lecture_part_plays_the_chosen_chapters_in_order():
    part = lecture_part(["title", "data"])
    assert issubclass(part, CirclesLecture)
    assert [ch.id for ch in part.chapters] == ["title", "data"]
    assert part.__name__ == "CirclesLecture_title_data"
    assert lecture_part(["measure"]).__name__ == "CirclesLecture_measure"
    assert CirclesLecture.chapters == CHAPTERS
    with pytest.raises(GeomcoreError, match="unknown chapter 'nope'"):
        lecture_part(["nope"])
    with pytest.raises(GeomcoreError, match="play order"):
        lecture_part(["data", "title"])
    with pytest.raises(GeomcoreError, match="at least one"):
        lecture_part([])


# --- checking parts ------------------------------------------------------------------------


def test_verify_part_accepts_a_whole_part(tmp_path):
    part = make_part(tmp_path / "a", [10, 20, 30, 40])
    assert verify_part(part.manifest, TINY).frames == 4


def test_verify_part_rejects_a_truncated_movie(tmp_path):
    part = make_part(tmp_path / "a", list(range(0, 250, 10)))
    data = part.video.read_bytes()
    part.video.write_bytes(data[: len(data) // 2])  # the worker died while writing
    with pytest.raises(GeomcoreError, match="cannot be decoded|truncated"):
        verify_part(part, TINY)


def test_verify_part_rejects_fewer_frames_than_rendered(tmp_path):
    short = make_part(tmp_path / "a", [10, 20, 30])
    claimed = LecturePart(short.chapters, 5, TINY, short.video)
    with pytest.raises(GeomcoreError, match="holds 3 frames, expected 5: truncated"):
        verify_part(claimed, TINY)


def test_verify_part_rejects_a_missing_manifest_or_movie(tmp_path):
    part = make_part(tmp_path / "a", [10, 20])
    part.video.unlink()
    with pytest.raises(GeomcoreError, match="the movie is missing"):
        verify_part(part.manifest, TINY)
    with pytest.raises(GeomcoreError, match="is missing: its render did not finish"):
        verify_part(tmp_path / "b" / "CirclesLecture.json", TINY)


def test_verify_part_rejects_other_settings(tmp_path):
    part = make_part(tmp_path / "a", [10, 20])
    with pytest.raises(GeomcoreError, match="was rendered with"):
        verify_part(part, RenderSettings(pixel_width=64, pixel_height=36, frame_rate=15))


# --- joining ---------------------------------------------------------------------------------


def test_join_copies_every_frame_and_shifts_the_cues(tmp_path):
    first = make_part(tmp_path / "a", [30, 60, 90], cues=[(0.0, 0.2, "one")])
    second = make_part(tmp_path / "b", [120, 150, 180, 210],
                       cues=[(0.1, 0.3, "two"), (0.3, 0.4, "three")])
    movie = join_parts([first, second], tmp_path / "out" / "CirclesLecture.mp4")
    joined = frames_of(movie)
    expected = frames_of(first.video) + frames_of(second.video)
    assert len(joined) == 7
    assert all(np.array_equal(a, b) for a, b in zip(joined, expected))  # packets copied
    assert [int(f.mean()) for f in joined] == pytest.approx([30, 60, 90, 120, 150, 180, 210],
                                                           abs=3)
    cues = list(srt.parse(movie.with_suffix(".srt").read_text(encoding="utf-8")))
    ms = datetime.timedelta(milliseconds=1)
    # The second part starts after the first's 3 frames: 0.3 s.
    assert [(c.start / ms, c.end / ms, c.content) for c in cues] == [
        (0, 200, "one"), (400, 600, "two"), (600, 700, "three")]
    assert [c.index for c in cues] == [1, 2, 3]


def test_join_lays_each_parts_sound_at_its_start(tmp_path):
    quiet = make_part(tmp_path / "a", [40] * 10)  # 1 s without sound
    tone = make_part(tmp_path / "b", [80] * 5, audio_ms=500)  # 0.5 s with a tone
    movie = join_parts([quiet, tone], tmp_path / "CirclesLecture.mp4")
    with av.open(str(movie)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        rate = container.streams.audio[0].rate
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in
                                  container.decode(audio=0)])
    loud = np.flatnonzero(np.abs(samples) > 0.1)
    # The tone starts at 1.0 s and lasts 0.5 s (AAC's frame of 1024 samples: 23 ms slack).
    assert loud[0] / rate == pytest.approx(1.0, abs=0.03)
    assert loud[-1] / rate == pytest.approx(1.5, abs=0.03)
    assert len(frames_of(movie)) == 15


def test_join_refuses_nothing(tmp_path):
    with pytest.raises(GeomcoreError, match="nothing to join"):
        join_parts([], tmp_path / "x.mp4")


# --- the lecture itself, serial against parallel --------------------------------------------


def render_serial(chapters: str, folder: Path, voice: bool = False) -> Path:
    """The chapters as one scene in one process, as ``manim render scenes/circles.py``
    plays them (:func:`scenes.circles.lecture_part`); its movie."""
    command = [sys.executable, "-m", "scenes.render_parallel", "--part-dir", str(folder),
               "--chapters", chapters, "--fps", str(SMALL.frame_rate), "--size",
               f"{SMALL.pixel_width}x{SMALL.pixel_height}", "--max-inflight-encoders", "1"]
    env = dict(os.environ, GEOMCORE_VOICE="1" if voice else "0",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    return folder / "CirclesLecture.mp4"


@pytest.mark.slow
def test_parallel_render_equals_the_serial_one(cached_lecture, tmp_path, monkeypatch):
    """Two chapters on a local cluster of 2 workers: every frame and cue time as serial."""
    serial = render_serial("title,data", tmp_path / "serial")
    monkeypatch.chdir(ROOT)  # where manim.cfg and the scenes are
    settings = RenderSettings(SMALL.pixel_width, SMALL.pixel_height, SMALL.frame_rate,
                              max_inflight_encoders=2)
    movie = render_lecture(settings, chapters=["title", "data"], media_dir=tmp_path / "media",
                           n_workers=2)
    assert movie == (tmp_path / "media" / "videos" / "circles" / "108p10" /
                     "CirclesLecture.mp4")
    assert not (movie.parent / "parts").exists()  # parts removed after the join
    expected, joined = frames_of(serial), frames_of(movie)
    assert len(joined) == len(expected) > 100
    options = x264_options(movie)  # manim.cfg's x264 preset reaches every part
    assert {k: options[k] for k in VERYFAST} == VERYFAST
    differing = [i for i, (a, b) in enumerate(zip(expected, joined)) if not np.array_equal(a, b)]
    assert differing == []
    assert (movie.with_suffix(".srt").read_text(encoding="utf-8")
            == serial.with_suffix(".srt").read_text(encoding="utf-8"))
    assert len(list(srt.parse(movie.with_suffix(".srt").read_text(encoding="utf-8")))) == 4


@pytest.mark.slow
def test_a_worker_killed_mid_chapter_has_its_chapter_redone(tmp_path, monkeypatch):
    """The worker rendering the title chapter is killed once it has begun writing partial
    movie files: Dask hands the chapter to a fresh worker, and only a whole part is joined."""
    import psutil

    monkeypatch.chdir(ROOT)
    media = tmp_path / "media"
    parts = media / "videos" / "circles" / "108p10" / "parts"
    killed: list[Path] = []

    def kill_first_attempt() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for proc in psutil.process_iter(["cmdline"]):
                cmd = proc.info["cmdline"] or []
                if "--part-dir" not in cmd or not cmd[cmd.index("--part-dir") + 1].startswith(
                        str(parts)):
                    continue
                folder = Path(cmd[cmd.index("--part-dir") + 1])
                partials = folder / "partial_movie_files"
                if partials.is_dir() and any(partials.rglob("*.mp4")):
                    os.kill(proc.ppid(), signal.SIGKILL)  # the Dask worker this test started
                    killed.append(folder)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_attempt, daemon=True)
    killer.start()
    movie = render_lecture(SMALL, chapters=["title"], media_dir=media, n_workers=2,
                           keep_parts=True)
    killer.join(timeout=5)
    assert len(killed) == 1
    assert not (killed[0] / "CirclesLecture.json").exists()  # it died mid-chapter
    attempts = sorted(p for p in parts.iterdir() if (p / "CirclesLecture.json").exists())
    assert len(attempts) == 1 and attempts[0] != killed[0]
    part = LecturePart.load(attempts[0] / "CirclesLecture.json")
    joined = frames_of(movie)
    assert len(joined) == part.frames > 50
    assert all(np.array_equal(a, b) for a, b in zip(joined, frames_of(part.video)))


def test_command_line_rejects_bad_input_in_one_line(capsys, monkeypatch):
    from scenes.render_parallel import main

    assert main(["--chapters", "title,nope"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown chapter 'nope'") and "\n" not in err
    assert main(["--size", "100x51", "--chapters", "title"]) == 1
    assert "frame size must be even" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--size", "big"])
    assert "expected WIDTHxHEIGHT, got 'big'" in capsys.readouterr().err
    # Refused before the conclusion's sweep is recorded or a cluster starts.
    recorded = []
    monkeypatch.setattr("scenes.stage.LectureRuns.seed_sweep",
                        lambda self: recorded.append(1))
    assert main(["--workers", "0"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: --workers must be a positive number of local worker processes; received 0")
    with pytest.raises(GeomcoreError, match="n_workers must be a positive integer, got 0"):
        render_lecture(chapters=["conclusion"], n_workers=0)
    assert recorded == []


def test_frame_rate_is_the_streams_own_not_the_average_over_its_duration(monkeypatch):
    # A 375-frame conclusion part at 15 fps came back from the mp4 muxer with the average
    # 1152000/76799 frames/s (its last frame's duration is short); the part is sound.
    from fractions import Fraction
    from types import SimpleNamespace

    import av

    from scenes.render_parallel import _stream_frames

    ctx = SimpleNamespace(width=854, height=480, name="h264", pix_fmt="yuv420p")
    stream = SimpleNamespace(codec_context=ctx, base_rate=Fraction(15),
                             guessed_rate=Fraction(15), average_rate=Fraction(1152000, 76799))

    class Container:
        streams = SimpleNamespace(video=[stream])

        def demux(self, _stream):
            return [SimpleNamespace(size=100)] * 375

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(av, "open", lambda _path: Container())
    assert _stream_frames(Path("part.mp4")) == (375, 854, 480, Fraction(15), "h264", "yuv420p")


def _lightest_heaviest(weights: list[float], parts: int) -> float:
    """The best possible heaviest run, by trying every way to cut (brute force)."""
    n = len(weights)
    best = float("inf")
    for cuts in itertools.combinations(range(1, n), parts - 1):
        bounds = (0, *cuts, n)
        best = min(best, max(sum(weights[a:b]) for a, b in zip(bounds, bounds[1:])))
    return best


@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_contiguous_parts_cut_the_lecture_into_the_most_even_runs(parts):
    rng = np.random.default_rng(parts)
    for weights in ([12, 13, 21, 39, 24, 20, 21, 16, 14, 19, 18, 14, 48, 23],
                    list(rng.uniform(0.0, 50.0, 11))):
        ranges = contiguous_parts(weights, parts)
        assert len(ranges) == parts
        assert [i for r in ranges for i in r] == list(range(len(weights)))
        heaviest = max(sum(weights[i] for i in r) for r in ranges)
        assert heaviest == pytest.approx(_lightest_heaviest(list(weights), parts))


def test_contiguous_parts_at_the_edges():
    assert contiguous_parts([5.0, 1.0, 2.0], 7) == [range(0, 1), range(1, 2), range(2, 3)]
    assert contiguous_parts([], 2) == []
    # The lecture's chapters on two workers: the cut falls after "train2" (150 s | 152 s).
    ids = [c.id for c in CHAPTERS]
    first, second = contiguous_parts([estimated_seconds(i) for i in ids], 2)
    assert ids[first[-1]] == "train2" and ids[second[0]] == "folding"
    with pytest.raises(ValueError, match="expected parts >= 1 and weights >= 0"):
        contiguous_parts([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="expected parts >= 1"):
        contiguous_parts([1.0], 0)
