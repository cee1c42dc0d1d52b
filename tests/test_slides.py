"""Slides for a live talk (geomcore.slides, scenes/slides.py): stops, notes, the offline page.

Fast checks: where the stops fall in a tiny lecture scene (its own short narration, 64 x 36
pixels), the narrator's hook, reveal.js fetched through a stand-in ``npm`` (no network), the
inlining and the off-file reference finder. The real player, a short stretch of the lecture
converted and opened in Chromium, is in ``test_slides_player.py``.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
import tarfile
from pathlib import Path

import av
import manim as mn
import pytest

from geomcore import slides
from geomcore.errors import GeomcoreError
from geomcore.narration import Narration, reading_time
from geomcore.views import Narrator
from scenes.slides import LectureSlides
from scenes.stage import LectureScene

FPS = 10
CUES = {"a.one": "Rings.", "b.one": "Two rings, one inside the other.", "b.two": "Done."}


class _TwoChapters(LectureSlides, LectureScene):
    """Chapter A opens with a cue (as the title does); chapter B plays before its cues."""

    def construct(self) -> None:
        say = Narrator(self, Narration(CUES)).say
        self.next_section("01 A")
        with say("a.one"):
            self.play(mn.FadeIn(mn.Square()), run_time=0.5)
        self.next_section("02 B")
        self.play(mn.FadeIn(mn.Circle()), run_time=0.3)
        for cue in ("b.one", "b.two"):
            with say(cue):
                self.wait(0.2)


def _frames(path: Path) -> int:
    """Frames decoded from a video (manim-slides' concatenated files carry no frame count)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture(scope="module")
def two_chapters(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The tiny scene rendered as slides; its manim-slides JSON."""
    work = tmp_path_factory.mktemp("slides-work")
    media = work / "media"
    # A relative media folder, as manim.cfg's ./media: manim-slides must still find the files.
    # max_files_cached 3, below the scene's 9 partial movie files: Manim would prune them
    # after rendering, before manim-slides cuts the slides from them (the lecture has
    # hundreds, the default limit is 100).
    config = {"media_dir": "media", "pixel_width": 64, "pixel_height": 36,
              "frame_rate": FPS, "disable_caching": True, "progress_bar": "none",
              "verbosity": "ERROR", "max_files_cached": 3}
    here = Path.cwd()
    os.chdir(work)
    try:
        with mn.tempconfig(config):
            _TwoChapters().render()
    finally:
        os.chdir(here)
    return json.loads((media / "slides" / "_TwoChapters.json").read_text(encoding="utf-8"))


def test_manim_slides_reads_the_slides_back_from_any_folder(two_chapters, tmp_path,
                                                           monkeypatch):
    from manim_slides.config import PresentationConfig

    path = Path(two_chapters["slides"][0]["file"]).parents[2] / "_TwoChapters.json"
    monkeypatch.chdir(tmp_path)
    presentation = PresentationConfig.from_file(path)  # checks that every file exists
    assert [s.notes for s in presentation.slides] == [s["notes"] for s in two_chapters["slides"]]
    assert all(s.file.is_file() for s in presentation.slides)


def test_a_stop_at_every_chapter_and_cue_with_its_words_as_notes(two_chapters):
    notes = [s["notes"] for s in two_chapters["slides"]]
    assert notes == ["Chapter: 01 A", CUES["a.one"], "Chapter: 02 B", CUES["b.one"],
                     CUES["b.two"]]


def test_each_stop_holds_its_part_of_the_scene(two_chapters):
    frames = [_frames(Path(s["file"])) for s in two_chapters["slides"]]
    # A chapter that opens with a cue keeps a one-frame stop of its own; chapter B's stop is
    # its frame and the 0.3 s animation played before the first cue.
    assert frames[0] == 1
    assert frames[2] == 1 + round(0.3 * FPS)
    # A cue's slide lasts its reading time, rounded up to whole frames (1.5 s at least).
    for index, cue in ((1, "a.one"), (3, "b.one"), (4, "b.two")):
        assert frames[index] == math.ceil(reading_time(CUES[cue]) * FPS - 1e-6)
    assert frames[3] == 27  # 32 characters: 32 / 15 + 0.5 = 2.63 s


def test_slides_are_not_reversed_and_keep_the_scene_resolution(two_chapters):
    assert two_chapters["resolution"] == [64, 36]
    for slide in two_chapters["slides"]:
        # skip_reversing: the HTML player never plays backwards, so no reversed copy.
        assert slide["rev_file"] == slide["file"]


class _PlainWithHook(mn.Scene):
    """A plain scene with a next_slide method: the narrator calls it at each cue's start."""

    def construct(self) -> None:
        self.stops: list[tuple[dict, float]] = []
        say = Narrator(self, Narration(CUES)).say
        self.wait(0.5)
        for cue in ("a.one", "b.two"):
            with say(cue):
                self.wait(0.1)

    def next_slide(self, **kwargs: object) -> None:
        self.stops.append((kwargs, self.time))


def test_the_narrator_opens_a_slide_at_each_cue_start(tmp_path):
    config = {"media_dir": str(tmp_path), "dry_run": True, "frame_rate": FPS,
              "progress_bar": "none", "verbosity": "ERROR"}
    with mn.tempconfig(config):
        scene = _PlainWithHook()
        scene.render()
    assert [kwargs for kwargs, _ in scene.stops] == [{"notes": CUES["a.one"]},
                                                     {"notes": CUES["b.two"]}]
    # At the start of each cue, before its caption's first frame: scene time in seconds.
    assert [t for _, t in scene.stops] == pytest.approx([0.5, 0.5 + reading_time(CUES["a.one"])])


# -- reveal.js through npm --------------------------------------------------------------------
def _fake_tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _fake_npm(folder: Path, tarball: bytes, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``npm`` on PATH whose ``pack`` writes ``tarball`` and logs its arguments."""
    folder.mkdir()
    (folder / "reveal.tgz").write_bytes(tarball)
    script = folder / "npm"
    script.write_text(
        f"#!{sys.executable}\n"
        "import shutil, sys\n"
        f"open({str(folder / 'args')!r}, 'w').write(' '.join(sys.argv[1:]))\n"
        "dest = sys.argv[sys.argv.index('--pack-destination') + 1]\n"
        f"shutil.copy({str(folder / 'reveal.tgz')!r}, "
        f"dest + '/reveal.js-{slides.REVEALJS_VERSION}.tgz')\n",
        encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(folder))
    return folder


FILES = {name: f"/* {name} */".encode() for name in slides.REVEALJS_ASSETS}


def test_fetch_unpacks_the_checked_tarball_once(tmp_path, monkeypatch):
    tarball = _fake_tarball({**FILES, "dist/theme/black.css": b"big"})
    npm = _fake_npm(tmp_path / "bin", tarball, monkeypatch)
    monkeypatch.setattr(slides, "REVEALJS_INTEGRITY", slides._integrity(tarball))
    folder = slides.fetch_revealjs(tmp_path / "cache")
    assert folder == tmp_path / "cache" / f"reveal.js-{slides.REVEALJS_VERSION}"
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    assert not (folder / "dist/theme/black.css").exists()
    assert (npm / "args").read_text().startswith(f"pack reveal.js@{slides.REVEALJS_VERSION} ")
    # Second call: the folder is complete, so no npm (none on PATH) and no network.
    monkeypatch.setenv("PATH", "")
    assert slides.fetch_revealjs(tmp_path / "cache") == folder


def test_fetch_refuses_a_tarball_whose_sha512_differs(tmp_path, monkeypatch):
    _fake_npm(tmp_path / "bin", _fake_tarball(FILES), monkeypatch)
    with pytest.raises(GeomcoreError, match=r"has sha512 sha512-.*expected the registry's "
                       + slides.REVEALJS_INTEGRITY[:20]):
        slides.fetch_revealjs(tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_fetch_without_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GeomcoreError, match=r"needs reveal.js 6.0.1 and npm .*apt-get install "
                       r"npm") as info:
        slides.fetch_revealjs(tmp_path / "cache")
    assert "\n" not in str(info.value)


def test_the_pinned_integrity_is_npm_sha512_of_the_version():
    assert slides.REVEALJS_VERSION == "6.0.1"
    assert slides.REVEALJS_INTEGRITY.startswith("sha512-")
    assert len(slides.REVEALJS_INTEGRITY) == len("sha512-") + 88  # 64 bytes in base64


# -- inlining and references -------------------------------------------------------------------
def test_inline_replaces_tags_by_the_files_text(tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist/reveal.js").write_text("var a = '</script>'; var b = 1;")
    (tmp_path / "dist/reveal.css").write_text(".reveal { color: red }")
    page = ('<head><link rel="stylesheet" href="@revealjs/dist/reveal.css"></head>'
            '<body><script src="@revealjs/dist/reveal.js"></script></body>')
    out = slides.inline_revealjs(page, tmp_path)
    assert out == ("<head><style>.reveal { color: red }</style></head>"
                   "<body><script>var a = '<\\/script>'; var b = 1;</script></body>")


def test_inline_names_a_missing_file(tmp_path):
    page = '<script src="@revealjs/dist/plugin/zoom.js"></script>'
    with pytest.raises(GeomcoreError, match="needs dist/plugin/zoom.js"):
        slides.inline_revealjs(page, tmp_path)


def test_inline_refuses_a_reference_it_cannot_inline(tmp_path):
    page = '<img src="@revealjs/logo.png">'
    with pytest.raises(GeomcoreError, match="still refers to"):
        slides.inline_revealjs(page, tmp_path)


@pytest.mark.parametrize("page, found", [
    ('<script src="https://cdn.jsdelivr.net/npm/reveal.js@6.0.1/dist/reveal.js"></script>',
     ["https://cdn.jsdelivr.net/npm/reveal.js@6.0.1/dist/reveal.js"]),
    ("<link rel=stylesheet href='http://unpkg.com/x.css'>", ["http://unpkg.com/x.css"]),
    ('<section data-background-video="slides/a.mp4"></section>', ["slides/a.mp4"]),
    ("<style>.a { background: url(//cdn.example/x.png) }</style>", ["//cdn.example/x.png"]),
    ('<section data-background-video="data:video/mp4;base64,AAAA"></section>'
     '<a href="#/3">3</a><style>.a { background: url(data:image/gif;base64,R0) }</style>'
     "<script>img.src = 'https://example.org/x.png'; a.href=b</script>", []),
])
def test_remote_references_finds_what_would_load_off_the_file(page, found):
    assert slides.remote_references(page) == found


def test_write_player_without_rendered_slides_says_how_to_render(tmp_path):
    with pytest.raises(GeomcoreError, match=r"no slides of 'Nope' in .*manim render "
                       r"scenes/slides.py Nope"):
        slides.write_player("Nope", tmp_path / "out.html", folder=tmp_path)
    assert not (tmp_path / "out.html").exists()


def test_chapter_note_is_what_the_template_reads_back():
    assert slides.chapter_note("02 The data") == "Chapter: 02 The data"
    template = (Path(slides.__file__).parent / "data/slides/revealjs.html").read_text()
    prefix = slides.CHAPTER_NOTE_PREFIX
    assert f'slide_config.notes.startswith("{prefix}")' in template
    assert f"slide_config.notes[{len(prefix)}:]" in template


def test_the_template_ships_in_the_wheel():
    import fnmatch
    import tomllib

    root = Path(slides.__file__).parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    globs = data["tool"]["setuptools"]["package-data"]["geomcore"]
    assert any(fnmatch.fnmatch("data/slides/revealjs.html", g) for g in globs)
    assert (root / "geomcore/data/slides/revealjs.html").is_file()
