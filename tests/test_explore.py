"""The offline explorer (geomcore.explore, ``geomcore explore``), checked in a real browser.

The page is opened in Debian's headless Chromium driven by Playwright (which never downloads
a browser here). Its forward pass is compared with :class:`geomcore.replay.Replay`, the pixel
under drawn points with the video's class colours. Without Chromium or Playwright the browser
tests are skipped, or fail under CI (env ``CI`` set), where the set-up must have installed them.
Trajectories are synthetic (no TensorFlow) and small. ``make test-fast`` runs the core browser
checks (positions against numpy, colours under points); the other browser tests are marked
slow to keep it short, and run in ``make test``.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import chromium_context

from geomcore.cli import main
from geomcore.errors import TrajectoryError
from geomcore.explore import explorer_data, explorer_html, style_colors, write_explorer
from geomcore.geometry import Network, grid_lines
from geomcore.replay import Replay
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

#: Progress values checked against numpy (a snapshot, between snapshots, the end).
PROGRESS = (0.0, 0.4137, 1.0)
VIEWPORT = {"width": 960, "height": 900}


# -- a synthetic run ----------------------------------------------------------------------------
def synthetic(
    *, widths: tuple[int, ...] = (3, 2), snapshots: int = 9, per_class: int = 40,
    activation: str = "tanh", seed: int = 0, diverge_at: int | None = None,
    final_kick: float = 1.0,
) -> Trajectory:
    """A recorded-looking run of a 2-...-1 network whose weights drift and wiggle.

    Concentric rings (outer ring class 1, as the lecture's data); loss and accuracy computed
    from the weights; from snapshot ``diverge_at`` on every weight is NaN (a diverged tail).
    """
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2, per_class, endpoint=False)
    ring = np.column_stack([np.sin(np.pi * t), np.cos(np.pi * t)])
    probe = np.concatenate([0.5 * ring, ring]).astype(np.float32)
    labels = np.repeat([0, 1], per_class).astype(np.int64)
    bounds = (-1.2, 1.2, -1.2, 1.2)
    grid = grid_lines(bounds, lines=7, samples=30)
    names = [f"hidden_{i + 1}" for i in range(len(widths))] + ["output"]
    all_widths = [*widths, 1]
    acts = [activation] * len(widths) + ["sigmoid"]
    fan = [2, *all_widths[:-1]]
    start = [rng.normal(0, 1.2, (f, w)) for f, w in zip(fan, all_widths)]
    drift = [rng.normal(0, 0.8 * final_kick, (f, w)) for f, w in zip(fan, all_widths)]
    b_start = [rng.normal(0, 0.3, w) for w in all_widths]
    s_idx = np.arange(snapshots)
    arrays: dict[str, Any] = {
        "epoch": s_idx.astype(np.float64),
        "step": (s_idx * 10).astype(np.int64),
        "probe_inputs": probe,
        "probe_labels": labels,
        "grid_inputs": grid,
    }
    kernels = {n: np.zeros((snapshots, f, w), np.float32)
               for n, f, w in zip(names, fan, all_widths)}
    biases = {n: np.zeros((snapshots, w), np.float32) for n, w in zip(names, all_widths)}
    loss, acc, boundary = [], [], []
    images = {n: ([], []) for n in names[:-1]}
    for s in s_idx:
        x = s / max(snapshots - 1, 1)
        for n, k0, dk, b0 in zip(names, start, drift, b_start):
            kernels[n][s] = k0 + x * dk + 0.15 * np.sin(3.0 * s) * dk
            biases[n][s] = b0 * (1 - x) + 0.1 * np.cos(2.0 * s)
        if diverge_at is not None and s >= diverge_at:
            for n in names:
                kernels[n][s] = np.nan
                biases[n][s] = np.nan
        net = Network(tuple(kernels[n][s] for n in names), tuple(biases[n][s] for n in names),
                      tuple(acts), tuple(names))
        with np.errstate(invalid="ignore"):
            lo, ac = net.loss_and_accuracy(probe, labels)
            for n in names[:-1]:
                images[n][0].append(net.forward(probe, upto=n))
                images[n][1].append(net.forward(grid.reshape(-1, 2), upto=n).reshape(
                    *grid.shape[:2], -1))
        loss.append(lo if np.isfinite(lo) else np.nan)
        acc.append(ac if np.isfinite(lo) else np.nan)
        boundary.append(net.boundary_coefficients())
    arrays["loss"] = np.array(loss)
    arrays["accuracy"] = np.array(acc)
    arrays["boundary"] = np.array(boundary)
    for n in names:
        arrays[f"kernel.{n}"] = kernels[n]
        arrays[f"bias.{n}"] = biases[n]
    for n in names[:-1]:
        arrays[f"probe.{n}"] = np.array(images[n][0], dtype=np.float32)
        arrays[f"grid.{n}"] = np.array(images[n][1], dtype=np.float32)
    metadata = {
        "schema_version": SCHEMA_VERSION,
        "experiment": {"name": "synthetic"},
        "seed": seed, "data_hash": "0" * 64, "versions": {}, "created": "2026-01-01T00:00:00",
        "layer_names": names, "activations": acts, "widths": all_widths, "loss": "mse",
        "steps_per_epoch": 10, "bounds": list(bounds), "trainer": "engine",
        "diverged": diverge_at is not None,
        "diverged_at_epoch": float(diverge_at) if diverge_at is not None else None,
        "class_counts": [per_class, per_class],
    }
    return Trajectory(arrays, metadata)


@pytest.fixture(scope="module")
def run() -> Trajectory:
    return synthetic()


# -- the browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Playwright context of Debian's headless Chromium, fresh profile, 1 CSS px = 1 px."""
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), VIEWPORT) as context:
        yield context


