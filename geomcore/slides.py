"""The lecture as slides for a live talk: one self-contained, offline HTML player.

``make slides`` renders the lecture with :class:`scenes.slides.CirclesLecture` (manim-slides'
``Slide`` under the lecture scene: one stop per chapter and per narration cue) and then
calls :func:`write_player`, which

1. runs ``manim-slides convert --to html --one-file`` with this package's template
   (``geomcore/data/slides/revealjs.html``, manim-slides' own template, MIT, adapted: every
   slide muted, chapter names on the slides and on screen, the cue text as speaker notes),
   so every slide's video is inlined as a ``data:`` URI;
2. inlines reveal.js itself (its script, style sheet and speaker-notes plugin) from the
   npm package ``reveal.js`` at :data:`REVEALJS_VERSION` (MIT licensed), fetched once with
   ``npm pack`` into a cache folder and checked against the registry's published sha512
   (:data:`REVEALJS_INTEGRITY`); manim-slides' own ``--offline`` would download it from a CDN,
   which a lecture hall may not reach.

The player needs no network: :func:`remote_references` lists any ``src``/``href`` left that
points off the file, and :func:`write_player` refuses to write a page that has one.

Command line (what ``make slides`` runs)::

    python -m geomcore.slides CirclesLecture media/slides/CirclesLecture.html

What it may import: the standard library, :mod:`geomcore.errors` and the atomic write of
:mod:`geomcore.trajectory`; manim-slides runs as a subprocess (the ``slides`` extra). Never
Manim, never TensorFlow.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

from geomcore.errors import GeomcoreError

__all__ = [
    "CHAPTER_NOTE_PREFIX",
    "REVEALJS_ASSETS",
    "REVEALJS_INTEGRITY",
    "REVEALJS_VERSION",
    "chapter_note",
    "fetch_revealjs",
    "inline_revealjs",
    "main",
    "remote_references",
    "write_player",
]

#: The reveal.js release manim-slides 5.7.0's template is written for (its ``reveal_version``).
REVEALJS_VERSION = "6.0.1"
#: ``npm view reveal.js@6.0.1 dist.integrity``: sha512 of the package tarball, base64.
REVEALJS_INTEGRITY = (
    "sha512-9eacArNIgqO2HGWOK+93gJNn+gvdGDVbSq+i2u3Ja9kjiHps0XNLpgYTZTYjKRH91uXy3clGimeGiw4umHG/tg=="
)
#: The files of the npm package the player inlines (paths inside the package), and its licence.
REVEALJS_ASSETS = ("dist/reveal.js", "dist/reveal.css", "dist/plugin/notes.js", "LICENSE")
#: How the template refers to a reveal.js file before :func:`inline_revealjs` inlines it.
_ASSET_MARK = "@revealjs/"
#: Speaker notes of a chapter's stop start with this; the rest is the chapter's section name.
CHAPTER_NOTE_PREFIX = "Chapter: "
#: Default cache of the fetched package, relative to the folder ``make slides`` runs in.
DEFAULT_REVEALJS_CACHE = Path("data") / "revealjs"


def chapter_note(section: str) -> str:
    """The speaker note marking a chapter's stop: ``"Chapter: 02 The data"``.

    The player's template reads the chapter name back from it (``data-chapter``).
    """
    return f"{CHAPTER_NOTE_PREFIX}{section}"


def _integrity(data: bytes) -> str:
    """npm's integrity string of ``data``: ``"sha512-"`` and the base64 digest (SRI format)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def fetch_revealjs(cache: str | os.PathLike[str] = DEFAULT_REVEALJS_CACHE) -> Path:
    """The unpacked reveal.js files, fetched with ``npm pack`` on first use.

    Parameters
    ----------
    cache
        Folder keeping ``reveal.js-<version>/`` (the files of :data:`REVEALJS_ASSETS`).
        A folder that already holds them is used as it is, without npm or network.

    Returns
    -------
    Path
        ``cache / "reveal.js-<version>"``.

    Raises
    ------
    GeomcoreError
        If npm is missing, ``npm pack`` fails (no network and nothing in npm's cache), or
        the tarball's sha512 differs from :data:`REVEALJS_INTEGRITY`.
    """
    folder = Path(cache) / f"reveal.js-{REVEALJS_VERSION}"
    if all((folder / name).is_file() for name in REVEALJS_ASSETS):
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise GeomcoreError(
            f"the slide player needs reveal.js {REVEALJS_VERSION} and npm to fetch it once "
            f"(apt-get install npm); or unpack the npm package reveal.js@{REVEALJS_VERSION} "
            f"into {folder}"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        # --prefer-offline: once in npm's own cache, no network is needed again.
        done = subprocess.run(
            [npm, "pack", f"reveal.js@{REVEALJS_VERSION}", "--pack-destination", tmp,
             "--prefer-offline", "--silent"],
            capture_output=True, text=True, timeout=600, check=False,
        )
        tarball = Path(tmp) / f"reveal.js-{REVEALJS_VERSION}.tgz"
        if done.returncode != 0 or not tarball.is_file():
            why = (done.stderr.strip().splitlines() or ["no tarball written"])[-1]
            raise GeomcoreError(
                f"npm pack reveal.js@{REVEALJS_VERSION} failed ({why}); the slide player "
                f"needs it once (network to registry.npmjs.org, or unpack it into {folder})"
            )
        data = tarball.read_bytes()
        if _integrity(data) != REVEALJS_INTEGRITY:
            raise GeomcoreError(
                f"reveal.js-{REVEALJS_VERSION}.tgz from npm has sha512 {_integrity(data)}; "
                f"expected the registry's {REVEALJS_INTEGRITY}"
            )
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as archive:
            for name in REVEALJS_ASSETS:
                source = archive.extractfile(f"package/{name}")
                if source is None:
                    raise GeomcoreError(f"reveal.js-{REVEALJS_VERSION}.tgz has no {name}")
                target = unpacked / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read())
        # One rename: a reader never sees a half-unpacked folder.
        shutil.rmtree(folder, ignore_errors=True)
        unpacked.rename(folder)
    return folder


