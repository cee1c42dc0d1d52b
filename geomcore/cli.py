"""The ``geomcore`` command: list, record, sweep, inspect, explore, render and compare runs.

Bad input ends with a one-line error on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from geomcore.errors import GeomcoreError
from geomcore.experiment import (
    EXPERIMENTS_DIR,
    TRAINERS,
    find_experiment,
    list_experiments,
    load_experiment,
)
from geomcore.trajectory import NO_LEARNING_MARGIN, Trajectory

__all__ = ["main"]


def _one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GeomcoreError as err:
            raise click.ClickException(" ".join(str(err).split())) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="geomcore")
def main() -> None:
    """Record how a small Keras network bends the plane while it trains."""


@main.command("list")
@_one_line_errors
def list_cmd() -> None:
    """List the shipped experiments and whether their trajectory is recorded."""
    from geomcore.cache import trajectory_path

    for name in list_experiments():
        exp = load_experiment(EXPERIMENTS_DIR / f"{name}.toml")
        cached = "recorded" if trajectory_path(exp).is_file() else "not recorded"
        widths = "-".join(str(w) for w in exp.model.hidden_widths)
        click.echo(f"{name:<16} widths 2-{widths}-1  {cached:<13} {exp.description}")


@main.command("train")
@click.argument("experiment")
@click.option("--force", is_flag=True, help="Record again even if a trajectory is cached.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--trainer",
    type=click.Choice(TRAINERS),
    default=TRAINERS[0],
    show_default=True,
    help="engine: whole epochs in one compiled TensorFlow call; fit: keras model.fit with "
    "the recording callback.",
)
@_one_line_errors
def train_cmd(experiment: str, force: bool, quiet: bool, trainer: str) -> None:
    """Record EXPERIMENT (a shipped name or a .toml file); print the trajectory's path."""
    from geomcore.cache import load_or_record

    exp = find_experiment(experiment)
    trajectory, path = load_or_record(exp, force=force, progress=not quiet, trainer=trainer)
    for verdict in (trajectory.divergence_verdict(), trajectory.learning_verdict()):
        if verdict is not None:
            click.echo(f"warning: {verdict}", err=True)
    click.echo(str(path))


