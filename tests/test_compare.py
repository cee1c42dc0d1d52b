"""``geomcore compare``: runs side by side on one epoch clock, divergence as an event."""

from __future__ import annotations

import itertools
from pathlib import Path

import manim as mn
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import synthetic_trajectory
from test_render import _border_is_background, _frames

from geomcore.cli import main
from geomcore.errors import GeomcoreError
from geomcore.render import render_compare
from geomcore.replay import Replay
from geomcore.trajectory import Trajectory
from geomcore.views import compare_scene_class
from scenes.layout_probe import probe, text_boxes


def _diverged(trajectory: Trajectory, at: int) -> Trajectory:
    """``trajectory`` with non-finite weights and images from snapshot ``at`` on."""
    arrays = {k: v.copy() for k, v in trajectory.arrays.items()}
    arrays["kernel.hidden_2"][at:] = np.nan
    arrays["probe.hidden_2"][at:] = np.nan
    arrays["grid.hidden_2"][at:] = np.nan
    return Trajectory(arrays, {**trajectory.metadata, "name": "diverging"})


def _scene(trajectories: list[Trajectory]):
    replays = [Replay(t) for t in trajectories]
    scene, _ = probe(None, base=compare_scene_class(replays, [t.name for t in trajectories],
                                                    seconds=2.0))
    return scene, replays


def _set_epoch(scene, epoch: float) -> None:
    scene.epoch_clock.set_value(epoch)
    scene.update_mobjects(0)


def _readout_epochs(scene) -> list[str]:
    return [cell["metrics"].lines[0].string.strip() for cell in scene.cells]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_cells_stay_in_frame_without_overlapping_texts(count):
    runs = [synthetic_trajectory((3, 2) if i % 2 else (2, 2), seed=i, name=f"run-{i}")
            for i in range(count)]
    scene, _ = _scene(runs)
    half_w, half_h = mn.config.frame_width / 2, mn.config.frame_height / 2
    for epoch in np.linspace(0, 6, 5):
        _set_epoch(scene, float(epoch))
        texts = text_boxes(scene)
        # per cell: heading, 2 plane titles, 4 axis labels, 3 readout names, 3 values
        assert len(texts) == 13 * count
        for a, b in itertools.combinations(texts, 2):
            assert a.overlap(b) < 1e-6, (epoch, a.text, b.text)
        for top in scene.mobjects:
            for mob in top.family_members_with_points():
                left, bottom = mob.get_corner(mn.DL)[:2]
                right, top_ = mob.get_corner(mn.UR)[:2]
                assert -half_w < left and right < half_w, mob
                assert -half_h < bottom and top_ < half_h, mob


def test_every_run_shows_the_same_epoch_at_the_same_time():
    short = synthetic_trajectory((2, 2), seed=1, name="short", snapshots=4)  # epochs 0..3
    long = synthetic_trajectory((3, 2), seed=0, name="long")  # epochs 0..6
    scene, replays = _scene([short, long])
    _set_epoch(scene, 2.0)
    assert _readout_epochs(scene) == ["2/3", "2/6"]
    for cell, replay in zip(scene.cells, replays):
        progress = cell["hidden"].clock.get_value()
        assert replay.frame(progress).epoch == pytest.approx(2.0, abs=1e-6)
    # Past its end the short run holds its last epoch while the long one goes on.
    _set_epoch(scene, 5.0)
    assert _readout_epochs(scene) == ["3/3", "5/6"]
    # The scene ran the clock to the longest run's end.
    assert _readout_epochs(_scene([short, long])[0]) == ["3/3", "6/6"]


def test_a_diverged_run_shows_the_event_while_the_others_go_on():
    good = synthetic_trajectory((3, 2), seed=0, name="good")
    bad = _diverged(synthetic_trajectory((2, 2), seed=1), at=3)
    scene, replays = _scene([good, bad])
    assert replays[1].diverged_at_epoch == 3.0
    notice = scene.cells[1]["notice"]
    assert scene.cells[0]["notice"] is None

    def shown() -> list[str]:
        return [t.text for t in text_boxes(scene) if "diverged" in t.text]

    _set_epoch(scene, 2.5)
    assert shown() == []
    _set_epoch(scene, 4.0)
    assert shown() == ["diverged at epoch 3"]
    assert notice.get_fill_opacity() == 1.0
    assert _readout_epochs(scene) == ["4/6", "2/2"]


@pytest.mark.parametrize("count", [1, 5])
def test_compare_takes_two_to_four_runs(tmp_path, count):
    run = synthetic_trajectory((2, 2), seed=1)
    with pytest.raises(GeomcoreError, match=f"2 to 4 runs; got {count}"):
        render_compare([run] * count, tmp_path / "x.mp4")
    npz = run.save(tmp_path / "run.npz")
    result = CliRunner().invoke(main, ["compare", *[str(npz)] * count, "-o",
                                       str(tmp_path / "x.mp4")])
    assert result.exit_code != 0 and f"got {count}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_compare_rejects_png(tmp_path):
    npz = synthetic_trajectory((2, 2), seed=1).save(tmp_path / "run.npz")
    result = CliRunner().invoke(main, ["compare", str(npz), str(npz), "--format", "png"])
    assert result.exit_code != 0 and "unknown format 'png'" in result.stderr


@pytest.mark.slow
def test_compare_video_of_two_shipped_runs(cached_lecture, tmp_path: Path):
    out = tmp_path / "cmp.mp4"
    result = CliRunner().invoke(main, ["compare", "circles-2d", "circles-3d", "-ql",
                                       "--seconds", "3", "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    duration, frames = _frames(out)
    assert duration == pytest.approx(3.0, abs=2 / 15)
    assert all(_border_is_background(f) for f in frames[::4])
