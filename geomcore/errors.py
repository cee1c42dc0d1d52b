"""The project's own exceptions: each names what was wrong and what was expected."""

from __future__ import annotations

__all__ = ["DatasetError", "ExperimentError", "GeomcoreError", "TrajectoryError"]


class GeomcoreError(Exception):
    """Base class of every error geomcore raises on bad input."""


class DatasetError(GeomcoreError, ValueError):
    """A dataset name, parameter or file is invalid."""


class ExperimentError(GeomcoreError, ValueError):
    """An experiment definition is invalid; the message names the file and the key."""


class TrajectoryError(GeomcoreError, ValueError):
    """A trajectory file cannot be read or does not follow the schema; names the file."""