@main.command("inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@_one_line_errors
def inspect_cmd(path: Path, as_json: bool) -> None:
    """Summarise the trajectory file PATH."""
    trajectory = Trajectory.load(path)
    summary = {**trajectory.summary(), **_recorded_setup(trajectory.metadata)}
    if as_json:
        from geomcore.topology import nesting_lost_at_epoch

        summary["nesting_lost_at_epoch"], summary["nesting_lost_reason"] = (
            nesting_lost_at_epoch(trajectory))
        click.echo(json.dumps(summary, indent=2))
        return
    widths = "-".join(str(w) for w in summary["widths"])
    acts = summary["activations"]
    # One name when every hidden layer shares it (the output: sigmoid, or softmax for K).
    shown = acts[0] if len(set(acts[:-1])) == 1 else ", ".join(acts)
    name = summary["experiment"]
    click.echo(f"experiment      {name}" if name is not None else
               f"experiment      none: recorded by user code ({summary['trainer']})")
    click.echo(f"network         2-{widths}  ({shown})")
    click.echo(f"loss            {summary['loss']}")
    optimizers = [f"{o['name']}, learning rate {o['learning_rate']:g}"
                  if o["learning_rate"] is not None else f"{o['name']}, learning rate unknown"
                  for o in summary["optimizers"]]
    froms = [o["from_epoch"] for o in summary["optimizers"]]
    click.echo("optimizer       " + ("; ".join(
        text if i == 0 else f"from epoch {epoch:g}: {text}"
        for i, (text, epoch) in enumerate(zip(optimizers, froms))) or "not recorded"))
    click.echo(f"epochs          {summary['epochs']:g}  ({summary['snapshots']} snapshots, "
               f"{summary['steps']} steps)")
    click.echo(f"final loss      {summary['final_loss']:.6f}")
    click.echo(f"final accuracy  {summary['final_accuracy']:.4f}")
    if summary["classes"] > 2:
        click.echo("per-class acc   " + "  ".join(
            f"{c}: {a:.4f}" if a is not None else f"{c}: -"
            for c, a in enumerate(summary["per_class_accuracy"])) + "  (probe points)")
    if summary["diverged"]:
        at = summary["diverged_at_epoch"]
        click.echo(f"DIVERGED        at epoch {at:g}: a value became non-finite; "
                   f"the {summary['snapshots']} snapshot(s) before it are kept"
                   if at is not None else "DIVERGED        (epoch unknown)")
    if summary["no_learning"]:
        click.echo(f"NO LEARNING     final accuracy {summary['final_accuracy']:.4f} is within "
                   f"{NO_LEARNING_MARGIN:g} of chance ({summary['chance_accuracy']:.4f}, "
                   "always the majority class)")
    click.echo(f"schema version  {summary['schema_version']}")


@main.command("explore")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The HTML file to write (one self-contained page).")
@click.option("--max-points", type=click.IntRange(min=1), default=4000, show_default=True,
              help="Probe points kept in the page; more are subsampled.")
@_one_line_errors
def explore_cmd(source: str, output: Path, max_points: int) -> None:
    """Write an offline, interactive explorer of SOURCE (a .npz trajectory or an experiment).

    An experiment (a shipped name or a .toml file) is recorded first if it is not cached.
    """
    from geomcore.explore import write_explorer

    if Path(source).suffix == ".npz":
        trajectory = Trajectory.load(source)
    else:
        from geomcore.cache import load_or_record

        trajectory, _ = load_or_record(find_experiment(source), progress=False)
    path = write_explorer(trajectory, output, max_probe_points=max_points)
    click.echo(str(path))


@main.command("render")
@click.argument("source")
@click.option("-q", "--quality", default="l", show_default=True, metavar="[l|m|h|k]",
              help="As Manim's -ql/-qm/-qh/-qk: 480p15, 720p30, 1080p60, 2160p60.")
@click.option("--seconds", type=float, default=10.0, show_default=True,
              help="Length of the video in seconds (the last tenth holds the final state).")
@click.option("--format", "fmt", default="mp4", show_default=True,
              metavar="[mp4|gif|webm|png|svg|pdf]",
              help="A video, or a still (png; svg, pdf: vectors) of the final state or --epoch.")
@click.option("--epoch", type=float, default=None,
              help="With a still format: the epoch to show (default: the last).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The file to write (default: NAME.FORMAT in the current folder).")
@click.option("--title", default=None,
              help="Heading at the top of the frame (default: the run's name).")
@click.option("--quiet", is_flag=True, help="No progress bar while recording.")
@_one_line_errors
def render_cmd(source: str, quality: str, seconds: float, fmt: str, epoch: float | None,
               output: Path | None, title: str | None, quiet: bool) -> None:
    """Render the replay of SOURCE (an experiment or a .npz trajectory); print the file's path.

    An experiment (a shipped name or a .toml file) is recorded first if it is not cached.
    """
    from geomcore.render import FORMATS, QUALITIES, render_replay

    # Check the cheap options before recording: a typo must not cost a training run.
    if quality not in QUALITIES:
        raise GeomcoreError(f"unknown quality {quality!r}; expected one of {sorted(QUALITIES)}")
    if fmt not in FORMATS:
        raise GeomcoreError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    trajectory = _load_source(source, progress=not quiet)
    path = render_replay(
        trajectory, output if output is not None else Path(f"{trajectory.name}.{fmt}"),
        quality=quality, seconds=seconds, fmt=fmt, epoch=epoch,
        heading=trajectory.name if title is None else title,
    )
    click.echo(str(path))


@main.command("compare")
@click.argument("sources", nargs=-1, required=True)
@click.option("-q", "--quality", default="l", show_default=True, metavar="[l|m|h|k]",
              help="As Manim's -ql/-qm/-qh/-qk: 480p15, 720p30, 1080p60, 2160p60.")
@click.option("--seconds", type=float, default=10.0, show_default=True,
              help="Length of the video in seconds (the last tenth holds the final state).")
@click.option("--format", "fmt", default="mp4", show_default=True, metavar="[mp4|gif|webm]",
              help="The video format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The file to write (default: compare-A-B.FORMAT in the current folder).")
@click.option("--quiet", is_flag=True, help="No progress bar while recording.")
@_one_line_errors
def compare_cmd(sources: tuple[str, ...], quality: str, seconds: float, fmt: str,
                output: Path | None, quiet: bool) -> None:
    """Render 2 to 4 runs (experiments or .npz files) side by side, same epoch at same time.

    Experiments are recorded first if they are not cached. Prints the file's path.
    """
    from geomcore.render import FORMATS, MAX_COMPARED, QUALITIES, STILLS, render_compare

    if not 2 <= len(sources) <= MAX_COMPARED:
        raise GeomcoreError(f"compare takes 2 to {MAX_COMPARED} runs; got {len(sources)}")
    if quality not in QUALITIES:
        raise GeomcoreError(f"unknown quality {quality!r}; expected one of {sorted(QUALITIES)}")
    videos = [f for f in FORMATS if f not in STILLS]
    if fmt not in videos:
        raise GeomcoreError(f"unknown format {fmt!r}; expected one of {videos}")
    trajectories = [_load_source(s, progress=not quiet) for s in sources]
    name = "compare-" + "-".join(t.name for t in trajectories)
    path = render_compare(trajectories, output if output is not None else Path(f"{name}.{fmt}"),
                          quality=quality, seconds=seconds, fmt=fmt)
    click.echo(str(path))


@main.command("sweep")
@click.argument("source")
@click.option("--seeds", type=int, default=None,
              help="With an EXPERIMENT: record its seeds 0 .. N-1.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs of every run (default: the experiment's).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="A running Dask scheduler (tcp://host:8786) whose workers share the cache "
              "folder; default: a local cluster on this machine.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local cluster (default: one per core).")
@click.option("--in-process", is_flag=True,
              help="Train the groups one after the other in this process, without Dask.")
@click.option("--force", is_flag=True, help="Record runs again even if they are cached.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_one_line_errors
def sweep_cmd(source: str, seeds: int | None, epochs: int | None, scheduler: str | None,
              workers: int | None, in_process: bool, force: bool, quiet: bool) -> None:
    """Record many runs: EXPERIMENT --seeds N, or a grid given in a SWEEP.toml file.

    Runs that differ only in their seed are trained as one batched program (up to 16 copies
    each); each run's trajectory goes into the cache as `geomcore train` would write it.
    Prints the summary table, a histogram of final accuracy per configuration, and the
    paths of the summary's CSV and JSON files (in the cache folder's sweeps/).
    """
    from geomcore import sweep

    if in_process and (scheduler is not None or workers is not None):
        raise GeomcoreError("--in-process trains in this process; leave out --scheduler and "
                            "--workers")
    if _is_sweep_file(source):
        if seeds is not None:
            raise GeomcoreError(f"{source} is a sweep file: give its seeds there (seeds = N), "
                                "not with --seeds")
        spec = sweep.load_sweep(source)
        if epochs is not None:
            spec = dataclasses.replace(spec, epochs=epochs)
    else:
        if seeds is None:
            raise GeomcoreError(f"sweep {source}: how many seeds? expected --seeds N, or a sweep "
                                ".toml file with the key experiment")
        spec = sweep.seed_sweep(find_experiment(source), seeds, epochs=epochs)
    report, stop = (lambda done, total: None), (lambda: None)
    if not quiet:
        report, stop = sweep.rich_progress(spec.name)
    try:
        rows, csv_path, json_path = sweep.run_sweep(
            spec, scheduler=scheduler, workers=workers, in_process=in_process, force=force,
            progress=report)
    finally:
        stop()
    _print_summary(rows)
    click.echo(sweep.accuracy_histogram(rows))
    click.echo(str(csv_path))
    click.echo(str(json_path))


def _is_sweep_file(source: str) -> bool:
    """Whether SOURCE is a sweep file: a .toml file with the top-level key ``experiment``."""
    from geomcore.textfile import read_toml

    path = Path(source)
    if path.suffix != ".toml" or not path.is_file():
        return False
    try:
        return "experiment" in read_toml(path, what="sweep file", error=GeomcoreError)
    except GeomcoreError:
        return False  # find_experiment reports what is wrong with the file


def _print_summary(rows: list[dict[str, Any]]) -> None:
    """The sweep's summary as a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} runs")
    for column, justify in (("experiment", "left"), ("seed", "right"), ("widths", "left"),
                            ("lr", "right"), ("activation", "left"),
                            ("final acc", "right"), ("final loss", "right"),
                            ("diverged", "left"), ("nesting lost", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        at = r["diverged_at_epoch"]
        lost = r["nesting_lost_at_epoch"]
        table.add_row(
            r["experiment"], str(r["seed"]), r["widths"], f"{r['learning_rate']:g}",
            r["activation"], f"{r['final_accuracy']:.4f}", f"{r['final_loss']:.6f}",
            (f"at epoch {at:g}" if at is not None else "yes") if r["diverged"] else "no",
            "-" if lost is None else f"epoch {lost:g}",
        )
    console = Console()
    # Piped or captured: wide enough for every column, never wrapped at 80.
    (console if console.is_terminal else Console(width=120)).print(table)


def _load_source(source: str, *, progress: bool) -> Trajectory:
    """The trajectory of SOURCE: a ``.npz`` file, or an experiment recorded if needed."""
    if Path(source).suffix == ".npz":
        return Trajectory.load(source)
    from geomcore.cache import load_or_record

    trajectory, _ = load_or_record(find_experiment(source), progress=progress)
    return trajectory


def _recorded_setup(metadata: dict[str, Any]) -> dict[str, Any]:
    """Activations, loss and optimizers of a run, from its metadata (JSON-able).

    ``optimizers`` is a list of ``{"name", "learning_rate", "from_epoch"}``: the recording
    callback stores one per optimizer ``fit`` was compiled with; an experiment's run
    without that list has its experiment's optimizer; otherwise the list is empty.
    """
    optimizers = metadata.get("optimizers")
    if optimizers is None:
        training = metadata["experiment"].get("training", {})
        optimizers = [{"name": training["optimizer"], "learning_rate": training.get(
            "learning_rate"), "from_epoch": 0}] if "optimizer" in training else []
    return {"activations": list(metadata["activations"]), "loss": metadata["loss"],
            "optimizers": optimizers}


if __name__ == "__main__":  # ``python -m geomcore.cli``, as the installed ``geomcore`` command
    main()
