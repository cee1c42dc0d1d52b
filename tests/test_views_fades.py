"""Point clouds fade with everything else (issue 10, fault 5): frame tests.

Each animation is stepped with ``anim.interpolate(alpha)`` and the camera captures the frame;
the mean brightness of the pixels under the cloud's points must rise over a fade-in (from the
background) and fall over a fade-out (to it). A cloud that pops shows its full colour on the
first frame of a FadeIn.
"""

from __future__ import annotations

import manim as mn
import numpy as np
import pytest

from geomcore.replay import Replay
from geomcore.views import (
    CLASS_COLORS,
    ClassPoints,
    DataPlaneView,
    FoldPanel,
    ReplayPanel,
)

ALPHAS = np.linspace(0.0, 1.0, 7)
CONFIG = {"pixel_width": 320, "pixel_height": 180, "frame_rate": 15}


def _points(n: int = 200, seed: int = 0) -> np.ndarray:
    xy = np.random.default_rng(seed).uniform(-3.0, 3.0, (n, 2))
    return np.column_stack([xy, np.zeros(n)])


def _cloud_brightness(anim: mn.Animation, clouds: list[ClassPoints]) -> list[float]:
    """Mean brightness (0-255) of the pixels under ``clouds``' points, per alpha."""
    camera = mn.Camera()
    anim.begin()
    values = []
    for alpha in ALPHAS:
        anim.interpolate(alpha)
        camera.reset()
        camera.capture_mobject(anim.mobject)
        coords = np.concatenate([camera.points_to_pixel_coords(c, c.points) for c in clouds])
        coords = coords[camera.on_screen_pixels(coords)]
        values.append(float(camera.pixel_array[coords[:, 1], coords[:, 0], :3].mean()))
    anim.finish()
    return values


def _rises(values: list[float]) -> None:
    assert all(b > a for a, b in zip(values, values[1:])), values
    background = 255 * np.mean(mn.ManimColor(mn.config.background_color).to_rgb())
    assert abs(values[0] - background) < 2.0, values  # first frame: nothing of the cloud yet


@pytest.mark.parametrize("kind", ["FadeIn", "Create"])
def test_a_cloud_appears_gradually(kind):
    with mn.tempconfig(CONFIG):
        cloud = ClassPoints(_points(), CLASS_COLORS[1])
        _rises(_cloud_brightness(getattr(mn, kind)(cloud), [cloud]))


@pytest.mark.parametrize("kind", ["FadeOut", "Uncreate"])
def test_a_cloud_disappears_gradually(kind):
    with mn.tempconfig(CONFIG):
        cloud = ClassPoints(_points(), CLASS_COLORS[0])
        _rises(_cloud_brightness(getattr(mn, kind)(cloud), [cloud])[::-1])


def test_set_opacity_and_fade_change_what_is_drawn():
    with mn.tempconfig(CONFIG):
        camera = mn.Camera()
        cloud = ClassPoints(_points(50), CLASS_COLORS[1], opacity=1.0)
        coords = camera.points_to_pixel_coords(cloud, cloud.points)

        def red() -> float:
            camera.reset()
            camera.capture_mobject(cloud)
            return float(camera.pixel_array[coords[:, 1], coords[:, 0], 0].mean())

        background = 255 * mn.ManimColor(mn.config.background_color).to_rgb()[0]
        full = red()
        assert full == pytest.approx(255 * CLASS_COLORS[1].to_rgb()[0], abs=1)
        cloud.set_opacity(0.5)
        assert cloud.get_opacity() == 0.5
        assert red() == pytest.approx((full + background) / 2, abs=1.5)
        cloud.fade(1.0)
        assert red() == pytest.approx(background, abs=0.5)


def _views(trajectory):
    replay = Replay(trajectory)
    panel = ReplayPanel(replay)
    data = DataPlaneView(trajectory.probe_inputs, trajectory.probe_labels,
                         box=trajectory.bounds, grid=trajectory.grid_inputs[:, ::10])
    fold = FoldPanel(replay)
    return {
        "ReplayPanel": (panel, [*panel.input.clouds.values(), *panel.hidden.clouds.values()]),
        "DataPlaneView": (data, list(data.clouds.values())),
        "FoldPanel": (fold, [*fold.input.clouds.values(), *fold.hidden.clouds.values()]),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ReplayPanel", "DataPlaneView", "FoldPanel"])
def test_clouds_fade_with_their_view(tiny_run, name):
    with mn.tempconfig(CONFIG):
        view, clouds = _views(tiny_run.trajectory)[name]
        _rises(_cloud_brightness(mn.FadeIn(view), clouds))
        view, clouds = _views(tiny_run.trajectory)[name]
        _rises(_cloud_brightness(mn.FadeOut(view), clouds)[::-1])
