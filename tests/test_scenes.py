"""The lecture scene: construction, chapters, no TensorFlow or LaTeX at render, a real render."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import av
import manim as mn
import pytest
from helpers import REPORT_IMPORT, assert_imported_checkout, child_env

from geomcore.experiment import find_experiment
from geomcore.narration import Narration, reading_time
from scenes.circles import CirclesLecture
from scenes.lecture import CHAPTERS, ChapterScene
from scenes.stage import NARRATION_FILE

ROOT = Path(__file__).resolve().parent.parent
TINY_CONFIG = {
    "dry_run": True,
    "pixel_width": 256,
    "pixel_height": 144,
    "frame_rate": 2,
    "disable_caching": True,
    "progress_bar": "none",
    "verbosity": "ERROR",
}


def test_circles_module_holds_exactly_one_scene():
    import scenes.circles as module

    found = [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, mn.Scene) and obj.__module__ == module.__name__
    ]
    assert found == [CirclesLecture]


class _Recording(CirclesLecture):
    """The lecture, noting the sections it opens."""

    def next_section(self, name: str = "unnamed", *args: object, **kwargs: object) -> None:
        self.section_names = [*getattr(self, "section_names", []), name]
        super().next_section(name, *args, **kwargs)


@pytest.mark.slow
def test_lecture_constructs_every_chapter_as_a_section_and_says_every_cue_once(cached_lecture):
    # One construction of the whole lecture (a minute of CPU) serves both checks.
    config = {**TINY_CONFIG, "frame_rate": 4}
    with mn.tempconfig(config):
        scene = _Recording()
        scene.render()
        duration = scene.time
    assert scene.section_names == [ch.section for ch in CHAPTERS]
    # title, data, inside a layer, anatomy, topology, line, 3 replays, folding, 3-D, 4-D,
    # measuring the topology, end
    assert len(CHAPTERS) == 14
    assert 200 < duration < 480, "a lecture of four to eight minutes"
    # Every cue of the narration is said once, for at least its reading time (to a frame),
    # in order and never two at once.
    narration = Narration.load(NARRATION_FILE)
    shown = scene.narrator.cues_shown
    assert sorted(c for c, _, _ in shown) == sorted(narration.cues)
    for cue, _start, seconds in shown:
        assert seconds >= reading_time(narration[cue]) - 1 / config["frame_rate"] - 1e-9, cue
    starts = [start for _, start, _ in shown]
    assert starts == sorted(starts)
    for (_, s0, d0), (_, s1, _) in zip(shown, shown[1:]):
        assert s0 + d0 <= s1 + 1e-9, "cues never overlap"


@pytest.mark.slow
def test_lecture_needs_neither_latex_nor_tensorflow(cached_lecture, lecture_dir, tmp_path):
    # A render with trajectories cached, in a child where importing TensorFlow or Keras fails
    # and Manim's LaTeX compilation itself is blocked: no latex or dvisvgm on PATH, and every
    # tex_file_writing function (wherever Manim imported it) raises.
    script = REPORT_IMPORT + textwrap.dedent(
        f"""
        import sys
        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras"):
                    raise ImportError("blocked: " + name)
                return None
        sys.meta_path.insert(0, Blocked())
        import manim as mn
        import manim.utils.tex_file_writing as tex_file_writing

        calls = []
        def no_latex(*args, **kwargs):
            calls.append(args)
            raise RuntimeError("LaTeX blocked")
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("manim"):
                for name in ("tex_to_svg_file", "generate_tex_file", "compile_tex",
                             "convert_to_svg"):
                    if getattr(module, name, None) is getattr(tex_file_writing, name):
                        setattr(module, name, no_latex)
        try:  # the block works: a formula cannot be typeset
            mn.MathTex("x^2")
        except RuntimeError as err:
            print("blocked:", err)
        calls.clear()
        from scenes.circles import CirclesLecture
        with mn.tempconfig({TINY_CONFIG!r}):
            scene = CirclesLecture()
            scene.render()
        print("rendered", round(scene.time, 1), "latex calls", len(calls),
              "tensorflow" in sys.modules)
        """
    )
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    report = tmp_path / "imported"
    env = child_env(report, GEOMCORE_CACHE_DIR=str(lecture_dir), PATH=str(empty))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert_imported_checkout(report)
    lines = out.stdout.strip().splitlines()
    assert "blocked: LaTeX blocked" in lines  # (Manim may log to stdout too)
    rendered = lines[-1].split()
    assert rendered[0] == "rendered" and float(rendered[1]) > 200, lines[-1]
    assert rendered[2:] == ["latex", "calls", "0", "False"], lines[-1]


def test_missing_trajectory_is_recorded_first(tiny_run, tmp_path, monkeypatch):
    # The lecture's loader goes through the cache: an empty cache records, a full one loads.
    from geomcore import cache

    calls = []

    def fake_record(experiment, **kwargs):
        calls.append(experiment.name)
        return tiny_run.trajectory

    import geomcore.training

    monkeypatch.setattr(geomcore.training, "record_experiment", fake_record)
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path / "empty"))
    from scenes.stage import LectureRuns

    runs = LectureRuns()
    assert runs.trajectory(3) is tiny_run.trajectory
    assert calls == ["circles-3d"]
    assert cache.trajectory_path(find_experiment("circles-3d")).is_file()
    LectureRuns().trajectory(3)
    assert calls == ["circles-3d"], "the second time it is loaded, not recorded"


@pytest.mark.slow
def test_title_chapter_renders_a_video_of_the_expected_duration(tmp_path):
    class Title(ChapterScene):
        chapter = "title"

    config = {"quality": "low_quality", "media_dir": str(tmp_path), "disable_caching": True,
              "progress_bar": "none", "verbosity": "ERROR", "output_file": "title"}
    with mn.tempconfig(config):
        scene = Title()
        scene.render()
        expected = scene.time
        fps = mn.config.frame_rate
    videos = list(tmp_path.rglob("title.mp4"))
    assert len(videos) == 1
    with av.open(str(videos[0])) as container:
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base)
        assert (stream.width, stream.height) == (854, 480)
        frames = sum(1 for _ in container.decode(stream))
    assert duration == pytest.approx(expected, abs=2 / fps)
    assert frames == pytest.approx(expected * fps, abs=2)
