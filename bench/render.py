"""Benchmark: render the width-3 training replay at 1080p60 beside Manim's own floor.

Usage (from the repository root)::

    .venv/bin/python bench/render.py [--seconds 20] [--quality high_quality] [--runs 1]

Two scenes are rendered in this one process, at the same quality and for the same number of
frames, encoding included: the replay panel of circles-3d, and Manim's *floor*, a scene of
one moving circle (what any frame costs: clearing the canvas, copying and encoding it). The
script prints both frame rates and their ratio (replay / floor); on a loaded machine the
ratio is the figure that counts, since both renders share the load. It also prints the CPU
time per frame of each (all threads, the encoder's included), which depends less on what
else the machine runs. With ``--runs N`` floor and replay alternate N times and the medians
are printed too.

Both scenes are encoded with the settings of the ``manim.cfg`` of the folder the script runs
in (the repository's: x264's "veryfast" preset, printed with the results). The trajectory is
recorded first if it is not cached (that time is not counted). Targets on
the 2-core reference machine: the replay at >= 0.8 of the floor's frames/s, and at least 30
frames/s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time

import manim as mn

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.replay import Replay
from geomcore.views import ReplayPanel, add_layered


class _Replay(mn.Scene):
    """The training replay panel, played once over :attr:`seconds`."""

    seconds = 20.0
    replay: Replay

    def construct(self) -> None:
        panel = ReplayPanel(self.replay, title="circles-3d: hidden layer (2 units)")
        add_layered(self, panel)
        self.play(panel.play_training(self.seconds))


class _Floor(mn.Scene):
    """Manim's floor: one circle moving across the frame for :attr:`seconds`."""

    seconds = 20.0

    def construct(self) -> None:
        circle = mn.Circle(radius=1.0).shift(3 * mn.LEFT)
        self.add(circle)
        self.play(circle.animate.shift(6 * mn.RIGHT), run_time=self.seconds,
                  rate_func=mn.rate_functions.linear)


def _cpu_seconds() -> float:
    """CPU time of this process so far, all threads (the encoder's too), seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _render(scene_class: type[mn.Scene], quality: str) -> tuple[float, float, float, int]:
    """Render ``scene_class`` once to a throw-away folder.

    Returns (wall seconds, CPU seconds of all threads, CPU seconds of this thread: scene
    updates and drawing, frames written); the rest of the CPU time is the encoder threads'.
    """
    with tempfile.TemporaryDirectory() as media, mn.tempconfig(
        {"quality": quality, "disable_caching": True, "media_dir": media,
         "progress_bar": "none", "verbosity": "WARNING"}
    ):
        scene = scene_class()
        start, cpu, main = time.perf_counter(), _cpu_seconds(), time.thread_time()
        scene.render()
        elapsed, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        main = time.thread_time() - main
        frames = round(scene.renderer.time * mn.config.frame_rate)
    return elapsed, cpu, main, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="replay length, seconds")
    parser.add_argument("--quality", default="high_quality", help="manim quality name")
    parser.add_argument("--runs", type=int, default=1, help="floor/replay pairs to render")
    args = parser.parse_args()
    if args.runs < 1 or args.seconds <= 0:
        parser.error(f"--runs must be >= 1 and --seconds > 0; received {args.runs}, "
                     f"{args.seconds:g}")
    trajectory, path = load_or_record(find_experiment("circles-3d"))
    _Replay.seconds = _Floor.seconds = args.seconds
    _Replay.replay = Replay(trajectory)
    with mn.tempconfig({"quality": args.quality}):
        fps = mn.config.frame_rate
        size = f"{mn.config.pixel_width}x{mn.config.pixel_height}"
        encoder = dict(mn.config.video_encoder_options) or "Manim's defaults"
    floor_rates, replay_rates, ratios, floor_cpu, replay_cpu = [], [], [], [], []
    floor_draw, replay_draw = [], []
    replay_elapsed = 0.0
    print(f"trajectory        {path.name} ({trajectory.n_snapshots} snapshots)")
    for run in range(args.runs):
        floor_elapsed, cpu, main, floor_frames = _render(_Floor, args.quality)
        floor_cpu.append(1000 * cpu / floor_frames)
        floor_draw.append(1000 * main / floor_frames)
        replay_elapsed, cpu, main, frames = _render(_Replay, args.quality)
        replay_cpu.append(1000 * cpu / frames)
        replay_draw.append(1000 * main / frames)
        floor_rates.append(floor_frames / floor_elapsed)
        replay_rates.append(frames / replay_elapsed)
        ratios.append(replay_rates[-1] / floor_rates[-1])
        if args.runs > 1:
            print(f"run {run + 1:<13d} replay {replay_rates[-1]:.1f} frames/s, floor "
                  f"{floor_rates[-1]:.1f} frames/s, ratio {ratios[-1]:.2f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    replay_fps, floor_fps = statistics.median(replay_rates), statistics.median(floor_rates)
    median = " (medians)" if args.runs > 1 else ""
    print(f"video             {size} at {fps:g} fps, {args.seconds:g} s = {frames} frames; "
          f"encoder options {encoder} (manim.cfg), both scenes")
    print(f"render time       {replay_elapsed:.1f} s (last run, encoding included)")
    print(f"frames per second {replay_fps:.1f}   (target >= 30){median}")
    print(f"floor             {floor_fps:.1f} frames/s (one moving circle, same frames){median}")
    print(f"replay / floor    {statistics.median(ratios):.2f}   (target >= 0.8){median}")
    replay_ms, floor_ms = statistics.median(replay_cpu), statistics.median(floor_cpu)
    print(f"CPU per frame     replay {replay_ms:.1f} ms, floor {floor_ms:.1f} ms (all threads, "
          f"encoding included): floor / replay {floor_ms / replay_ms:.2f}{median}")
    for name, total, draw in (("replay", replay_ms, replay_draw),
                              ("floor", floor_ms, floor_draw)):
        drawn = statistics.median(draw)
        print(f"  {name:<15s} {drawn:.1f} ms updating and drawing, {total - drawn:.1f} ms "
              f"encoding (encoder threads){median}")
    print(f"peak memory       {peak_mib:.0f} MiB (resident, whole process)")


if __name__ == "__main__":
    main()
