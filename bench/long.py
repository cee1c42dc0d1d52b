"""Benchmark: file size and peak memory of long runs (circles-3d for 100 and 2,000 epochs).

Usage (from the repository root)::

    .venv/bin/python bench/long.py [--epochs 100 2000] [--keep DIR]

Each run is recorded by the in-graph engine (the default trainer) with the circles-3d
experiment's epochs overridden, in a fresh child process, and saved; then, in another fresh
child process, the file is loaded (``Trajectory.load``, as the cache does; and lazily, when
this geomcore loads lazily) and its replay built (:class:`~geomcore.replay.Replay`) with one
frame's geometry computed. A child's peak memory is its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``: imports included, so TensorFlow's share is
in every recording figure). The last lines print the ratios of the longest run to the
shortest. Targets (issue 15): the 2,000-epoch file at most 50 MB, and each peak within 1.3x
of the 100-epoch run's.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Issue 15's targets.
MAX_FILE_MB = 50.0
MAX_PEAK_RATIO = 1.3


def _peak_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_record(epochs: int, path: Path) -> dict:
    from geomcore.experiment import find_experiment
    from geomcore.training import record_experiment

    base = find_experiment("circles-3d")
    experiment = base.replace(training=dataclasses.replace(base.training, epochs=epochs))
    start = time.perf_counter()
    trajectory = record_experiment(experiment)
    trajectory.save(path)
    return {
        "seconds": time.perf_counter() - start,
        "snapshots": trajectory.n_snapshots,
        "peak_mib": _peak_mib(),
        "bytes": path.stat().st_size,
    }


def _child_replay(path: Path, lazy: bool) -> dict:
    from geomcore.replay import Replay
    from geomcore.trajectory import Trajectory

    before = _peak_mib()
    start = time.perf_counter()
    trajectory = Trajectory.load(path, lazy=True) if lazy else Trajectory.load(path)
    replay = Replay(trajectory)
    frame = replay.frame(0.5)
    return {
        "seconds": time.perf_counter() - start,
        "peak_mib": _peak_mib(),
        "imports_mib": before,
        # A fingerprint of one frame's geometry: the same file must give the same frame.
        "frame": [float(frame.snapshot), float(frame.grid.sum()), float(frame.probe.sum())],
    }


def _run_child(*args: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True,
        text=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loads_lazily() -> bool:
    from geomcore.trajectory import Trajectory

    return "lazy" in inspect.signature(Trajectory.load).parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[100, 2000],
                        help="epochs of each run (the first is the reference of the ratios)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder to keep the recorded files in (default: a temporary one)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "record":
            result = _child_record(int(rest[0]), Path(rest[1]))
        else:
            result = _child_replay(Path(rest[0]), lazy=kind == "lazy")
        print(json.dumps(result))
        return

    lazy = _loads_lazily()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for epochs in args.epochs:
            path = folder / f"circles-3d-{epochs}.npz"
            rec = _run_child("record", str(epochs), str(path))
            rep = _run_child("replay", str(path))
            lz = _run_child("lazy", str(path)) if lazy else None
            rows.append((epochs, rec, rep, lz))
            print(
                f"{epochs:5d} epochs  {rec['snapshots']:5d} snapshots  "
                f"file {rec['bytes'] / 1e6:7.1f} MB  "
                f"record peak {rec['peak_mib']:6.0f} MiB ({rec['seconds']:5.0f} s)  "
                f"replay peak {rep['peak_mib']:6.0f} MiB ({rep['seconds']:4.1f} s; "
                f"imports {rep['imports_mib']:.0f} MiB)"
                + (f"  lazy replay peak {lz['peak_mib']:6.0f} MiB ({lz['seconds']:4.1f} s)"
                   if lz else ""),
                flush=True,
            )
            if lz and lz["frame"] != rep["frame"]:
                print(f"      lazy and full loads give different frames: {lz['frame']} "
                      f"!= {rep['frame']}")
    (e0, r0, p0, l0), (e1, r1, p1, l1) = rows[0], rows[-1]
    ratio = e1 / e0
    print(f"ratios {e1}/{e0} epochs (x{ratio:g} snapshots' worth of training):")
    print(f"  file size    x{r1['bytes'] / r0['bytes']:.2f}  ({r1['bytes'] / 1e6:.1f} MB; "
          f"target <= {MAX_FILE_MB:g} MB)")
    print(f"  record peak  x{r1['peak_mib'] / r0['peak_mib']:.2f}  (target <= "
          f"{MAX_PEAK_RATIO:g})")
    print(f"  replay peak  x{p1['peak_mib'] / p0['peak_mib']:.2f}  (target <= "
          f"{MAX_PEAK_RATIO:g})")
    if l0 and l1:
        print(f"  lazy replay peak x{l1['peak_mib'] / l0['peak_mib']:.2f}")


if __name__ == "__main__":
    main()