_LINK = re.compile(r'<link rel="stylesheet" href="' + re.escape(_ASSET_MARK) + r'([^"]+)">')
_SCRIPT = re.compile(r'<script src="' + re.escape(_ASSET_MARK) + r'([^"]+)"></script>')


def inline_revealjs(page: str, revealjs: str | os.PathLike[str]) -> str:
    """``page`` with its reveal.js ``<link>`` and ``<script src>`` tags replaced by their text.

    Parameters
    ----------
    page
        HTML written from this package's template: reveal.js files are referred to as
        ``@revealjs/<path in the npm package>``.
    revealjs
        The unpacked package (:func:`fetch_revealjs`).

    Raises
    ------
    GeomcoreError
        If a referred file is not in ``revealjs``, or a reference is left that is neither
        a style sheet link nor a script tag.
    """
    folder = Path(revealjs)

    def text(match: re.Match[str]) -> str:
        path = folder / match.group(1)
        if not path.is_file():
            raise GeomcoreError(f"the slide template needs {match.group(1)}; {folder} has none")
        return path.read_text(encoding="utf-8")

    # "</script" inside a script would end it early; "<\/script" means the same in JS.
    page = _SCRIPT.sub(
        lambda m: "<script>" + re.sub(r"</(script)", r"<\\/\1", text(m), flags=re.I)
        + "</script>", page)
    page = _LINK.sub(lambda m: "<style>" + text(m).replace("</style", "<\\/style")
                     + "</style>", page)
    if _ASSET_MARK in page:
        raise GeomcoreError(f"the slide page still refers to {_ASSET_MARK}...: only "
                            "'<link rel=\"stylesheet\" href=...>' and '<script src=...>' inline")
    return page


#: ``src``/``href``/``poster``/``data-background-*`` attributes and CSS ``url()`` values.
_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|poster|data-background-(?:video|image|iframe))\s*=\s*["']?|url\(\s*["']?)"""
    r"""([^"'\s>)]*)""", re.I)


