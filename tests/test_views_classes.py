"""The replay views with K > 2 classes: regions in the hidden plane, the palette, a frame."""

from __future__ import annotations

import manim as mn
import numpy as np
import pytest
from helpers import TINY, merge

from geomcore.experiment import Experiment
from geomcore.regions import decision_regions, top_two_gap
from geomcore.replay import Replay
from geomcore.views import ReplayPanel, add_layered
from geomcore.views.style import CLASS_COLORS, OKABE_ITO, REGION_FILL_OPACITY, class_colors

K3 = merge(TINY, {
    "name": "k3-view",
    "seed": 1,
    "dataset": {"name": "blobs", "classes": 3, "n_per_class": 150, "std": 0.2},
    "model": {"hidden_widths": [2]},
    "training": {"loss": "sparse_categorical_crossentropy", "optimizer": "adam",
                 "learning_rate": 0.05, "epochs": 6, "batch_size": 32},
    "recording": {"probe_size": 90},
})


@pytest.fixture(scope="module")
def replay_k3():
    from geomcore.training import record_experiment

    return Replay(record_experiment(Experiment.from_dict(K3)))


def test_palette_is_okabe_ito_and_two_classes_keep_the_lecture_colours():
    assert [c.to_hex().upper() for c in OKABE_ITO[:7]] == [
        "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
    assert class_colors(2) == CLASS_COLORS
    assert [class_colors(5)[c] for c in range(5)] == list(OKABE_ITO[:5])
    with pytest.raises(ValueError, match="2 to 8 classes"):
        class_colors(9)


def test_hidden_view_regions_are_the_cells_of_the_output_layer(replay_k3):
    panel = ReplayPanel(replay_k3)
    panel.clock.set_value(1.0)
    panel.dynamic.update(0)
    view = panel.hidden
    net = replay_k3.frame(1.0).network
    cells = decision_regions(*net.class_weights(), view.plane.box)
    assert len(view.regions) == 3 and len(view.clouds) == 3
    for c, (polygon, cell) in enumerate(zip(view.regions, cells)):
        assert polygon.get_fill_color().to_hex() == class_colors(3)[c].to_hex()
        if cell is None:
            assert polygon.get_fill_opacity() == 0
            continue
        corners = polygon.get_vertices()
        np.testing.assert_allclose(np.unique(np.round(corners, 9), axis=0),
                                   np.unique(np.round(view.plane.to_scene(cell), 9), axis=0),
                                   atol=1e-6)
    assert view.line.get_stroke_opacity() == 0  # no single decision line with K = 3


class _FrameScene(mn.Scene):
    replay: Replay

    def construct(self) -> None:
        self.panel = ReplayPanel(self.replay)
        self.panel.clock.set_value(1.0)
        self.panel.dynamic.update(0)
        add_layered(self, self.panel)
        self.wait(1 / mn.config.frame_rate)


def test_rendered_region_colours_follow_the_networks_argmax(replay_k3):
    with mn.tempconfig({"dry_run": True, "quality": "low_quality", "disable_caching": True,
                        "progress_bar": "none", "verbosity": "ERROR"}):
        _FrameScene.replay = replay_k3
        scene = _FrameScene()
        scene.render()
        frame = np.asarray(scene.renderer.get_frame())
        view = scene.panel.hidden
        h, w = frame.shape[:2]
        background = np.array(mn.config.background_color.to_rgb()) * 255
    net = replay_k3.frame(1.0).network
    kernel, bias = net.class_weights()
    umin, umax, vmin, vmax = view.plane.box
    gu, gv = np.meshgrid(np.linspace(umin, umax, 40)[1:-1], np.linspace(vmin, vmax, 40)[1:-1])
    samples = np.column_stack([gu.ravel(), gv.ravel()])
    z = samples @ kernel + bias
    owner = np.argmax(z, axis=1)
    # Away from the region edges (a logit margin), where only the fill is drawn, mostly.
    keep = top_two_gap(z) > 0.3
    blends = np.array([(1 - REGION_FILL_OPACITY) * background
                       + REGION_FILL_OPACITY * np.array(class_colors(3)[c].to_rgb()) * 255
                       for c in range(3)])
    scene_pts = view.plane.to_scene(samples[keep])
    cols = np.round((scene_pts[:, 0] / mn.config.frame_width + 0.5) * (w - 1)).astype(int)
    rows = np.round((0.5 - scene_pts[:, 1] / mn.config.frame_height) * (h - 1)).astype(int)
    pixels = frame[rows, cols, :3].astype(float)
    nearest = np.argmin(np.abs(pixels[:, None, :] - blends[None, :, :]).max(axis=2), axis=1)
    exact = np.abs(pixels - blends[owner[keep]]).max(axis=1) < 8
    assert keep.sum() > 500 and len(set(owner[keep].tolist())) >= 2
    # Grid lines and points cover some samples; the rest show their argmax class's fill.
    assert np.mean(exact) > 0.7
    # Sky blue and green at 18 % differ by 21 levels at most: a rare pixel is ambiguous.
    assert np.mean(nearest[exact] == owner[keep][exact]) > 0.99
    assert np.mean(nearest == owner[keep]) > 0.8


def test_readout_adds_per_class_accuracy_for_k_classes(replay_k3):
    panel = ReplayPanel(replay_k3)
    panel.clock.set_value(1.0)
    panel.dynamic.update(0)
    frame = replay_k3.frame(1.0)
    traj = replay_k3.trajectory
    pred = frame.network.predict(traj.probe_inputs)
    want = [f"{100 * np.mean(pred[traj.probe_labels == c] == c):5.1f}%" for c in range(3)]
    assert [line.string for line in panel.metrics.class_lines] == want
    assert len(panel.metrics.lines) == 3


def test_legend_names_k_classes_in_their_colours():
    from geomcore.views.primitives import class_legend

    legend = class_legend({c: f"arm {c}" for c in range(3)}, font_size=20)
    dots = [row[0] for row in legend]
    want = [class_colors(3)[c].to_hex() for c in (2, 1, 0)]
    assert [d.get_color().to_hex() for d in dots] == want
    two = class_legend({0: "inner", 1: "outer"}, font_size=20)
    assert [row[0].get_color().to_hex() for row in two] == [CLASS_COLORS[1].to_hex(),
                                                            CLASS_COLORS[0].to_hex()]
