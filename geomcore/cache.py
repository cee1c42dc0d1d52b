"""Where an experiment's trajectory lives, and recording it on demand.

The path is derived from a hash of the experiment's full configuration and the schema
version, so changing any setting (or the file layout) records a new trajectory instead of
replaying a stale one. Loading a cached trajectory needs numpy only; recording imports the
training side (Keras) lazily.

What survives an interruption: a trajectory is written to a temporary file beside its target
(``.<name>.<random>.tmp``) and renamed over it when complete, so a killed run or save leaves
the previous file whole under the target's name. A killed process can leave its temporary
file behind; loading never reads it, and the next recording of that experiment deletes it
(under the experiment's lock, so never another process's file in progress).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from glob import escape as glob_escape
from pathlib import Path

from geomcore.errors import TrajectoryError
from geomcore.experiment import Experiment
from geomcore.trajectory import SCHEMA_VERSION, Trajectory

__all__ = ["DEFAULT_CACHE_DIR", "cache_dir", "load_or_record", "trajectory_path"]

#: Default folder of recorded trajectories, relative to the current directory (so
#: ``./data/trajectories`` from the repository root, git-ignored there), never beside the
#: installed package; ``GEOMCORE_CACHE_DIR`` overrides it.
DEFAULT_CACHE_DIR = Path("data") / "trajectories"


def cache_dir() -> Path:
    """The trajectory folder, as an absolute path.

    ``$GEOMCORE_CACHE_DIR`` if set and not empty, else :data:`DEFAULT_CACHE_DIR`; a relative
    folder is taken from the current directory at the time of the call.
    """
    env = os.environ.get("GEOMCORE_CACHE_DIR")
    return Path(env or DEFAULT_CACHE_DIR).absolute()


def trajectory_path(experiment: Experiment, directory: str | Path | None = None) -> Path:
    """``<directory>/<name>-<12 hex digits>.npz``, the digits hashing config and schema.

    Parameters
    ----------
    experiment
        The experiment.
    directory
        Folder of trajectories; :func:`cache_dir` when ``None``.
    """
    digest = hashlib.sha256(
        f"{experiment.config_hash()}:schema{SCHEMA_VERSION}".encode()
    ).hexdigest()[:12]
    return Path(directory or cache_dir()) / f"{experiment.name}-{digest}.npz"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path.lock`` so one process records a trajectory at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_temporaries(path: Path) -> list[Path]:
    """Delete the temporary files a killed save of ``path`` left behind; return them.

    Call with the lock of ``path`` held: only a save under that lock writes them.
    """
    stale = sorted(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def _rich_progress(name: str) -> tuple[Callable[[int, int, float], None], Callable[[], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(f"recording {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs  loss {task.fields[loss]:.4f}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays for results (e.g. the path written)
    )
    task = None

    def report(done: int, total: int, loss: float) -> None:
        nonlocal task
        if task is None:
            bar.start()
            task = bar.add_task(name, total=total, loss=float("nan"))
        bar.update(task, completed=done, loss=loss)

    return report, bar.stop


def load_or_record(
    experiment: Experiment,
    *,
    force: bool = False,
    directory: str | Path | None = None,
    progress: bool = True,
    trainer: str = "engine",
) -> tuple[Trajectory, Path]:
    """Load the experiment's cached trajectory, recording (and saving) it first if needed.

    Concurrent callers for the same experiment wait for each other (a file lock), so the
    experiment is recorded once and the file is always whole. Both trainers record the same
    trajectory (to float32 round-off), so they share one file per experiment; a cached file
    serves ``trainer="engine"`` whoever recorded it, and ``trainer="fit"`` only if ``fit``
    recorded it.

    Parameters
    ----------
    experiment
        The experiment.
    force
        Record again even if a trajectory is cached.
    directory
        Folder of trajectories; :func:`cache_dir` when ``None``.
    progress
        Show a progress bar while recording.
    trainer
        ``"engine"`` (default) or ``"fit"``, see :func:`geomcore.training.record_experiment`.

    Returns
    -------
    (Trajectory, Path)
        The trajectory and the file it is stored in.

    Raises
    ------
    TrajectoryError
        Never for a damaged cached file: that one is recorded again (and replaced atomically).
    """
    path = trajectory_path(experiment, directory)

    def cached() -> Trajectory | None:
        if force or not path.is_file():
            return None
        with contextlib.suppress(TrajectoryError):
            trajectory = Trajectory.load(path)
            if trainer != "fit" or trajectory.metadata["trainer"] == "keras.fit":
                return trajectory
        return None

    if (hit := cached()) is not None:
        return hit, path
    with _locked(path):
        # Another process may have recorded it while we waited for the lock.
        if (hit := cached()) is not None:
            return hit, path
        _remove_temporaries(path)
        from geomcore import training

        report, stop = _rich_progress(experiment.name) if progress else (None, lambda: None)
        try:
            # The engine is record_experiment's default; name the trainer only when it is
            # another, so stand-ins for record_experiment without a trainer keep working.
            options = {} if trainer == "engine" else {"trainer": trainer}
            trajectory = training.record_experiment(experiment, progress=report, **options)
        finally:
            stop()
        trajectory.save(path)
    return trajectory, path
