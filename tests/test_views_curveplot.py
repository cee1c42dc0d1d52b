"""CurvePlot's legend sits clear of its curves, beside the plot (topology chapter's det W)."""

from __future__ import annotations

import manim as mn
import numpy as np

from geomcore.views import CurvePlot, Polylines


def test_legend_is_beside_the_frame_and_clear_of_the_curves():
    epochs = np.linspace(0, 100, 101)
    # Curves that run through the frame's top-right corner, where the legend used to sit.
    curves = {"layer 1": np.linspace(0.0, 2.0, 101), "layer 2": np.linspace(-0.5, 1.9, 101)}
    plot = CurvePlot(epochs, curves, center=(2.9, -0.95, 0), width=3.6, height=1.6)
    frame = next(m for m in plot.static if isinstance(m, mn.Rectangle))
    right, top = frame.get_corner(mn.UR)[:2]
    lines = [m for m in plot.static if isinstance(m, Polylines) and m.stroke_width > 2]
    assert [t.original_text for t in plot.legend] == ["layer 1", "layer 2"]
    for tag, color in zip(plot.legend, ("#7BE0AD", "#E056C1")):
        assert tag.get_left()[0] > right  # beside the plot
        assert tag.get_top()[1] <= top + 1e-6
        assert tag.get_right()[0] < mn.config.frame_x_radius  # still in the frame
        assert tag.color.to_hex().upper() == color
        left, bottom = tag.get_corner(mn.DL)[:2]
        rgt, tp = tag.get_corner(mn.UR)[:2]
        for line in lines:
            x, y = line.points[:, 0], line.points[:, 1]
            assert not np.any((x >= left) & (x <= rgt) & (y >= bottom) & (y <= tp))
    assert plot.legend[0].get_bottom()[1] > plot.legend[1].get_top()[1]  # one row each
