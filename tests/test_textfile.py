"""geomcore.textfile: every TOML and text file read the same way (issue 10, fault 7).

A file saved with a UTF-8 byte-order mark (Notepad, Excel) loads and equals the one without;
UTF-16, UTF-32 and other non-UTF-8 files are refused with one line naming the file and the
encoding expected, for experiment files, narration and CSV data alike.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pytest

from geomcore.datasets import load_csv, make_dataset
from geomcore.errors import DatasetError, ExperimentError, GeomcoreError
from geomcore.experiment import EXPERIMENTS_DIR, find_experiment, load_experiment
from geomcore.narration import Narration, NarrationError
from geomcore.textfile import read_text, read_toml

ROOT = Path(__file__).resolve().parent.parent
NARRATION = ROOT / "scenes" / "narration" / "circles.toml"
SHIPPED = (EXPERIMENTS_DIR / "circles-3d.toml").read_bytes()
BOM = codecs.BOM_UTF8


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the byte-order mark is accepted: the same values as without ----------------------------


def test_experiment_file_with_bom_equals_the_one_without(tmp_path):
    plain = load_experiment(_write(tmp_path / "plain.toml", SHIPPED))
    marked = load_experiment(_write(tmp_path / "marked.toml", BOM + SHIPPED))
    assert marked == plain
    assert marked.name == "circles-3d"
    assert marked.config_hash() == plain.config_hash()
    # The same through the CLI's entry point, by path.
    assert find_experiment(tmp_path / "marked.toml") == plain


def test_experiment_file_with_bom_and_windows_line_endings(tmp_path):
    plain = load_experiment(_write(tmp_path / "plain.toml", SHIPPED))
    crlf = BOM + SHIPPED.replace(b"\n", b"\r\n")
    assert load_experiment(_write(tmp_path / "crlf.toml", crlf)) == plain


def test_experiment_without_name_key_takes_the_stem_not_the_bom(tmp_path):
    # The first key is the one a byte-order mark used to break.
    text = b'seed = 3\n[dataset]\nname = "xor_quadrants"\n'
    exp = load_experiment(_write(tmp_path / "mine.toml", BOM + text))
    assert (exp.name, exp.seed, exp.dataset.name) == ("mine", 3, "xor_quadrants")


def test_narration_with_bom_equals_the_one_without(tmp_path):
    plain = Narration.load(NARRATION)
    marked = Narration.load(_write(tmp_path / "circles.toml", BOM + NARRATION.read_bytes()))
    assert len(plain) > 10
    assert marked.cues == plain.cues
    assert marked["title.intro"].startswith("A small neural network learns by bending space.")


def test_narration_with_bom_keeps_non_ascii_text(tmp_path):
    text = '[data]\nrings = "Two rings — one inside the other, ε = 0.005."\n'
    narration = Narration.load(_write(tmp_path / "n.toml", BOM + text.encode("utf-8")))
    assert narration["data.rings"] == "Two rings — one inside the other, ε = 0.005."


def test_csv_experiment_with_bom_in_both_files(tmp_path):
    csv_text = "x1,x2,label\n0.5,-1,0\n2,0.3,1\n-4.25,0,1\n"
    (tmp_path / "points.csv").write_bytes(BOM + csv_text.encode())
    toml = b'name = "mine"\n[dataset]\nname = "csv"\npath = "points.csv"\n'
    exp = load_experiment(_write(tmp_path / "mine.toml", BOM + toml))
    assert exp.dataset.params["path"] == str((tmp_path / "points.csv").resolve())
    x, y = make_dataset("csv", **exp.dataset.params)
    np.testing.assert_array_equal(x, np.array([[0.5, -1], [2, 0.3], [-4.25, 0]], np.float32))
    assert y.tolist() == [0, 1, 1]


def test_read_toml_and_read_text_strip_exactly_one_bom(tmp_path):
    path = _write(tmp_path / "t.toml", BOM + b'a = "x"\r\nb = 2\r')
    assert read_toml(path, what="test file", error=GeomcoreError) == {"a": "x", "b": 2}
    assert read_text(path, what="test file", error=GeomcoreError) == 'a = "x"\nb = 2\n'
    # A second mark is text, not an encoding signature: TOML refuses it, naming the file.
    twice = _write(tmp_path / "twice.toml", BOM + BOM + b"a = 1\n")
    with pytest.raises(GeomcoreError, match=r"twice\.toml: not valid TOML"):
        read_toml(twice, what="test file", error=GeomcoreError)


def test_shipped_package_resources_read_through_the_same_reader():
    data = read_toml(EXPERIMENTS_DIR / "circles-3d.toml", what="experiment file",
                     error=ExperimentError)
    assert data["name"] == "circles-3d"


# -- other encodings: one line naming the file and the encoding expected --------------------


@pytest.mark.parametrize(
    ("codec", "found"),
    [
        ("utf-16", "UTF-16 LE byte-order mark"),  # Python writes the little-endian mark
        ("utf-16-be", "NUL byte at offset 0"),  # no mark: '#' is 00 23
        ("utf-16-le", "NUL byte at offset 1"),
        ("utf-32", "UTF-32 LE byte-order mark"),
        ("latin-1", "byte 0xdc at offset "),
    ],
)
def test_experiment_file_in_another_encoding_is_named(tmp_path, codec, found):
    # Latin-1 differs from UTF-8 only outside ASCII: give it a non-ASCII character.
    text = SHIPPED.decode("utf-8").replace("Concentric circles", "Überall circles")
    assert text != SHIPPED.decode("utf-8")
    path = _write(tmp_path / "wide.toml", text.encode(codec))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: not a UTF-8 text file (")
    assert found in message
    assert message.endswith("; expected UTF-8 text (with or without a byte-order mark)")


def test_utf16_narration_and_csv_are_named(tmp_path):
    narration = _write(tmp_path / "n.toml", NARRATION.read_text("utf-8").encode("utf-16"))
    with pytest.raises(NarrationError) as info:
        Narration.load(narration)
    assert str(info.value) == (
        f"{narration}: not a UTF-8 text file (it starts with the UTF-16 LE byte-order mark); "
        "expected UTF-8 text (with or without a byte-order mark)"
    )
    csv = _write(tmp_path / "p.csv", "x1,x2,label\n0,0,0\n1,1,1\n".encode("utf-16"))
    with pytest.raises(DatasetError) as info:
        load_csv(csv)
    assert str(info.value) == (
        f"{csv}: not a UTF-8 text file (it starts with the UTF-16 LE byte-order mark); "
        "expected UTF-8 text (with or without a byte-order mark)"
    )


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(NarrationError, match=r"missing\.toml: cannot read narration file"):
        Narration.load(tmp_path / "missing.toml")
    with pytest.raises(ExperimentError, match=r": cannot read experiment file \("):
        load_experiment(tmp_path)  # a folder


def test_textfile_is_the_only_toml_reader():
    # The whole kind: a new TOML reader (sweep files, ...) must go through read_toml, or it
    # would refuse byte-order marks again.
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted([*(ROOT / "geomcore").rglob("*.py"), *(ROOT / "scenes").rglob("*.py")])
        if path.name != "textfile.py" and "tomllib" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
