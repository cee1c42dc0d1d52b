"""Layout of every chapter and standalone scene: text inside the frame, no two texts overlap.

Each chapter runs under ``dry_run`` (:func:`scenes.layout_probe.probe`); after every ``play``
and ``wait`` the visible text objects' bounding boxes are checked. The same samples show the
restructured lecture puts its text where the lecture of commit 16f2196 did (positions noted
from a render of that commit, below).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import manim as mn
import pytest
from sweep_helpers import seed_sweep_rows

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from scenes import anatomy, folding, four_d, hidden_space, measuring, replays, title, topology
from scenes.layout_probe import Sample, TextBox, probe
from scenes.lecture import CHAPTERS, ChapterScene, chapter_title_text
from scenes.stage import LectureRuns, LectureScene, narrator

#: The standalone chapter scenes, each naming its chapter by id.
STANDALONE = {
    "title": title.Title,
    "anatomy": anatomy.LayerAnatomy,
    "topology": topology.Topology,
    "folding": folding.Folding,
    "space3d": hidden_space.HiddenSpace3D,
    "four_d": four_d.FourDimensions,
    "measure": measuring.Measuring,
}
#: Text boxes may touch; an overlap must be larger than this (scene units) both ways to count.
TOUCH = 0.01


@pytest.fixture(scope="module")
def runs(lecture_runs, lecture_dir):
    cache = {name: run.trajectory for name, run in lecture_runs.items()}
    cache["circles-relu"], _ = load_or_record(find_experiment("circles-relu"),
                                              directory=lecture_dir, progress=False)
    return LectureRuns(_cache=cache, _sweep=seed_sweep_rows())


@pytest.fixture(scope="module")
def probed(runs, lecture_dir) -> dict[str, list[Sample]]:
    """Samples of every chapter (standalone scenes include their chapter card), by name."""
    out: dict[str, list[Sample]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOMCORE_CACHE_DIR", str(lecture_dir))
        for ch in CHAPTERS:
            if ch.id in STANDALONE:  # the standalone scene plays card + storyboard
                _, out[f"scene {STANDALONE[ch.id].__name__} ({ch.id})"] = probe(
                    None, base=STANDALONE[ch.id])
            else:
                _, out[ch.id] = probe(ch.storyboard, runs, base=LectureScene)

        def cards(scene: mn.Scene, _runs: object) -> None:
            for ch in CHAPTERS[1:]:
                narrator(scene).chapter_card(chapter_title_text(ch.section))

        _, out["chapter cards"] = probe(cards, None, base=LectureScene)
        for cls in (replays.Circles2dReplay, replays.Circles3dReplay, replays.Circles4dReplay):
            _, out[f"scene {cls.__name__}"] = probe(None, base=cls)
    return out


def layout_problems(name: str, samples: list[Sample]) -> list[str]:
    """Every text outside the frame and every overlapping pair, as readable lines."""
    half_w, half_h = mn.config.frame_width / 2, mn.config.frame_height / 2
    problems = []
    for sample in samples:
        for t in sample.texts:
            left, bottom, right, top = t.box
            if left < -half_w or right > half_w or bottom < -half_h or top > half_h:
                problems.append(f"{name} at {sample.time:.1f} s: {t.text!r} leaves the frame "
                                f"(box {tuple(round(v, 2) for v in t.box)})")
        for a, b in itertools.combinations(sample.texts, 2):
            w = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            h = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
            if w > TOUCH and h > TOUCH:
                problems.append(f"{name} at {sample.time:.1f} s: {a.text!r} overlaps {b.text!r} "
                                f"({w:.2f} x {h:.2f} scene units)")
    return sorted(set(problems), key=problems.index)


def test_every_chapter_and_standalone_scene_is_probed(probed):
    covered = {name.split("(")[-1].rstrip(")") for name in probed}
    assert {ch.id for ch in CHAPTERS} <= covered
    for cls in STANDALONE.values():
        assert issubclass(cls, ChapterScene)
    assert {cls.chapter for cls in STANDALONE.values()} == set(STANDALONE)
    for name, samples in probed.items():
        assert samples, f"{name} shows nothing"
        assert any(s.texts for s in samples), f"{name} shows no text"


def test_text_stays_in_frame_and_never_overlaps(probed):
    problems = [p for name, samples in probed.items() for p in layout_problems(name, samples)]
    assert not problems, "\n".join(problems)


def test_layout_check_catches_overlap_and_leaving_the_frame():
    # The check itself: two texts on top of each other, one past the right edge.
    a = TextBox("heading", (-1.0, 0.0, 1.0, 0.5))
    b = TextBox("caption", (0.5, 0.2, 2.0, 0.6))
    c = TextBox("far right", (6.9, 0.0, 7.5, 0.3))
    problems = layout_problems("demo", [Sample(3.0, (a, b, c))])
    assert problems == [
        "demo at 3.0 s: 'far right' leaves the frame (box (6.9, 0.0, 7.5, 0.3))",
        "demo at 3.0 s: 'heading' overlaps 'caption' (0.50 x 0.30 scene units)",
    ]
    touching = TextBox("touching", (1.0, 0.0, 2.0, 0.5))
    assert layout_problems("demo", [Sample(0.0, (a, touching))]) == []


#: Where the lecture of commit 16f2196 (before chapters moved to scenes/chapters/) put each
#: text without a measured number in it: centre of its first appearance, by chapter id.
BEFORE = Path(__file__).with_name("lecture_text_positions_16f2196.json")


#: Texts moved on purpose since then, with their new centre: the det W plot's legend sat on
#: its curves and now stands beside the plot (issue 10).
MOVED_ON_PURPOSE = {("topology", "layer 1"): (5.184, -0.257),
                    ("topology", "layer 2"): (5.183, -0.552)}


def _chapter_samples(probed: dict[str, list[Sample]], chapter_id: str) -> list[Sample]:
    return next(samples for name, samples in probed.items()
                if name == chapter_id or name.endswith(f"({chapter_id})"))


def test_restructured_lecture_puts_text_where_it_was(probed):
    before = json.loads(BEFORE.read_text(encoding="utf-8"))["chapters"]
    # Chapters added since (issue 14: "measure") have no earlier positions.
    assert set(before) == {ch.id for ch in CHAPTERS} - {"measure"}
    moved = []
    for chapter_id, positions in before.items():
        first: dict[str, tuple[float, float]] = {}
        for sample in _chapter_samples(probed, chapter_id):
            for t in sample.texts:
                first.setdefault(t.text, t.center)
        for text, (x, y) in positions.items():
            x, y = MOVED_ON_PURPOSE.get((chapter_id, text), (x, y))
            if text not in first:
                moved.append(f"{chapter_id}: {text!r} is no longer shown")
            elif abs(first[text][0] - x) > 0.02 or abs(first[text][1] - y) > 0.02:
                moved.append(f"{chapter_id}: {text!r} moved from ({x}, {y}) to "
                             f"({first[text][0]:.3f}, {first[text][1]:.3f})")
    assert not moved, "\n".join(moved)