class Opened:
    """A page opened in the browser, with what it logged and requested."""

    def __init__(self, context: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and self.errors.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.geomcore !== undefined")

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)


@pytest.fixture
def opened(browser: Any, run: Trajectory, tmp_path: Path) -> Iterator[Opened]:
    page = Opened(browser, write_explorer(run, tmp_path / "run.html"))
    yield page
    page.page.close()


def pixel(png: bytes, x: float, y: float) -> tuple[int, int, int]:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.getpixel((int(np.floor(x)), int(np.floor(y))))


def video_class_colors() -> dict[int, tuple[int, int, int]]:
    """The class colours of the video, from Manim's colour objects."""
    from geomcore.views.style import CLASS_COLORS

    return {c: tuple(int(round(255 * v)) for v in col.to_rgb()) for c, col in CLASS_COLORS.items()}


# -- same numbers as Python -------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["hidden_1", "hidden_2"])
def test_page_positions_equal_numpy_replay(opened: Opened, run: Trajectory, layer: str) -> None:
    replay = Replay(run, layer=layer)
    index = np.array(opened.js("geomcore.probeIndex"))
    for u in PROGRESS:
        got = np.array(opened.js("([u, l]) => geomcore.positions(u, l)", [u, layer]))
        want = replay.frame(u).probe[index]
        assert got.shape == want.shape == (run.probe_inputs.shape[0], run.widths[
            run.layer_names.index(layer)])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
        s = opened.js("([u, l]) => geomcore.snapshotAt(u, l)", [u, layer])
        assert s == pytest.approx(replay.snapshot_at(u), abs=1e-9)
    # Between snapshots, so the spline (not a recorded snapshot) was compared.
    assert not float(replay.snapshot_at(PROGRESS[1])).is_integer()
    assert opened.errors == []


@pytest.mark.slow
def test_page_clock_inverse_and_weights(opened: Opened, run: Trajectory) -> None:
    replay = Replay(run, layer="hidden_1")
    for s in (0.0, 2.5, 7.25, 8.0):
        u = opened.js("([s]) => geomcore.progressAt(s, 'hidden_1')", [s])
        assert u == pytest.approx(replay.progress_at(s), abs=1e-9)
    net = replay.network_at(0.63)
    want = np.concatenate([np.concatenate([k.reshape(-1), b])
                           for k, b in zip(net.kernels, net.biases)])
    got = np.array(opened.js("geomcore.weightsAt(0.63, 'hidden_1')"))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.slow
def test_page_decision_surface_equals_numpy(opened: Opened, run: Trajectory) -> None:
    from geomcore.anatomy import decision_surface

    replay = Replay(run, layer="hidden_1")
    shown = 0
    for u in PROGRESS:
        want = decision_surface(replay.network_at(u), samples=30)
        got = opened.js("([u]) => geomcore.surface(u, 'hidden_1')", [u])
        if want is None:
            assert got is None
            continue
        np.testing.assert_allclose(np.array(got), want.reshape(-1, 3), rtol=0, atol=1e-6)
        shown += 1
    assert shown >= 1
    assert opened.js("geomcore.surface(0.5, 'hidden_2')") is None


