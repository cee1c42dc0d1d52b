"""Narration: the words of a lecture, kept apart from its animation code. Standard library only.

A narration file is TOML with one table per chapter and one string per cue::

    [data]
    rings = "Our data: two noisy rings."

Scenes refer to cues as ``"chapter.key"`` (``"data.rings"``), so the text can be edited or
translated without touching a scene.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from geomcore.errors import GeomcoreError
from geomcore.textfile import read_toml

__all__ = ["CHARS_PER_SECOND", "Narration", "NarrationError", "reading_time"]

#: Reading speed for captions. Subtitle guidelines allow 15-17 characters a second for adults
#: (e.g. the BBC and Netflix subtitle style guides); we take the slow end for a lecture.
CHARS_PER_SECOND = 15.0


class NarrationError(GeomcoreError, ValueError):
    """A narration file or cue is missing or malformed; names the file and the cue."""


def reading_time(text: str) -> float:
    """Seconds a caption needs on screen: ``len(text) / 15 + 0.5``, at least 1.5 s."""
    return max(1.5, len(text.strip()) / CHARS_PER_SECOND + 0.5)


class Narration:
    """The cues of one lecture, by ``"chapter.key"``.

    Parameters
    ----------
    cues
        Text by cue name.
    source
        Where the cues came from, for error messages.
    """

    def __init__(self, cues: dict[str, str], source: str = "<memory>") -> None:
        self.cues = dict(cues)
        self.source = source

    @classmethod
    def load(cls, path: str | Path) -> Narration:
        """Read a narration TOML file.

        Raises
        ------
        NarrationError
            If the file cannot be read, is not UTF-8 text (a byte-order mark is accepted), is
            not TOML, or holds anything but tables of strings.
        """
        path = Path(path)
        data = read_toml(path, what="narration file", error=NarrationError)
        cues = {}
        for chapter, table in data.items():
            if not isinstance(table, dict):
                raise NarrationError(f"{path}: [{chapter}] must be a table of cues")
            for key, text in table.items():
                if not isinstance(text, str) or not text.strip():
                    raise NarrationError(
                        f"{path}: {chapter}.{key} must be non-empty text. Received: {text!r}"
                    )
                cues[f"{chapter}.{key}"] = " ".join(text.split())
        return cls(cues, str(path))

    def __getitem__(self, name: str) -> str:
        """The text of cue ``name``.

        Raises
        ------
        NarrationError
            If there is no such cue (with the closest name, if any).
        """
        if name not in self.cues:
            close = difflib.get_close_matches(name, list(self.cues), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise NarrationError(f"{self.source}: no cue {name!r}{hint}")
        return self.cues[name]

    def __len__(self) -> int:
        return len(self.cues)
