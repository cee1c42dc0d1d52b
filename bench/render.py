"""Benchmark: render the width-3 training replay at 1080p60; print frames/s and peak memory.

Usage (from the repository root)::

    .venv/bin/python bench/render.py [--seconds 20] [--quality high_quality]

The trajectory is recorded first if it is not cached (that time is not counted). Target on
the 2-core reference machine: at least 30 frames/s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import manim as mn

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.replay import Replay
from geomcore.views import ReplayPanel, add_layered


class _Bench(mn.Scene):
    seconds = 20.0
    replay: Replay

    def construct(self) -> None:
        panel = ReplayPanel(self.replay, title="circles-3d: hidden layer (2 units)")
        add_layered(self, panel)
        self.play(panel.play_training(self.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="replay length, seconds")
    parser.add_argument("--quality", default="high_quality", help="manim quality name")
    args = parser.parse_args()
    trajectory, path = load_or_record(find_experiment("circles-3d"))
    replay = Replay(trajectory)
    with tempfile.TemporaryDirectory() as media, mn.tempconfig(
        {"quality": args.quality, "disable_caching": True, "media_dir": media,
         "progress_bar": "none", "verbosity": "WARNING"}
    ):
        _Bench.seconds, _Bench.replay = args.seconds, replay
        fps = mn.config.frame_rate
        size = f"{mn.config.pixel_width}x{mn.config.pixel_height}"
        scene = _Bench()
        start = time.perf_counter()
        scene.render()
        elapsed = time.perf_counter() - start
    frames = round(args.seconds * fps)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"trajectory        {path.name} ({trajectory.n_snapshots} snapshots)")
    print(f"video             {size} at {fps:g} fps, {args.seconds:g} s = {frames} frames")
    print(f"render time       {elapsed:.1f} s (encoding included)")
    print(f"frames per second {frames / elapsed:.1f}   (target >= 30)")
    print(f"peak memory       {peak_mib:.0f} MiB (resident, whole process)")


if __name__ == "__main__":
    main()
