"""The slide player (``make slides``) on a short stretch of the lecture, checked in a browser.

The lecture's first two chapters (title, data; the data drawn from a synthetic run with the
lecture's dataset settings) are rendered as slides at 320 x 180, 10 frames a second, then
converted by :func:`geomcore.slides.write_player`, as ``make slides`` does for the whole
lecture. reveal.js comes through npm (npm's cache, else the registry); without npm or
network the tests are skipped, or fail under CI. The page is opened in Debian's headless
Chromium driven by Playwright, as in ``test_explore.py``.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import manim as mn
import numpy as np
import pytest
from helpers import chromium_context, skip_or_fail

from geomcore.errors import GeomcoreError
from geomcore.experiment import find_experiment
from geomcore.narration import Narration
from geomcore.slides import fetch_revealjs, remote_references, write_player
from geomcore.trajectory import Trajectory
from scenes.lecture import CHAPTERS, chapter_title_text
from scenes.slides import LectureSlides
from scenes.stage import NARRATION_FILE, LectureRuns, LectureScene, narrator

pytestmark = pytest.mark.slow  # renders 20 s of the lecture: about 15 s on two busy cores

OPENING = CHAPTERS[:2]
CUES = ("title.intro", "title.promise", "data.rings", "data.task")


class _Opening(LectureSlides, LectureScene):
    """The lecture's first two chapters as :class:`scenes.circles.CirclesLecture` plays them."""

    runs: LectureRuns

    def construct(self) -> None:
        for index, ch in enumerate(OPENING):
            self.next_section(ch.section)
            if index:
                narrator(self).chapter_card(chapter_title_text(ch.section))
            ch.storyboard(self, self.runs)


@pytest.fixture(scope="module")
def player(tmp_path_factory: pytest.TempPathFactory, synthetic2: Trajectory) -> dict[str, Any]:
    """The opening rendered as slides and converted: the page, its path, the slides' JSON."""
    try:
        revealjs = fetch_revealjs(tmp_path_factory.mktemp("revealjs"))
    except GeomcoreError as error:
        skip_or_fail(f"reveal.js could not be fetched: {error}")
    metadata = copy.deepcopy(synthetic2.metadata)
    metadata["experiment"] = find_experiment("circles-2d").to_dict()
    _Opening.runs = LectureRuns(_cache={"circles-2d": Trajectory(dict(synthetic2.arrays),
                                                                 metadata)})
    media = tmp_path_factory.mktemp("player-media")
    config = {"media_dir": str(media), "pixel_width": 320, "pixel_height": 180,
              "frame_rate": 10, "disable_caching": True, "progress_bar": "none",
              "verbosity": "ERROR"}
    with mn.tempconfig(config):
        _Opening().render()
    path = write_player("_Opening", media / "player.html", folder=media / "slides",
                        revealjs_cache=revealjs.parent)
    return {"path": path, "page": path.read_text(encoding="utf-8"), "revealjs": revealjs,
            "json": json.loads((media / "slides" / "_Opening.json").read_text())}


def _sections(page: str) -> list[str]:
    return re.findall(r"<section\s[^>]*>.*?</section>", page, flags=re.S)


def test_the_page_holds_a_slide_per_chapter_and_cue_in_order(player):
    sections = _sections(player["page"])
    assert len(sections) == len(OPENING) + len(CUES) == 6
    chapters = [re.search(r'data-chapter="([^"]*)"', s).group(1) for s in sections]
    assert chapters == ["01 Title"] * 3 + ["02 The data"] * 3
    stops = [re.search(r'data-stop="([^"]*)"', s).group(1) for s in sections]
    assert stops == ["chapter", "cue", "cue"] * 2
    words = Narration.load(NARRATION_FILE)
    notes = [re.search(r'<aside class="notes">(.*?)</aside>', s, flags=re.S).group(1)
             for s in sections]
    assert notes == (["Chapter: 01 Title"] + [words[c] for c in CUES[:2]]
                     + ["Chapter: 02 The data"] + [words[c] for c in CUES[2:]])


def test_every_slide_video_is_inlined_byte_for_byte(player):
    sections = _sections(player["page"])
    for section, slide in zip(sections, player["json"]["slides"], strict=True):
        uri = re.search(r'data-background-video="data:video/mp4;base64,([^"]+)"', section)
        assert uri is not None
        assert base64.b64decode(uri.group(1)) == Path(slide["file"]).read_bytes()
        assert "data-background-video-muted" in section


