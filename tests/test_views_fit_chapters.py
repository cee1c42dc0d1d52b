"""Nothing in any chapter of the lecture is drawn outside its view's frame (fault 6).

Each chapter runs under Manim's ``dry_run``; after every ``play`` and ``wait`` every plane
view and 3-D view in the scene is checked: the points of its clouds and the control points
of its grid lines and curves lie inside its frame (the cube's outline for a 3-D view).
"""

from __future__ import annotations

import manim as mn
import pytest
from sweep_helpers import seed_sweep_rows
from test_views_fit import _check_space, _outside, _plane_bounds

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.views import SpaceView
from geomcore.views.replay_panel import _PlaneView
from scenes.lecture import CHAPTERS
from scenes.stage import LectureRuns, LectureScene


@pytest.fixture(scope="module")
def runs(lecture_runs, lecture_dir):
    cache = {name: run.trajectory for name, run in lecture_runs.items()}
    cache["circles-relu"], _ = load_or_record(find_experiment("circles-relu"),
                                              directory=lecture_dir, progress=False)
    return LectureRuns(_cache=cache, _sweep=seed_sweep_rows())


def _problems(scene: mn.Scene, chapter_id: str) -> list[str]:
    found, seen = [], set()
    for top in scene.mobjects:
        for mob in top.get_family():
            if id(mob) in seen:
                continue
            seen.add(id(mob))
            if isinstance(mob, _PlaneView):
                n = _outside(mob, _plane_bounds(mob))
            elif isinstance(mob, SpaceView):
                n = _check_space(mob)
            else:
                continue
            if n:
                found.append(f"{chapter_id} at {scene.time:.1f} s: {n} points of "
                             f"{type(mob).__name__} outside its frame")
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[ch.id for ch in CHAPTERS])
def test_chapter_draws_inside_its_frames(runs, chapter):
    problems: list[str] = []
    checks = []

    class Probe(LectureScene):
        def construct(self) -> None:
            chapter.storyboard(self, runs)

        def play(self, *args: object, **kwargs: object) -> None:
            super().play(*args, **kwargs)
            checks.append(self.time)
            problems.extend(_problems(self, chapter.id))

    config = {"dry_run": True, "pixel_width": 256, "pixel_height": 144, "frame_rate": 2,
              "disable_caching": True, "progress_bar": "none", "verbosity": "ERROR"}
    with mn.tempconfig(config):
        Probe().render()
    assert checks, "the chapter played nothing"
    assert problems == []
