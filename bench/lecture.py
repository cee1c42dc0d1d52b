"""Benchmark: the whole lecture rendered serially and in parallel; wall time, real-time factor.

Usage (from the repository root)::

    .venv/bin/python bench/lecture.py                 # 720p30
    .venv/bin/python bench/lecture.py --quality h     # 1080p60
    .venv/bin/python bench/lecture.py --variants serial,parallel --compare

Each variant renders the lecture in fresh processes into a temporary media folder:

- ``serial``: ``manim render scenes/circles.py`` (one process, Manim's default of one
  partial movie file encoded at a time);
- ``serial-overlap``: the same with ``--max-inflight-encoders N`` (encoding overlapped with
  rendering);
- ``parallel``: ``python -m scenes.render_parallel`` (one Dask worker a core, one part a
  chapter, joined) with one encoder in flight per part;
- ``parallel-overlap``: the same with N encoders in flight per part (what ``make video``
  runs).

Beside them, Manim's own floor in the same run: a scene of one moving circle at the same
quality (its render only, in a fresh process). The real-time factor is seconds of video per
second of wall time (above 1: faster than real time). Wall times include process start-up
and, for the parallel render, starting the local Dask cluster and joining the parts.
Each render's CPU time (all its processes and threads) is printed too, and with it the cores
it kept busy on average: a serial render whose encoder threads already keep most of the
machine busy leaves a parallel one little to gain (on ``c`` cores, at most ``c / busy``).
Targets on the 2-core reference machine: parallel >= 1.7x serial; the 1080p60 lecture at
>= 0.5 real time. Missing trajectories are recorded first (not counted).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUALITIES = {"l": "480p15", "m": "720p30", "h": "1080p60"}
VARIANTS = ("serial", "serial-overlap", "parallel", "parallel-overlap")

FLOOR_SCRIPT = """
import json, sys, time
import manim as mn
seconds, quality, media = float(sys.argv[1]), sys.argv[2], sys.argv[3]
class Floor(mn.Scene):
    def construct(self):
        dot = mn.Circle(radius=0.5, color=mn.BLUE, fill_opacity=0.5).shift(4 * mn.LEFT)
        self.add(dot)
        self.play(dot.animate.shift(8 * mn.RIGHT), run_time=seconds, rate_func=mn.linear)
with mn.tempconfig({"quality": quality, "disable_caching": True, "media_dir": media,
                    "progress_bar": "none", "verbosity": "WARNING",
                    "background_color": "#101418"}):
    start = time.perf_counter()
    Floor().render()
    print(json.dumps({"seconds": time.perf_counter() - start}))