def test_the_page_needs_no_network(player):
    page, revealjs = player["page"], player["revealjs"]
    assert remote_references(page) == []
    # Independently of remote_references: no http(s) src or href anywhere, no CDN named.
    assert re.findall(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, flags=re.I) == []
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"):
        assert cdn not in page
    # reveal.js, its style sheet and the notes plugin are in the page, whole.
    for name in ("dist/reveal.js", "dist/reveal.css", "dist/plugin/notes.js"):
        assert (revealjs / name).read_text(encoding="utf-8") in page


# -- in the browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A Playwright context of Debian's headless Chromium, fresh profile, 960 x 540."""
    viewport = {"width": 960, "height": 540}
    with chromium_context(tmp_path_factory.mktemp("chromium-profile"), viewport) as context:
        yield context


def _pixels(png: bytes) -> dict[str, int]:
    """Counts of bright pixels (a channel over 100 of 255, where the background is 16 to 24)
    and of orange (class 0) and blue (class 1) ones in a screenshot."""
    import io

    from PIL import Image

    r, g, b = np.moveaxis(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int),
                          -1, 0)
    return {"bright": int(np.sum(np.maximum(np.maximum(r, g), b) > 100)),
            "orange": int(np.sum((r > b + 50) & (r > g))), "blue": int(np.sum(b > r + 50))}


def test_arrow_keys_step_through_the_first_five_slides_without_errors(player, browser,
                                                                     tmp_path):
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: m.type in ("error", "warning")
            and errors.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(player["path"].as_uri())
        page.wait_for_function("window.Reveal !== undefined && Reveal.isReady()")
        assert page.evaluate("Reveal.getTotalSlides()") == 6
        assert page.evaluate("Reveal.getIndices().h") == 0
        assert page.locator("#chapter").text_content() == "01 Title"
        # The title chapter's stop is one still frame of the empty stage: only the label.
        assert _pixels(page.screenshot())["bright"] < 1000
        titles = []
        for index in range(1, 6):
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"Reveal.getIndices().h === {index}", timeout=5000)
            # The slide's video is loaded from its data: URI and plays.
            page.wait_for_function(
                "(() => { const v = Reveal.getCurrentSlide().slideBackgroundContentElement"
                ".querySelector('video'); return v !== null && v.src.startsWith("
                "'data:video/mp4;base64,') && v.readyState >= 2 && v.currentTime > 0; })()",
                timeout=10000)
            titles.append(page.title())
        assert titles == ["01 Title · How a neural network bends space"] * 2 + [
            "02 The data · How a neural network bends space"] * 3
        assert page.locator("#chapter").text_content() == "02 The data"
        time.sleep(0.5)
        png = page.screenshot(path=str(tmp_path / "slide5.png"))
        # The data chapter's last slide is on screen: heading, caption and facts (text), and
        # the legend's class colours (at 320 x 180 the ring dots are too faint to count).
        counts = _pixels(png)
        assert counts["bright"] > 5000 and counts["orange"] > 30 and counts["blue"] > 30, counts
        # Back on chapter 2's own stop (its video ends on an empty stage) the name stays up;
        # on a cue it goes after 4 s.
        assert page.locator("#chapter.shown").count() == 1
        page.wait_for_function("!document.getElementById('chapter').classList.contains("
                               "'shown')", timeout=8000)
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("Reveal.getIndices().h === 3", timeout=5000)
        assert page.evaluate("Reveal.getCurrentSlide().dataset.stop") == "chapter"
        time.sleep(4.5)
        assert page.locator("#chapter.shown").text_content() == "02 The data"
    finally:
        page.close()
    assert errors == []
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), requests


def test_slides_refuse_the_voice_with_a_one_line_reason():
    import subprocess
    import sys

    from helpers import ROOT

    env = {**os.environ, "GEOMCORE_VOICE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import scenes.slides"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "GEOMCORE_VOICE is set, but slides are silent (manim-slides cuts them from Manim's "
        "partial movie files, which carry no sound): unset it for 'make slides'; the words "
        "are in the captions and the speaker notes"]
