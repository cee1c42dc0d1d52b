"""The geomcore.views package: its layout, its names, and who imports Manim."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import geomcore.views as views

VIEWS_DIR = Path(views.__file__).parent
MODULES = ["style", "primitives", "layered", "replay_panel", "anatomy", "narrator"]

#: Every name imported from geomcore.views before the split (scenes, tests, bench, README).
NAMES_BEFORE_SPLIT = [
    "BOUNDARY_COLOR", "CLASS_COLORS", "ClassPoints", "CurvePlot", "DataPlaneView",
    "ELLIPSE_COLOR", "FOLD_COLOR", "FoldPanel", "GRID_COLOR", "GlyphText", "GridLines",
    "HiddenPlaneView", "InputPlaneView", "LayerMorphView", "Layered", "LossCurve",
    "MetricsReadout", "Narrator", "PlaneMap", "Polylines", "ReplayPanel", "SpaceContent",
    "SpaceView", "StageView", "TEXT_COLOR", "WARNING_COLOR", "add_layered", "caption",
    "class_legend", "embed_scene", "layer_box", "polylines_to_bezier",
]


def test_all_is_sorted_and_holds_every_name_used_before_the_split():
    assert views.__all__ == sorted(views.__all__)
    assert [n for n in NAMES_BEFORE_SPLIT if n not in views.__all__] == []
    assert [n for n in views.__all__ if not hasattr(views, n)] == []


@pytest.mark.parametrize("name", MODULES)
def test_each_module_has_docstring_all_and_future_annotations(name):
    source = (VIEWS_DIR / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    assert doc is not None and "may import" in doc
    assert "from __future__ import annotations" in source
    module = importlib.import_module(f"geomcore.views.{name}")
    assert module.__all__ == sorted(module.__all__)
    if name != "style":  # style's stroke widths and font sizes stay in geomcore.views.style
        # Every public name of the module is re-exported by the package.
        assert [n for n in module.__all__ if getattr(views, n, None) is not getattr(module, n)
                ] == []


@pytest.mark.parametrize("name", [m for m in MODULES if m != "style"])
def test_colours_and_fonts_are_defined_only_in_style(name):
    source = (VIEWS_DIR / f"{name}.py").read_text(encoding="utf-8")
    assert "ManimColor(" not in source
    assert '"#' not in source
    assert "DejaVu" not in source


def test_style_values():
    from geomcore.views import style

    assert style.CLASS_COLORS[0].to_hex().upper() == "#FF9F43"
    assert style.CLASS_COLORS[1].to_hex().upper() == "#48A9E6"
    assert style.BOUNDARY_COLOR.to_hex().upper() == "#FFE66D"
    assert style.FONT == "DejaVu Sans" and style.MONO_FONT == "DejaVu Sans Mono"


def test_only_geomcore_views_imports_manim():
    # A fresh interpreter: importing the numpy core (and the package) must not load Manim.
    core = ["geomcore", "geomcore.anatomy", "geomcore.cache", "geomcore.datasets",
            "geomcore.errors", "geomcore.experiment", "geomcore.extents", "geomcore.geometry",
            "geomcore.narration", "geomcore.replay", "geomcore.trajectory"]
    code = (f"import sys\nfor m in {core!r}: __import__(m)\n"
            "print(sorted(k for k in sys.modules if k == 'manim' or k.startswith('manim.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(views.__file__).parents[2])
    assert out.stdout.strip() == "[]"
    package = Path(views.__file__).parents[1]
    importers = sorted(
        str(p.relative_to(package)) for p in package.rglob("*.py")
        if "import manim" in p.read_text(encoding="utf-8")
    )
    assert all(p.startswith("views/") for p in importers) and importers
