"""``geomcore render --format svg|pdf``: vector stills of the same views as the png."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from helpers import synthetic_trajectory

from geomcore.cli import main
from geomcore.views.style import BOUNDARY_COLOR, CLASS_COLORS


def _rgb255(color) -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in color.to_rgb())


@pytest.fixture
def npz(tmp_path):
    return synthetic_trajectory((3, 2), seed=0, name="vector").save(tmp_path / "run.npz")


def test_svg_still_holds_the_views_in_their_colours(npz, tmp_path):
    out = tmp_path / "still.svg"
    result = CliRunner().invoke(main, ["render", str(npz), "--format", "svg", "--epoch", "3",
                                       "-ql", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)
    text = out.read_text()
    assert re.search(r'<svg [^>]*width="854px" height="480px"', text)
    colours = {tuple(round(float(p) * 2.55) for p in m.split(","))
               for m in re.findall(r"rgb\(([\d.%,]+)\)", text.replace("%", ""))}
    # Manim's camera hands cairo blue-green-red: the boundary must come out yellow, not cyan.
    boundary = _rgb255(BOUNDARY_COLOR)
    assert boundary in colours and boundary[::-1] not in colours
    for c in CLASS_COLORS.values():
        assert _rgb255(c) in colours
    # One square per probe point of each class: the synthetic run has 120 points.
    assert text.count("<path") >= 120
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz", "still.svg"]


def test_pdf_still_is_a_pdf_page(npz, tmp_path):
    out = tmp_path / "still.pdf"
    result = CliRunner().invoke(main, ["render", str(npz), "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"/MediaBox [ 0 0 854 480 ]" in data


def test_a_video_takes_no_epoch_but_a_vector_still_does(npz, tmp_path):
    result = CliRunner().invoke(main, ["render", str(npz), "--format", "svg", "--epoch", "99",
                                       "-o", str(tmp_path / "x.svg")])
    assert result.exit_code != 0 and "epoch 99 is outside" in result.stderr
    assert not (tmp_path / "x.svg").exists()
