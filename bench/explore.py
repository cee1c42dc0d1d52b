"""Benchmark: scrub the circles-3d explorer page in headless Chromium; print frames/s.

Usage (from the repository root)::

    .venv/bin/python bench/explore.py [--seconds 5] [--layer hidden_1] [--chromium PATH]

The trajectory is recorded first if it is not cached, and the page written to a temporary
folder (neither is timed). Then, on every animation frame for ``--seconds``, the scrubber is
moved to a new progress value and an ``input`` event sent, as a dragging hand does; the page
redraws on its next animation frame. Printed: frames drawn per second (each a new forward
pass of probe points, grid and the 160 x 160 logit samples, drawn on the canvases), and the
mean and worst time the page spent computing and drawing one frame. Target on the 2-core
reference machine: at least 30 frames/s. Needs Debian's ``chromium`` and ``playwright``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from geomcore.cache import load_or_record
from geomcore.experiment import find_experiment
from geomcore.explore import write_explorer

#: Flags for a quiet, offline headless Chromium (Debian's build; Playwright downloads none).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

_SCRUB = """async ([seconds, layer]) => {
  geomcore.setLayer(layer);
  const scrubber = document.getElementById("scrubber");
  const times = [];
  await new Promise((r) => requestAnimationFrame(r));
  const f0 = geomcore.state.frames;
  const start = performance.now();
  let k = 0;
  let seen = f0;
  return await new Promise((resolve) => {
    function step(now) {
      const frames = geomcore.state.frames;
      if (frames > seen) { times.push(geomcore.lastRenderMs); seen = frames; }
      if (now - start >= seconds * 1000) {
        resolve({frames: frames - f0, elapsed: (now - start) / 1000, times});
        return;
      }
      k += 1;
      // A slow drag back and forth across the whole run.
      const u = 0.5 - 0.5 * Math.cos(k * 0.013);
      scrubber.value = String(u);
      scrubber.dispatchEvent(new Event("input"));
      requestAnimationFrame(step);
    }
    requestAnimationFrame(step);
  });
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="scrubbing time, seconds")
    parser.add_argument("--layer", default=None, help="viewed layer (default: the 3-D one)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser executable")
    args = parser.parse_args()
    trajectory, path = load_or_record(find_experiment("circles-3d"), progress=False)
    layer = args.layer or trajectory.hidden_layer_names[0]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        page_path = write_explorer(trajectory, Path(tmp) / "circles-3d.html")
        context = pw.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"), executable_path=args.chromium, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 960, "height": 860}, device_scale_factor=1,
        )
        page = context.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_function("window.geomcore !== undefined")
        page.evaluate(_SCRUB, [1.0, layer])  # warm-up: the JIT compiles the forward pass
        result = page.evaluate(_SCRUB, [args.seconds, layer])
        context.close()
        size = page_path.stat().st_size
    times = sorted(result["times"]) or [float("nan")]
    fps = result["frames"] / result["elapsed"]
    print(f"trajectory        {path.name} ({trajectory.n_snapshots} snapshots)")
    print(f"page              {size / 1e6:.2f} MB, layer {layer}")
    print(f"scrubbing         {result['elapsed']:.1f} s, {result['frames']} frames drawn")
    print(f"frames per second {fps:.1f}   (target >= 30)")
    print(f"time per frame    mean {sum(times) / len(times):.1f} ms, "
          f"worst {times[-1]:.1f} ms (forward passes and drawing)")


if __name__ == "__main__":
    main()
