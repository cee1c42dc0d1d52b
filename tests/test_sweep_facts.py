"""The conclusion's claim, worded from a seed sweep's summary rows (no training)."""

from __future__ import annotations

import pytest
from sweep_helpers import seed_sweep_rows

from geomcore.errors import GeomcoreError
from scenes import facts


def test_the_claim_counts_the_seeds_that_separate_the_rings_per_width():
    rows = seed_sweep_rows({2: (0, 32), 3: (31, 32)})
    assert facts.seed_claim(rows) == ("Seeds that separate the rings (final accuracy ≥ 99 %): "
                                      "width 2: 0 of 32; width 3: 31 of 32")
    assert facts.separated_counts(seed_sweep_rows({3: (5, 8), 2: (1, 4)})) == {
        2: (1, 4), 3: (5, 8)}


def test_the_threshold_and_divergence_decide_what_separates():
    rows = seed_sweep_rows({3: (0, 4)})
    rows[0]["final_accuracy"] = facts.SEPARATES_ACCURACY  # exactly the threshold: separates
    rows[1]["final_accuracy"] = facts.SEPARATES_ACCURACY - 1e-9  # just below: does not
    rows[2].update(final_accuracy=1.0, diverged=True)  # its last finite snapshot: does not
    rows[3]["final_accuracy"] = 0.995
    assert facts.separated_counts(rows) == {3: (2, 4)}
    assert facts.seed_claim(rows).endswith("width 3: 2 of 4")


def test_no_rows_is_an_error():
    with pytest.raises(GeomcoreError, match="no sweep runs"):
        facts.seed_claim([])


def test_the_lecture_reads_the_given_summary_and_records_nothing(monkeypatch):
    import geomcore.sweep
    from scenes.stage import LectureRuns

    def no_sweep(*args, **kwargs):
        raise AssertionError("a sweep was recorded")

    monkeypatch.setattr(geomcore.sweep, "run_sweep", no_sweep)
    rows = seed_sweep_rows()
    assert LectureRuns(_sweep=rows).seed_sweep() is rows


def test_the_lecture_reads_a_recorded_summary_without_recording(monkeypatch, tmp_path):
    import geomcore.sweep as sweep
    from geomcore.cache import trajectory_path
    from geomcore.experiment import find_experiment
    from scenes import stage

    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(stage, "SWEEP_SEEDS", 3)
    written = {}
    for width in stage.SWEEP_WIDTHS:
        spec = sweep.seed_sweep(find_experiment(f"circles-{width}d"), 3)
        rows = seed_sweep_rows({width: (width - 1, 3)})
        for row, run in zip(rows, sweep.sweep_runs(spec)):
            row["trajectory"] = str(trajectory_path(run, tmp_path))
        sweep.write_summary(spec.name, rows, tmp_path)
        written[width] = rows

    def no_sweep(*args, **kwargs):
        raise AssertionError("a sweep was recorded")

    monkeypatch.setattr(sweep, "run_sweep", no_sweep)
    rows = stage.LectureRuns().seed_sweep()
    assert rows == written[2] + written[3]
    assert facts.seed_claim(rows).endswith("width 2: 1 of 3; width 3: 2 of 3")


def test_the_lecture_cache_of_the_tests_holds_a_summary_and_no_sweep_is_recorded(
        tmp_path, monkeypatch):
    from sweep_helpers import write_lecture_seed_sweeps

    import geomcore.sweep as sweep
    from scenes import stage

    written = write_lecture_seed_sweeps(tmp_path)
    monkeypatch.setenv("GEOMCORE_CACHE_DIR", str(tmp_path))

    def no_sweep(*args, **kwargs):
        raise AssertionError("a sweep was recorded")

    monkeypatch.setattr(sweep, "run_sweep", no_sweep)
    rows = stage.LectureRuns().seed_sweep()
    assert rows == written and len(rows) == 2 * stage.SWEEP_SEEDS
    assert facts.seed_claim(rows).endswith("width 2: 0 of 32; width 3: 31 of 32")


def test_a_sweeps_summary_is_named_by_its_runs_not_by_where_the_cache_is(tmp_path):
    from geomcore.sweep import _summary_paths

    runs = ["circles-2d-aaaaaaaaaaaa.npz", "circles-2d-bbbbbbbbbbbb.npz"]
    here = _summary_paths("s", [str(tmp_path / "a" / r) for r in runs], tmp_path / "a")
    there = _summary_paths("s", [f"/mnt/shared/{r}" for r in runs], tmp_path / "b")
    assert [p.name for p in here] == [p.name for p in there]
    assert here[1].parent == tmp_path / "a" / "sweeps"
    other = _summary_paths("s", [str(tmp_path / "a" / r) for r in runs[:1]], tmp_path / "a")
    assert other[1].name != here[1].name
