"""geomcore: record how a small Keras network deforms the plane while it trains.

What lives here and what it may import:

- numpy-only core, safe to import in a replay (no TensorFlow, no Manim):
  ``datasets``, ``experiment``, ``geometry``, ``trajectory``, ``cache``, ``errors``;
- training side, imports Keras/TensorFlow when imported: ``models`` (lazily), ``recording``,
  ``training``;
- ``cli``: the ``geomcore`` command.

Manim building blocks live in ``scenes/``; nothing in this package imports Manim.
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