def test_pixel_under_point_has_its_class_colour(opened: Opened, run: Trajectory) -> None:
    colors = video_class_colors()
    labels = np.array(opened.js("geomcore.labels"))
    checked = 0
    for layer, panel, u in (("hidden_2", "hidden", 0.4137), ("hidden_1", "hidden", 1.0),
                            ("hidden_2", "input", 0.0)):
        opened.js("([u, l]) => geomcore.show(u, l)", [u, layer])
        screen = np.array(opened.js("([p]) => geomcore.screenPositions(p)", [panel]))
        png = opened.page.screenshot(full_page=True)
        for cls in (0, 1):
            # A point of this class with no point of the other class within 8 px.
            other = screen[labels != cls]
            dist = np.min(np.linalg.norm(screen[:, None] - other[None], axis=-1), axis=1)
            candidates = np.flatnonzero((labels == cls) & (dist > 8))
            assert candidates.size, f"no isolated point of class {cls} in {layer}"
            for i in candidates[:: max(1, candidates.size // 3)][:3]:
                got = pixel(png, *screen[i])
                assert np.max(np.abs(np.subtract(got, colors[cls]))) <= 2, (layer, cls, got)
                checked += 1
    assert checked >= 12
    assert opened.errors == []


@pytest.mark.slow
def test_page_loads_nothing_and_works_offline(browser: Any, run: Trajectory,
                                              tmp_path: Path) -> None:
    path = write_explorer(run, tmp_path / "offline.html")
    text = path.read_text(encoding="utf-8")
    # Every script and style inline: no element loads anything.
    assert re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)\s*=", text) is None
    assert "http://" not in text and "https://" not in text
    browser.set_offline(True)
    blocked: list[str] = []

    def block(route: Any) -> None:
        # The page's own file is let through; anything else is recorded and refused.
        if route.request.url == path.as_uri():
            route.continue_()
            return
        blocked.append(route.request.url)
        route.abort()

    browser.route("**/*", block)
    try:
        page = Opened(browser, path)
        page.js("geomcore.show(0.5, 'hidden_1')")
        assert page.js("geomcore.state.frames") >= 2
        got = np.array(page.js("geomcore.positions(0.5, 'hidden_1')"))
        np.testing.assert_allclose(
            got, Replay(run, layer="hidden_1").frame(0.5).probe, rtol=0, atol=1e-6)
        assert [u for u in page.requests if u != path.as_uri()] == []
        assert blocked == []
        assert page.errors == []
        page.page.close()
    finally:
        browser.unroute("**/*")
        browser.set_offline(False)


@pytest.mark.slow
def test_controls_scrub_play_and_turn(opened: Opened, run: Trajectory) -> None:
    page = opened.page
    # The scrubber: a drag sets the progress and the readout follows.
    page.locator("#scrubber").fill("0.5")
    page.wait_for_function("geomcore.state.u === 0.5")
    epoch = Replay(run).frame(0.5).epoch
    page.wait_for_function(f"document.getElementById('readout').textContent"
                           f".includes('epoch {epoch:6.2f}')")
    # Switching layer keeps the snapshot shown.
    s = opened.js("geomcore.state.snapshot")
    page.select_option("#layer", "hidden_1")
    page.wait_for_function("geomcore.state.layer === 'hidden_1'")
    assert opened.js("geomcore.snapshotAt(geomcore.state.u, 'hidden_1')") == pytest.approx(s)
    # Dragging the 3-D view turns the camera; the network's numbers stay.
    before = opened.js("geomcore.camera.azimuth")
    box = page.locator("#hidden").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    page.mouse.down()
    page.mouse.move(box["x"] + 260, box["y"] + 220, steps=4)
    page.mouse.up()
    assert opened.js("geomcore.camera.azimuth") == pytest.approx(before - 30)
    # Play at 4x runs the clock forward.
    page.select_option("#speed", "4")
    opened.js("geomcore.setProgress(0)")
    page.click("#play")
    page.wait_for_function("geomcore.state.u > 0.02", timeout=5000)
    page.click("#play")
    assert opened.js("geomcore.state.playing") is False
    assert opened.errors == []


@pytest.mark.slow
def test_wide_and_relu_layers(browser: Any, tmp_path: Path) -> None:
    # A 4-unit layer is drawn through its principal components; ReLU layers are unbounded;
    # a 1-unit layer is drawn on a line.
    for widths, activation in (((4, 2), "tanh"), ((3, 3), "relu"), ((1, 2), "tanh")):
        run = synthetic(widths=widths, activation=activation, seed=2)
        page = Opened(browser, write_explorer(run, tmp_path / f"{activation}.html"))
        for layer in run.hidden_layer_names:
            page.js("([l]) => geomcore.show(0.6, l)", [layer])
            got = np.array(page.js("([l]) => geomcore.positions(0.6, l)", [layer]))
            np.testing.assert_allclose(got, Replay(run, layer=layer).frame(0.6).probe,
                                       rtol=0, atol=1e-6)
            screen = np.array(page.js("geomcore.screenPositions('hidden')"))
            assert np.all((screen > 0) & (screen < 1000))
        hint = page.page.locator("#layer-hint").inner_text()
        assert ("principal components" in hint) == (widths[-1] > 3)
        page.js("([l]) => geomcore.show(0.6, l)", [run.hidden_layer_names[0]])
        hint = page.page.locator("#layer-hint").inner_text()
        assert ("principal components" in hint) == (widths[0] > 3)
        assert page.errors == []
        page.page.close()


# -- notices --------------------------------------------------------------------------------
@pytest.mark.slow
def test_diverged_tail_shows_finite_snapshots_and_notice(browser: Any, tmp_path: Path) -> None:
    run = synthetic(diverge_at=6)
    data = explorer_data(run)
    assert data["snapshots"] == 6
    assert any("diverged at epoch 6" in n for n in data["notices"])
    page = Opened(browser, write_explorer(run, tmp_path / "diverged.html"))
    assert page.js("geomcore.snapshots") == 6
    assert page.js("geomcore.epochAt(1, 'hidden_2')") == pytest.approx(5.0)
    got = np.array(page.js("geomcore.positions(1, 'hidden_2')"))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, Replay(run).frame(1.0).probe, rtol=0, atol=1e-6)
    notice = page.page.locator("#notices").inner_text()
    assert "training diverged at epoch 6" in notice
    assert page.errors == []
    page.page.close()


