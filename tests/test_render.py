"""``geomcore render``: videos and stills of any run, their length, frame, layout and errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import manim as mn
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import VERYFAST, synthetic_trajectory, x264_options

from geomcore.cli import main
from geomcore.render import BACKGROUND, render_replay
from geomcore.replay import Replay
from geomcore.views import default_title, replay_scene_class
from scenes.layout_probe import probe

BACKGROUND_RGB = np.array([int(BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)])


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _frames(path: Path) -> tuple[float, list[np.ndarray]]:
    """Duration (seconds) and every frame (H, W, 3 uint8) of the video at ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return duration, frames


def _border_is_background(frame: np.ndarray, px: int = 3) -> bool:
    # Nothing drawn touches the frame's edge: its outer `px` pixels are all background.
    edges = np.concatenate([frame[:px].reshape(-1, 3), frame[-px:].reshape(-1, 3),
                            frame[:, :px].reshape(-1, 3), frame[:, -px:].reshape(-1, 3)])
    return bool(np.all(np.abs(edges.astype(int) - BACKGROUND_RGB) <= 6))


def _check_layout(trajectory, heading: str) -> None:
    """Every drawn object inside the frame and no two texts overlapping, across the replay."""
    from scenes.layout_probe import text_boxes

    replay = Replay(trajectory)
    scene_class = replay_scene_class(replay, seconds=2.0, heading=heading)
    scene, samples = probe(None, base=scene_class)
    half_w, half_h = mn.config.frame_width / 2, mn.config.frame_height / 2
    assert samples and samples[-1].time == pytest.approx(2.0, abs=0.5)  # 2 fps in the probe
    # The probe samples after each play/wait; redraw the panel at instants in between too.
    for u in np.linspace(0.0, 1.0, 9):
        for block in scene.panel.blocks:
            block.show(replay.frame(float(u)))
        texts = text_boxes(scene)
        assert len(texts) >= 10  # heading, 2 titles, 4 axis labels, 2 loss labels, readout
        for a, b in itertools.combinations(texts, 2):
            assert a.overlap(b) < 1e-6, (u, a.text, b.text)
        for top in scene.mobjects:
            for mob in top.family_members_with_points():
                left, bottom = mob.get_corner(mn.DL)[:2]
                right, top_ = mob.get_corner(mn.UR)[:2]
                assert -half_w < left and right < half_w, (u, mob)
                assert -half_h < bottom and top_ < half_h, (u, mob)


@pytest.fixture(scope="module")
def synthetic_npz(tmp_path_factory) -> Path:
    trajectory = synthetic_trajectory((3, 2), seed=0, name="synthetic-3")
    return trajectory.save(tmp_path_factory.mktemp("render") / "synthetic.npz")


def test_default_title_names_the_viewed_layer_its_width_and_activation(synthetic3):
    layer = synthetic3.hidden_layer_names[-1]
    assert default_title(synthetic3) == f"{layer}: 2 units, tanh"


@pytest.mark.parametrize("widths", [(3, 2), (2, 2)])
def test_layout_of_synthetic_runs_stays_in_frame_without_overlaps(widths):
    trajectory = synthetic_trajectory(widths, seed=1)
    _check_layout(trajectory, heading=trajectory.name)


@pytest.mark.parametrize("name", ["circles-2d", "circles-3d", "circles-4d", "circles-relu"])
def test_layout_of_shipped_experiments_stays_in_frame(cached_lecture, name):
    from geomcore.cache import load_or_record
    from geomcore.experiment import find_experiment

    trajectory, _ = load_or_record(find_experiment(name), progress=False)
    _check_layout(trajectory, heading=name)


def test_png_at_an_epoch_shows_that_epoch(synthetic_npz, tmp_path):
    from geomcore.trajectory import Trajectory

    trajectory = Trajectory.load(synthetic_npz)
    scene_class = replay_scene_class(Replay(trajectory), epoch=4)
    scene, _ = probe(None, base=scene_class)
    assert [line.string for line in scene.panel.metrics.lines][0] == "  4/6"
    out = tmp_path / "still.png"
    code, stdout, _ = _run("render", str(synthetic_npz), "--format", "png", "--epoch", "4",
                           "-o", str(out))
    assert code == 0 and stdout.strip() == str(out)
    from PIL import Image

    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (480, 854, 3)
    assert _border_is_background(image)
    # The boundary (yellow) is drawn somewhere: the still is not an empty frame.
    assert np.any((image[..., 0] > 200) & (image[..., 1] > 200) & (image[..., 2] < 140))