def remote_references(page: str) -> list[str]:
    """Every attribute or CSS ``url()`` of ``page`` that would load something off the file.

    Markup and style sheets are searched; the text of inline scripts is not.

    Inline ``data:`` URIs, fragments (``#...``) and ``javascript:`` are fine; anything
    with a scheme or host (``https://``, ``//cdn...``, ``file:``) or a relative path is not,
    as the player must open from any folder with no network.

    Returns
    -------
    list of str
        The offending values, in page order (empty for a self-contained page).
    """
    # Script bodies are code, not markup ("img.src = url" is no reference); their tags stay.
    markup = re.sub(r"(<script\b[^>]*>).*?</script>", r"\1</script>", page, flags=re.I | re.S)
    bad = []
    for match in _REFERENCE.finditer(markup):
        value = match.group(1)
        if value == "" or value.startswith(("data:", "#", "javascript:")):
            continue
        bad.append(value)
    return bad


def _template() -> Path:
    return Path(str(resources.files("geomcore") / "data" / "slides" / "revealjs.html"))


def write_player(
    scene: str,
    output: str | os.PathLike[str],
    *,
    folder: str | os.PathLike[str] = Path("media") / "slides",
    revealjs_cache: str | os.PathLike[str] = DEFAULT_REVEALJS_CACHE,
    title: str = "How a neural network bends space",
) -> Path:
    """Convert rendered slides into one self-contained HTML player, written atomically.

    Parameters
    ----------
    scene
        The slide scene's name (manim-slides writes ``folder / f"{scene}.json"``).
    output
        The HTML file to write; replaced atomically (nothing is left there on failure).
    folder
        manim-slides' slide folder, where the scene was rendered.
    revealjs_cache
        Where :func:`fetch_revealjs` keeps reveal.js.
    title
        The page title, shown in the browser's tab before the chapter name.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    GeomcoreError
        If the scene has no slides in ``folder``, manim-slides is missing or its conversion
        fails, reveal.js cannot be had (:func:`fetch_revealjs`), or the page would still
        load anything from the network (:func:`remote_references`).
    """
    from geomcore.trajectory import _atomic_write

    folder, output = Path(folder), Path(output)
    if not (folder / f"{scene}.json").is_file():
        raise GeomcoreError(f"no slides of {scene!r} in {folder} ({scene}.json); render them "
                            f"first: manim render scenes/slides.py {scene}")
    revealjs = fetch_revealjs(revealjs_cache)
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / f"{scene}.html"
        done = subprocess.run(
            [sys.executable, "-m", "manim_slides", "convert", "--to", "html", "--one-file",
             "--use-template", str(_template()), "--folder", str(folder),
             "-c", f"title={title}", "-c", f"reveal_version={REVEALJS_VERSION}",
             scene, str(page_path)],
            capture_output=True, text=True, timeout=1800, check=False,
        )
        if done.returncode != 0 or not page_path.is_file():
            lines = (done.stderr + done.stdout).strip().splitlines() or ["no output"]
            raise GeomcoreError(f"manim-slides convert failed for {scene!r}: {lines[-1]} "
                                "(is the 'slides' extra installed? pip install -e '.[slides]')")
        page = inline_revealjs(page_path.read_text(encoding="utf-8"), revealjs)
    remote = remote_references(page)
    if remote:
        raise GeomcoreError(f"the slide player would load {remote[0]!r} from outside the file; "
                            "expected every asset inline")
    _atomic_write(output, lambda f: f.write(page.encode("utf-8")))
    return output


def main(argv: list[str] | None = None) -> int:
    """``python -m geomcore.slides SCENE OUTPUT``: write the player, print its path."""
    parser = argparse.ArgumentParser(
        prog="python -m geomcore.slides",
        description="Convert a rendered slide scene into one offline HTML player.")
    parser.add_argument("scene", help="the slide scene's name, e.g. CirclesLecture")
    parser.add_argument("output", help="the HTML file to write")
    parser.add_argument("--folder", default=str(Path("media") / "slides"),
                        help="manim-slides' slide folder (default: media/slides)")
    parser.add_argument("--revealjs-cache", default=str(DEFAULT_REVEALJS_CACHE),
                        help="where reveal.js is kept once fetched (default: data/revealjs)")
    args = parser.parse_args(argv)
    try:
        path = write_player(args.scene, args.output, folder=args.folder,
                            revealjs_cache=args.revealjs_cache)
    except GeomcoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