def test_run_that_did_not_learn_says_so() -> None:
    run = synthetic(seed=4)
    verdict = run.learning_verdict()
    data = explorer_data(run)
    assert (verdict in data["notices"]) == (verdict is not None)
    flat = synthetic(seed=1, final_kick=0.0)
    flat.arrays["accuracy"][:] = 0.5
    assert flat.learning_verdict() is not None
    assert flat.learning_verdict() in explorer_data(flat)["notices"]


# -- the writer -----------------------------------------------------------------------------
def test_style_colors_are_the_videos() -> None:
    from geomcore.views import style

    colors = style_colors()
    assert colors["CLASS_COLORS"] == {c: col.to_hex().lower()
                                      for c, col in style.CLASS_COLORS.items()}
    for name in ("BOUNDARY_COLOR", "GRID_COLOR", "TEXT_COLOR", "WARNING_COLOR"):
        assert colors[name] == getattr(style, name).to_hex().lower()


def test_page_data_round_trips_exactly(run: Trajectory) -> None:
    import base64

    def f64(text: str) -> np.ndarray:
        return np.frombuffer(base64.b64decode(text), dtype="<f8")

    data = explorer_data(run)
    replay = Replay(run, layer="hidden_1")
    np.testing.assert_array_equal(f64(data["weights"]), replay.weight_spline.c.ravel())
    np.testing.assert_array_equal(f64(data["clocks"]["hidden_1"]["c"]), replay.clock.c.ravel())
    np.testing.assert_array_equal(f64(data["probe"]).reshape(-1, 2), run.probe_inputs)
    np.testing.assert_array_equal(f64(data["grid"]).reshape(run.grid_inputs.shape),
                                  run.grid_inputs)
    assert data["labels"] == run.probe_labels.tolist()


def test_subsampled_probe_points_are_said(run: Trajectory) -> None:
    data = explorer_data(run, max_probe_points=25)
    index = np.array(data["probeIndex"])
    assert len(index) == 25 and np.all(np.diff(index) > 0)
    assert data["labels"] == run.probe_labels[index].tolist()
    assert any("showing 25 of the 80" in n for n in data["notices"])