@pytest.mark.slow
def test_video_lasts_seconds_and_every_frame_keeps_objects_inside(synthetic_npz, tmp_path):
    out = tmp_path / "replay.mp4"
    code, stdout, stderr = _run("render", str(synthetic_npz), "-ql", "--seconds", "3",
                                "-o", str(out))
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    duration, frames = _frames(out)
    assert duration == pytest.approx(3.0, abs=2 / 15)
    assert len(frames) == pytest.approx(3.0 * 15, abs=2)
    assert frames[0].shape == (480, 854, 3)
    for frame in frames[:: 5]:
        assert _border_is_background(frame)
    # It moves: the first and last frames differ.
    assert np.mean(np.abs(frames[0].astype(int) - frames[-1].astype(int))) > 0.5
    # Encoded with the lecture's x264 preset (geomcore.render.X264_PRESET), crf 23.
    options = x264_options(out)
    assert {k: options[k] for k in VERYFAST} == VERYFAST and options["crf"] == "23.0"


@pytest.mark.slow
def test_gif_of_circles_3d_is_animated_and_under_10_mb(cached_lecture, tmp_path):
    out = tmp_path / "c3.gif"
    code, _, stderr = _run("render", "circles-3d", "--format", "gif", "-ql", "-o", str(out),
                           "--quiet")
    assert code == 0, stderr
    assert out.stat().st_size < 10 * 2**20
    from PIL import Image

    with Image.open(out) as gif:
        assert gif.format == "GIF"
        # 10 s at 15 fps: 150 video frames; the GIF writer merges identical neighbours (the
        # held final state) into one longer frame, so count distinct frames and total time.
        assert 100 <= gif.n_frames <= 150
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"))
    assert sum(durations) == 10_000  # ms
    assert np.mean(np.abs(first.astype(int) - last.astype(int))) > 0.5  # it moves
    # The GIF's palette shifts the background a little: its edge is one colour throughout,
    # near the background, so nothing drawn touches the frame's edge.
    corner = last[0, 0].astype(int)
    assert np.all(np.abs(corner - BACKGROUND_RGB) <= 10)
    edges = np.concatenate([last[:3].reshape(-1, 3), last[-3:].reshape(-1, 3),
                            last[:, :3].reshape(-1, 3), last[:, -3:].reshape(-1, 3)])
    assert np.all(edges == corner)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-experiment"], "no-such-experiment"),
        (["SYN", "--format", "avi"], "unknown format 'avi'"),
        (["SYN", "-q", "x"], "unknown quality 'x'"),
        (["SYN", "--seconds", "0"], "seconds must be > 0"),
        (["SYN", "--epoch", "3"], "--epoch needs a still"),
        (["SYN", "--format", "png", "--epoch", "99"], "epoch 99 is outside"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(synthetic_npz, tmp_path, args, message):
    out = tmp_path / "out" / "video.mp4"
    out.parent.mkdir()
    args = [str(synthetic_npz) if a == "SYN" else a for a in args]
    code, stdout, stderr = _run("render", *args, "-o", str(out))
    assert code != 0
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert list(out.parent.iterdir()) == []


def test_unreadable_npz_and_unwritable_path_are_one_line_errors(synthetic_npz, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    code, _, stderr = _run("render", str(bad), "-o", str(tmp_path / "x.mp4"))
    assert code != 0 and "bad.npz" in stderr and len(stderr.strip().splitlines()) == 1
    code, _, stderr = _run("render", str(synthetic_npz), "-o", str(tmp_path / "nope" / "x.mp4"))
    assert code != 0 and "does not exist" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_failed_render_leaves_the_old_output_untouched(synthetic_npz, tmp_path, monkeypatch):
    from geomcore.trajectory import Trajectory

    out = tmp_path / "video.mp4"
    out.write_bytes(b"old")

    def broken(self):
        raise RuntimeError("ffmpeg exploded")

    monkeypatch.setattr(mn.Scene, "render", broken)
    with pytest.raises(Exception, match="rendering failed: RuntimeError: ffmpeg exploded"):
        render_replay(Trajectory.load(synthetic_npz), out)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.mp4"]


def test_a_4_unit_viewed_layer_is_a_one_line_error_before_any_rendering(tmp_path):
    npz = synthetic_trajectory((2, 4), seed=1).save(tmp_path / "wide.npz")
    code, _, stderr = _run("render", str(npz), "-o", str(tmp_path / "x.mp4"))
    assert code != 0
    assert ("last hidden layer has 4 units; the replay views a 2-unit layer (a plane) or a "
            "3-unit layer (a space)") in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.npz"]
