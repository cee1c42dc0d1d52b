"""Reading the project's text files: one decoder and one TOML reader. Standard library only.

Every text file geomcore reads (experiment files, narration, CSV data, and any TOML file added
later) goes through :func:`read_text`, and every TOML file through :func:`read_toml`, so they
all accept the same thing: UTF-8, with or without a byte-order mark (Windows editors such as
Notepad and Excel save one), with any line ending. Anything else (UTF-16 or UTF-32, Latin-1,
binary data) is refused with one line naming the file and the encoding expected, raised as the
caller's own :class:`~geomcore.errors.GeomcoreError` subclass.
"""

from __future__ import annotations

import codecs
import os
import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from geomcore.errors import GeomcoreError

__all__ = ["read_text", "read_toml"]

# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "UTF-32 BE"),
    (codecs.BOM_UTF16_LE, "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "UTF-16 BE"),
)


def read_text(
    path: str | os.PathLike[str] | Traversable,
    *,
    what: str,
    error: type[GeomcoreError],
) -> str:
    """The text of a UTF-8 file, without its byte-order mark if it has one.

    Line endings are translated as :meth:`pathlib.Path.read_text` does (``\\r\\n`` and ``\\r``
    become ``\\n``).

    Parameters
    ----------
    path
        The file (a path, or a package resource such as ``EXPERIMENTS_DIR / "x.toml"``).
    what
        What the file is, for messages (``"experiment file"``, ``"narration"``, ...).
    error
        The exception class to raise, the caller's own (``ExperimentError``, ...).

    Returns
    -------
    str
        The decoded text.

    Raises
    ------
    GeomcoreError
        As ``error``, one line naming ``path``: if the file cannot be read ("cannot read"), or
        is not UTF-8 text ("not a UTF-8 text file"; UTF-16 and UTF-32 are recognised by their
        byte-order mark or their NUL bytes and named).
    """
    if isinstance(path, (str, os.PathLike)):
        path = Path(path)
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as err:
        raise error(f"{path}: cannot read {what} ({err})") from None
    expected = "expected UTF-8 text (with or without a byte-order mark)"
    for bom, encoding in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise error(
                f"{path}: not a UTF-8 text file (it starts with the {encoding} byte-order "
                f"mark); {expected}"
            )
    if b"\0" in data:
        # UTF-16 or UTF-32 without a byte-order mark: ASCII characters come with NUL bytes,
        # which no text file of ours holds (TOML forbids them).
        raise error(
            f"{path}: not a UTF-8 text file (NUL byte at offset {data.index(0)}: UTF-16 or "
            f"UTF-32 text?); {expected}"
        )
    try:
        # utf-8-sig drops one leading byte-order mark and reads plain UTF-8 unchanged.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(
            f"{path}: not a UTF-8 text file (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); {expected}"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_toml(
    path: str | os.PathLike[str] | Traversable,
    *,
    what: str,
    error: type[GeomcoreError],
) -> dict[str, Any]:
    """The tables of a TOML file decoded by :func:`read_text`.

    Parameters
    ----------
    path
        The file (a path, or a package resource).
    what
        What the file is, for messages (``"experiment file"``, ``"narration"``, ...).
    error
        The exception class to raise, the caller's own.

    Returns
    -------
    dict
        The document, as :func:`tomllib.loads` gives it.

    Raises
    ------
    GeomcoreError
        As ``error``, one line naming ``path``: the cases of :func:`read_text`, and "not valid
        TOML" with the line and column of the first mistake.
    """
    text = read_text(path, what=what, error=error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML ({err})") from None