"""
QUALITY_NAMES = {"l": "low_quality", "m": "medium_quality", "h": "high_quality"}


def _env() -> dict[str, str]:
    env = dict(os.environ, GEOMCORE_VOICE="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _children_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in the repository root; its wall time and CPU time in seconds (all
    its processes and threads: the CPU time over the wall time is how many cores it kept
    busy on average)."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"failed: {' '.join(command)}\n{tail}")
    return elapsed, cpu


def _frames(movie: Path) -> int:
    import av

    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size)


def _same_frames(a: Path, b: Path) -> tuple[int, int]:
    """(frames compared, frames that differ) between two movies, decoded."""
    import av
    import numpy as np

    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        n = differ = 0
        for fa, fb in zip(ca.decode(video=0), cb.decode(video=0)):
            n += 1
            differ += not np.array_equal(fa.to_ndarray(format="rgb24"),
                                         fb.to_ndarray(format="rgb24"))
    return n, differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", "-q", choices=list(QUALITIES), default="m",
                        help="m: 720p30 (default), h: 1080p60, l: 480p15")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--inflight", type=int, default=4,
                        help="max_inflight_encoders of the -overlap variants (default 4)")
    parser.add_argument("--workers", type=int, help="local Dask workers (default: a core each)")
    parser.add_argument("--floor-seconds", type=float, default=20.0)
    parser.add_argument("--compare", action="store_true",
                        help="decode serial and parallel movies and compare every frame")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; expected some of {list(VARIANTS)}")

    # Record missing trajectories first: not part of any render's time.
    subprocess.run([sys.executable, "-c", "from scenes.stage import LectureRuns, WIDTHS\n"
                    "r = LectureRuns()\n[r.trajectory(w) for w in WIDTHS]\n"
                    "r.trajectory('circles-relu')"], cwd=ROOT, env=_env(), check=True)
    quality_dir = QUALITIES[args.quality]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"lecture at {quality_dir}; {cores} cores, load average {load:.1f} at start")

    results: dict[str, tuple[float, int]] = {}
    movies: dict[str, Path] = {}
    parts: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-lecture-") as tmp:
        out = subprocess.run(
            [sys.executable, "-c", FLOOR_SCRIPT, str(args.floor_seconds),
             QUALITY_NAMES[args.quality], str(Path(tmp) / "floor")],
            cwd=ROOT, env=_env(), capture_output=True, text=True, check=True)
        floor_wall = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
        floor_rtf = args.floor_seconds / floor_wall
        print(f"{'floor (one circle)':24s} {floor_wall:7.1f} s for {args.floor_seconds:g} s "
              f"of video: {floor_rtf:5.2f}x real time")
        for variant in variants:
            media = Path(tmp) / variant
            inflight = args.inflight if variant.endswith("overlap") else 1
            if variant.startswith("serial"):
                command = [sys.executable, "-m", "manim", "render", "scenes/circles.py",
                           f"-q{args.quality}", "--media_dir", str(media),
                           "--max-inflight-encoders", str(inflight), "--progress_bar", "none"]
            else:
                command = [sys.executable, "-m", "scenes.render_parallel", "-q", args.quality,
                           "--media-dir", str(media), "--max-inflight-encoders", str(inflight),
                           "--keep-parts"]
                if args.workers:
                    command += ["--workers", str(args.workers)]
            wall, cpu = _run(command)
            movie = media / "videos" / "circles" / quality_dir / "CirclesLecture.mp4"
            frames = _frames(movie)
            results[variant], movies[variant] = (wall, frames), movie
            fps = int(quality_dir.split("p")[1])
            video_s = frames / fps
            line = (f"{variant + f' (encoders {inflight})':24s} {wall:7.1f} s for "
                    f"{video_s:.1f} s of video: {video_s / wall:5.2f}x real time, "
                    f"{video_s / wall / floor_rtf:4.2f} of the floor; {cpu:.0f} s of CPU, "
                    f"{cpu / wall:.2f} cores busy")
            if variant.startswith("parallel"):
                manifests = sorted((movie.parent / "parts").glob("*/CirclesLecture.json"))
                parts[variant] = [json.loads(m.read_text()) for m in manifests]
                busy = sum(p["render_seconds"] for p in parts[variant])
                longest = max(p["render_seconds"] for p in parts[variant])
                line += f"; parts: {busy:.0f} s of rendering in all, longest {longest:.0f} s"
            print(line, flush=True)
        if args.compare:
            serial = next((v for v in variants if v.startswith("serial")), None)
            for variant in [v for v in variants if v.startswith("parallel")]:
                if serial is not None:
                    n, differ = _same_frames(movies[serial], movies[variant])
                    print(f"{variant} against {serial}: {n} frames compared, {differ} differ")

    print("ratios (same run)")
    for fast, slow in (("parallel", "serial"), ("parallel-overlap", "serial"),
                       ("parallel-overlap", "serial-overlap"), ("serial-overlap", "serial"),
                       ("parallel-overlap", "parallel")):
        if fast in results and slow in results:
            target = "   (target >= 1.7)" if slow.startswith("serial") and \
                fast.startswith("parallel") else ""
            print(f"  {fast} / {slow}: {results[slow][0] / results[fast][0]:.2f}x faster"
                  f"{target}")
    best = min(results, key=lambda v: results[v][0]) if results else None
    if best is not None and args.quality == "h":
        wall, frames = results[best]
        print(f"  1080p60 real-time factor ({best}): {frames / 60 / wall:.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()
