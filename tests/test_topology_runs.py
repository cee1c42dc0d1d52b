"""geomcore.topology on the lecture's recorded runs (slow: they are trained once a session)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from geomcore.cache import load_or_record
from geomcore.cli import main
from geomcore.experiment import find_experiment
from geomcore.replay import Replay, boundary_contours
from geomcore.topology import (
    inner_region,
    linear_regions,
    nesting_at,
    nesting_lost,
    ring_curves,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_width_2_rings_stay_nested_wherever_every_kernel_is_invertible(seed, lecture_dir):
    # Theorem: a tanh layer with an invertible 2x2 kernel is injective, so the composition
    # maps the outer ring to a Jordan curve winding once around the inner ring's image.
    experiment = find_experiment("circles-2d").replace(seed=seed)
    traj, _ = load_or_record(experiment, directory=lecture_dir, progress=False)
    rings = ring_curves(traj)
    checked = 0
    for s in range(traj.n_snapshots):
        net = traj.network(s)
        dets = [abs(np.linalg.det(k.astype(np.float64))) for k in net.kernels[:-1]]
        if min(dets) < 1e-6:
            continue
        n = nesting_at(net, rings)
        assert n.nested and abs(n.winding) == 1, (seed, s, n.winding, n.enclosed)
        checked += 1
    assert checked >= traj.n_snapshots - 2


def test_width_3_winding_becomes_0_once_the_rings_are_separated(lecture_runs):
    traj = lecture_runs["circles-3d"].trajectory
    replay = Replay(traj)
    rings = ring_curves(traj)
    event = nesting_lost(replay)
    assert event.nested[0] and event.epoch is not None
    separated = np.flatnonzero(traj.accuracy >= 0.999)
    assert separated.size
    assert event.epoch <= traj.epochs[separated[0]]
    for s in separated:
        n = nesting_at(traj.network(int(s)), rings)
        assert n.winding == 0 and not n.nested and n.enclosed == 0.0, s


def test_inspect_json_reports_when_nesting_is_lost(lecture_runs):
    runner = CliRunner()
    out = {}
    for name in ("circles-2d", "circles-3d"):
        result = runner.invoke(main, ["inspect", "--json", str(lecture_runs[name].path)])
        assert result.exit_code == 0, result.output
        out[name] = json.loads(result.output)
    assert out["circles-2d"]["nesting_lost_at_epoch"] is None
    assert out["circles-2d"]["nesting_lost_reason"] == "the rings stay nested at every snapshot"
    event = nesting_lost(Replay(lecture_runs["circles-3d"].trajectory))
    assert out["circles-3d"]["nesting_lost_at_epoch"] == round(event.epoch, 4)
    assert 0 < event.epoch < 100


def test_width_2_inner_region_reaches_the_edge_of_a_large_box(lecture_runs):
    traj = lecture_runs["circles-2d"].trajectory
    region = inner_region(traj.network(-1), ring_curves(traj))
    assert region.unbounded and region.klass == 0 and region.share > 0.9


def test_relu_run_exact_regions_and_boundary(lecture_dir):
    traj, _ = load_or_record(find_experiment("circles-relu"), directory=lecture_dir,
                             progress=False)
    box = traj.bounds
    counts = []
    for s in range(traj.n_snapshots):
        regions = linear_regions(traj.network(s), box)
        counts.append(regions.count)
        assert regions.count <= regions.bound == 16
    assert min(counts) >= 2
    net = traj.network(-1)
    exact = linear_regions(net, box).boundary
    traced = np.concatenate(boundary_contours(net, box, resolution=160))
    spacing = max(box[1] - box[0], box[3] - box[2]) / 159
    a = np.array([s[0] for s in exact])[None]
    b = np.array([s[1] for s in exact])[None]
    p = traced[:, None]
    t = np.clip(np.sum((p - a) * (b - a), -1) / np.sum((b - a) ** 2, -1), 0, 1)
    gap = np.min(np.linalg.norm(p - (a + t[..., None] * (b - a)), axis=-1), axis=1)
    assert np.max(gap) < spacing
