"""The metrics readout keeps its right edge for runs of any length and any loss."""

import manim as mn
import numpy as np
import pytest

from geomcore.replay import Replay
from geomcore.views import MetricsReadout
from tests.helpers import crafted, synthetic_trajectory


def _long(epochs: float, loss_scale: float = 1.0):
    base = synthetic_trajectory(snapshots=7)

    def edit(arrays):
        arrays["epoch"] = np.linspace(0.0, epochs, 7)
        arrays["step"] = np.arange(7) * int(max(1, epochs))

    traj = crafted(base, edit)
    traj.arrays["loss"] = traj.arrays["loss"] * loss_scale
    return traj


def _readout(traj) -> MetricsReadout:
    return MetricsReadout(Replay(traj), mn.ValueTracker(1.0), corner=(3.75, 1.4, 0))


def test_a_short_run_keeps_the_eight_glyph_fields():
    readout = _readout(synthetic_trajectory(snapshots=7))
    assert readout.n_glyphs == 8
    np.testing.assert_allclose(readout.corner, [3.75, 1.4, 0.0])
    assert readout.strings(readout.replay.frame(1.0))[0] == "  6/6"


@pytest.mark.parametrize("epochs", [2000, 12000])
def test_a_long_run_grows_left_and_keeps_its_right_edge(epochs):
    short = _readout(synthetic_trajectory(snapshots=7))
    long = _readout(_long(epochs))
    epoch_string = long.strings(long.replay.frame(1.0))[0]
    assert epoch_string == f"{epochs}/{epochs}"
    assert long.n_glyphs == len(epoch_string)
    # Every glyph of the epoch string is drawn (none cut), and the readout's right end is
    # where the 8-glyph readout's right end is.
    assert long.lines[0].string == epoch_string
    right_long = long.lines[0].anchor[0] + long.n_glyphs * long.lines[0].advance
    right_short = short.lines[0].anchor[0] + short.n_glyphs * short.lines[0].advance
    assert right_long == pytest.approx(right_short, abs=1e-9)
    assert long.corner[0] < short.corner[0]


def test_a_huge_loss_is_written_in_three_significant_digits():
    readout = _readout(_long(100, loss_scale=1e6))
    frame = readout.replay.frame(0.0)
    text = readout.strings(frame)[2]
    assert len(text) <= readout.n_glyphs
    assert float(text) == pytest.approx(frame.loss, rel=1e-2)