def test_page_escapes_its_data(run: Trajectory) -> None:
    odd = synthetic()
    odd.metadata["experiment"] = {"name": "</script><b>x __SCRIPT__"}
    text = explorer_html(odd)
    assert text.count("</script>") == 2  # the data's and the code's elements, nothing else
    assert "<title>&lt;/script&gt;&lt;b&gt;x __SCRIPT__" in text


def test_cli_writes_page(run: Trajectory, tmp_path: Path) -> None:
    src = run.save(tmp_path / "run.npz")
    out = tmp_path / "out" / "run.html"
    result = CliRunner().invoke(main, ["explore", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    assert out.read_text(encoding="utf-8") == explorer_html(Trajectory.load(src))


def test_cli_refuses_damaged_npz_and_writes_nothing(run: Trajectory, tmp_path: Path) -> None:
    src = run.save(tmp_path / "run.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    out = tmp_path / "run.html"
    with pytest.raises(TrajectoryError) as info:
        Trajectory.load(damaged)
    result = CliRunner().invoke(main, ["explore", str(damaged), "-o", str(out)])
    assert result.exit_code != 0
    assert result.output.strip() == f"Error: {' '.join(str(info.value).split())}"
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    assert set(tmp_path.iterdir()) == {src, damaged}


def test_cli_keeps_old_page_when_the_run_cannot_be_replayed(tmp_path: Path) -> None:
    run = synthetic(diverge_at=1)
    src = run.save(tmp_path / "run.npz")
    out = tmp_path / "run.html"
    out.write_text("old", encoding="utf-8")
    result = CliRunner().invoke(main, ["explore", str(src), "-o", str(out)])
    assert result.exit_code != 0
    assert "needs at least 2 finite snapshots" in result.output
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.html", "run.npz"]


def test_notebook_shows_the_explorer(run: Trajectory) -> None:
    shown = run._repr_html_()
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" .*</iframe>', shown, flags=re.S)
    assert match is not None
    assert html.unescape(match.group(1)) == explorer_html(run)


def test_trajectory_module_stays_numpy_only() -> None:
    code = ("import sys, geomcore.trajectory; "
            "print(json.dumps([m in sys.modules for m in "
            "('geomcore.explore', 'manim', 'tensorflow')]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(
                             Path(__file__).resolve().parents[1])})
    assert json.loads(out.stdout) == [False, False, False]


# -- the lecture's runs -----------------------------------------------------------------------
@pytest.mark.slow
def test_lecture_pages_are_small(lecture_runs: dict[str, Any], tmp_path: Path) -> None:
    for name, lecture in lecture_runs.items():
        path = write_explorer(lecture.trajectory, tmp_path / f"{name}.html")
        assert path.stat().st_size < 5_000_000, name


@pytest.mark.slow
def test_screenshot_of_the_width_3_run(browser: Any, lecture_runs: dict[str, Any],
                                       tmp_path: Path) -> None:
    """The README's picture: circles-3d at epoch 16, its 3-unit layer in 3-D.

    With ``GEOMCORE_EXPLORER_SCREENSHOT=docs/explorer.png`` the picture is also saved there
    (a 256-colour PNG).
    """
    from PIL import Image

    run = lecture_runs["circles-3d"].trajectory
    page = Opened(browser, write_explorer(run, tmp_path / "circles-3d.html"))
    u = page.js("geomcore.progressAt(15.78, 'hidden_1')")
    page.js("([u]) => geomcore.show(u, 'hidden_1')", [u])
    assert page.js("geomcore.epochAt(geomcore.state.u, 'hidden_1')") == pytest.approx(15.78)
    box = page.page.locator("main").bounding_box()
    png = page.page.screenshot(clip=box)
    labels = np.array(page.js("geomcore.labels"))
    colors = video_class_colors()
    for panel in ("input", "hidden"):
        screen = np.array(page.js("([p]) => geomcore.screenPositions(p)", [panel]))
        screen -= [box["x"], box["y"]]
        for cls in (0, 1):
            other = screen[labels != cls]
            dist = np.min(np.linalg.norm(screen[:, None] - other[None], axis=-1), axis=1)
            i = np.flatnonzero((labels == cls) & (dist > 8))[0]
            assert np.max(np.abs(np.subtract(pixel(png, *screen[i]), colors[cls]))) <= 2
    assert page.errors == []
    page.page.close()
    target = os.environ.get("GEOMCORE_EXPLORER_SCREENSHOT")
    if target:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
