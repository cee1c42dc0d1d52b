"""geomcore: record how a small Keras network deforms the plane while it trains.

What lives here and what it may import:

- numpy-only core, safe to import in a replay (no TensorFlow, no Manim):
  ``datasets``, ``experiment``, ``geometry``, ``trajectory``, ``replay``, ``anatomy``,
  ``extents``, ``narration``, ``cache``, ``errors``, ``textfile`` (the one reader of every
  text and TOML file: UTF-8, with or without a byte-order mark);
- training side, imports Keras/TensorFlow when imported: ``models`` (lazily), ``recording``,
  ``engine``, ``training``;
- ``views``: the Manim building blocks the scenes in ``scenes/`` draw with, one family a
  module; the only part of geomcore that imports Manim;
- ``explore``: the offline HTML explorer of a run (numpy side; its page's script and template
  are package data in ``geomcore/data/explorer/``);
- ``cli``: the ``geomcore`` command.

``import geomcore`` imports neither Manim nor TensorFlow.
"""

from __future__ import annotations

__version__ = "0.1.0"

from geomcore.errors import DatasetError, ExperimentError, GeomcoreError, TrajectoryError
from geomcore.experiment import Experiment, find_experiment, load_experiment
from geomcore.trajectory import Trajectory

__all__ = [
    "DatasetError",
    "Experiment",
    "ExperimentError",
    "GeomcoreError",
    "Trajectory",
    "TrajectoryError",
    "__version__",
    "find_experiment",
    "load_experiment",
]
