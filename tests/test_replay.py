"""Replay: interpolated weights, time warp, pulled-back boundary, layer homotopy.

Most tests replay the synthetic runs built in numpy (``synthetic3``, ``synthetic2``: 7
snapshots, no training); the ones marked ``slow`` check facts of the lecture's trained runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from geomcore.geometry import sigmoid
from geomcore.replay import Replay, boundary_contours, layer_homotopy


@pytest.fixture(scope="module")
def replay3(synthetic3):
    return Replay(synthetic3)


def test_snapshot_coordinates_span_the_run(replay3):
    assert replay3.snapshot_at(0.0) == 0.0
    assert replay3.snapshot_at(1.0) == pytest.approx(replay3.n_snapshots - 1, abs=1e-9)
    u = np.linspace(0, 1, 2001)
    s = np.array([replay3.snapshot_at(v) for v in u])
    assert np.all(np.diff(s) >= -1e-12), "the replay never runs backwards"


@pytest.mark.parametrize("k", [0, 1, 3, 6])
def test_snapshots_are_shown_with_their_recorded_weights(replay3, k):
    u = replay3.progress_at(k)
    assert replay3.snapshot_at(u) == pytest.approx(k, abs=1e-9)
    net = replay3.network_at(u)
    kernels, biases = replay3.trajectory.weights(k)
    for got, want in zip(net.kernels + net.biases, kernels + biases):
        np.testing.assert_allclose(got, want, atol=1e-7)
    frame = replay3.frame(u)
    assert frame.epoch == pytest.approx(replay3.trajectory.epochs[k], abs=1e-6)
    # The drawn probe points are the Keras model's recorded outputs at that snapshot.
    recorded = replay3.trajectory.arrays[f"probe.{replay3.layer}"][k]
    np.testing.assert_allclose(frame.probe, recorded, atol=1e-5)


def test_between_snapshots_every_frame_is_a_real_network(replay3):
    u = 0.5 * (replay3.progress_at(3) + replay3.progress_at(4))
    frame = replay3.frame(u)
    assert 3 < frame.snapshot < 4
    assert 3 <= frame.epoch <= 4
    probe = replay3.trajectory.probe_inputs
    np.testing.assert_allclose(frame.probe, frame.network.forward(probe, upto=replay3.layer))
    np.testing.assert_allclose(frame.boundary, frame.network.boundary_coefficients())


def test_motion_is_smooth_in_position_and_speed(replay3):
    # 60 frames a second over a 20-second replay: no jump and no kink at snapshot boundaries.
    u = np.linspace(0, 1, 1201)
    probe = np.stack([replay3.frame(v).probe for v in u])
    step = np.sqrt(np.mean(np.sum(np.diff(probe, axis=0) ** 2, axis=-1), axis=1))
    assert step.max() < 0.02, "no frame-to-frame jump larger than 1% of the layer's range"
    accel = np.abs(np.diff(step))
    assert accel.max() < 0.1 * step.max(), "speed changes gradually between frames"


def test_screen_time_is_change_plus_a_minimum_speed(replay3):
    # The clock from the recorded images, computed here: RMS displacement of the probe points
    # plus that of the grid samples, per snapshot interval, plus 0.25 of the mean.
    traj = replay3.trajectory
    probe = traj.arrays["probe.hidden_2"].astype(np.float64)
    grid = traj.arrays["grid.hidden_2"].astype(np.float64).reshape(traj.n_snapshots, -1, 2)
    change = (np.sqrt(np.mean(np.sum(np.diff(probe, axis=0) ** 2, axis=-1), axis=1))
              + np.sqrt(np.mean(np.sum(np.diff(grid, axis=0) ** 2, axis=-1), axis=1)))
    np.testing.assert_allclose(replay3.change, change, rtol=1e-12)
    weights = change + 0.25 * change.mean()
    shares = np.diff([replay3.progress_at(k) for k in range(traj.n_snapshots)])
    np.testing.assert_allclose(shares, weights / weights.sum(), atol=1e-9)


@pytest.mark.slow
def test_screen_time_follows_change(lecture_runs):
    replay3 = Replay(lecture_runs["circles-3d"].trajectory)
    early = replay3.progress_at_epoch(10) - replay3.progress_at_epoch(0)
    late = replay3.progress_at_epoch(100) - replay3.progress_at_epoch(90)
    change = replay3.change
    assert change[:10].sum() > change[-10:].sum()
    assert early > 2 * late, "fast early epochs get more screen time than still late ones"
    # Every epoch still gets a share of the clock (min_speed), so late training moves.
    shares = np.diff([replay3.progress_at_epoch(e) for e in range(101)])
    # With min_speed = 0.25 each interval weighs at least 0.25 / 1.25 of an average one.
    assert shares.min() >= 0.2 / len(shares) - 1e-9


def test_until_epoch_truncates(synthetic3):
    replay = Replay(synthetic3, until_epoch=3)
    assert replay.n_snapshots == 4
    assert replay.frame(1.0).epoch == pytest.approx(3)


def test_replay_rejects_unknown_layer(synthetic3):
    with pytest.raises(ValueError, match="no hidden layer 'hidden_9'"):
        Replay(synthetic3, layer="hidden_9")


@pytest.mark.parametrize("name", ["synthetic2", "synthetic3"])
def test_pulled_back_boundary_lies_where_the_network_outputs_one_half(request, name):
    traj = request.getfixturevalue(name)
    net = traj.network(-1)
    box = traj.bounds
    resolution = 160
    curves = boundary_contours(net, box, resolution)
    assert curves, "the trained network has a boundary inside the data box"
    pts = np.concatenate(curves)
    cell = (box[1] - box[0]) / (resolution - 1)
    logit = net.logit(pts)
    eps = 1e-6
    gx = (net.logit(pts + [eps, 0]) - net.logit(pts - [eps, 0])) / (2 * eps)
    gy = (net.logit(pts + [0, eps]) - net.logit(pts - [0, eps])) / (2 * eps)
    distance = np.abs(logit) / np.hypot(gx, gy)
    assert distance.max() < 0.1 * cell, "each drawn point is within a tenth of a cell of p = 0.5"
    assert np.abs(sigmoid(logit) - 0.5).max() < 0.01


def test_pulled_back_boundary_of_a_separating_width3_net_lies_between_the_rings(synthetic3):
    curves = boundary_contours(synthetic3.network(-1), synthetic3.bounds)
    radii = np.hypot(*np.concatenate(curves).T)
    assert np.all((radii > 0.5) & (radii < 1.0)), "the boundary runs between the rings"
    # One closed curve around the inner ring: its angles cover the full turn.
    [curve] = curves
    angles = np.sort(np.arctan2(curve[:, 1], curve[:, 0]))
    assert np.diff(angles).max() < 0.2


@pytest.mark.slow
def test_pulled_back_boundary_of_the_trained_width3_net_separates_the_rings(lecture_runs):
    traj = lecture_runs["circles-3d"].trajectory
    curves = boundary_contours(traj.network(-1), traj.bounds)
    radii = np.hypot(*np.concatenate(curves).T)
    assert np.all((radii > 0.5) & (radii < 1.0)), "the boundary runs between the rings"


def test_no_boundary_when_the_output_never_reaches_one_half(tiny_run):
    net = tiny_run.trajectory.network(0)
    biased = type(net)(net.kernels, net.biases[:-1] + (net.biases[-1] + 100.0,),
                       net.activations, net.layer_names)
    assert boundary_contours(biased, (-1, 1, -1, 1)) == []


def test_layer_homotopy_hits_each_layer(synthetic2):
    net = synthetic2.network(0)
    x = np.random.default_rng(1).uniform(-1, 1, size=(50, 2))
    np.testing.assert_allclose(layer_homotopy(net, x, 0.0), x)
    np.testing.assert_allclose(layer_homotopy(net, x, 1.0), net.forward(x, upto=0))
    np.testing.assert_allclose(layer_homotopy(net, x, 2.0), net.forward(x, upto=1))
    mid = layer_homotopy(net, x, 1.25)
    np.testing.assert_allclose(mid, 0.75 * net.forward(x, upto=0) + 0.25 * net.forward(x, upto=1))
    grid = np.random.default_rng(2).uniform(-1, 1, size=(4, 7, 2))
    assert layer_homotopy(net, grid, 0.5).shape == (4, 7, 2)


def test_layer_homotopy_refuses_wide_layers(synthetic3):
    net = synthetic3.network(0)
    with pytest.raises(ValueError, match="not 2 units wide"):
        layer_homotopy(net, np.zeros((3, 2)), 0.5)


# -- issue 7: only finite snapshots are replayed; degenerate runs keep a valid clock -------


def test_replay_stops_before_the_first_non_finite_snapshot(tiny_run):
    arrays = {k: v.copy() for k, v in tiny_run.trajectory.arrays.items()}
    arrays["kernel.hidden_2"][2, 0, 0] = np.nan  # a hand-made file: NaN at epoch 2
    arrays["probe.hidden_2"][2:] = np.inf
    t = type(tiny_run.trajectory)(arrays, dict(tiny_run.trajectory.metadata))
    replay = Replay(t)
    assert replay.n_snapshots == 2 and list(replay.epochs) == [0.0, 1.0]
    assert replay.diverged_at_epoch == 2.0
    assert replay.notice == "training diverged at epoch 2 — replay stops there"
    for u in np.linspace(0, 1, 7):
        frame = replay.frame(u)
        assert frame.epoch <= 1.0
        assert np.all(np.isfinite(frame.probe)) and np.all(np.isfinite(frame.grid))


def test_a_run_that_diverged_at_once_cannot_be_replayed(tiny_run):
    from geomcore.errors import GeomcoreError, TrajectoryError

    arrays = {k: v[:1].copy() if v.shape[:1] == (4,) else v for k, v in
              tiny_run.trajectory.arrays.items()}
    meta = {**tiny_run.trajectory.metadata, "diverged": True, "diverged_at_epoch": 0.3}
    t = type(tiny_run.trajectory)(arrays, meta)
    with pytest.raises(TrajectoryError) as info:
        Replay(t)
    assert str(info.value) == ("tiny: a replay needs at least 2 finite snapshots; it has 1; "
                               "training diverged at epoch 0.3")
    assert isinstance(info.value, GeomcoreError) and isinstance(info.value, ValueError)


def test_a_run_that_never_moves_still_has_a_valid_clock(tiny_run):
    from helpers import crafted

    def collapse(arrays):  # every input goes to one point, at every snapshot
        arrays["kernel.hidden_1"][:] = 0.0
        arrays["kernel.hidden_2"][:] = arrays["kernel.hidden_2"][:1]
        arrays["bias.hidden_2"][:] = arrays["bias.hidden_2"][:1]
        arrays["bias.hidden_1"][:] = arrays["bias.hidden_1"][:1]

    t = crafted(tiny_run.trajectory, collapse)
    for min_speed in (0.0, 0.25):
        replay = Replay(t, min_speed=min_speed)
        assert np.all(replay.change == 0.0)
        u = np.linspace(0, 1, 21)
        s = np.array([replay.snapshot_at(v) for v in u])
        assert np.all(np.isfinite(s)) and np.all(np.diff(s) >= 0)
        assert s[0] == 0.0 and s[-1] == pytest.approx(replay.n_snapshots - 1)
        assert replay.progress_at(1.0) == pytest.approx(1 / 3, abs=1e-6)  # uniform
        probe = replay.frame(0.4).probe
        np.testing.assert_allclose(probe, np.broadcast_to(probe[0], probe.shape))
