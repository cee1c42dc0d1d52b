"""geomcore.trajectory: save and load bit for bit; damaged, foreign and hostile files refused.

Also shows that the replay side needs numpy only: a trajectory is loaded and replayed in a
process where TensorFlow and Keras cannot be imported.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from helpers import REPORT_IMPORT, assert_imported_checkout, child_env

from geomcore.errors import TrajectoryError
from geomcore.trajectory import METADATA_KEYS, SCHEMA_VERSION, Trajectory


def copy_of(trajectory: Trajectory) -> tuple[dict[str, np.ndarray], dict]:
    arrays = {k: v.copy() for k, v in trajectory.arrays.items()}
    return arrays, json.loads(json.dumps(trajectory.metadata))


def write_npz(path, arrays, metadata=None):
    """An ``.npz`` as numpy writes it (pickles allowed), with optional JSON metadata."""
    payload = dict(arrays)
    if metadata is not None:
        payload["metadata"] = np.array(json.dumps(metadata))
    with open(path, "wb") as f:
        np.savez(f, **payload)
    return path


def assert_refused(path, *fragments):
    with pytest.raises(TrajectoryError) as info:
        Trajectory.load(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


# -- round trip ---------------------------------------------------------------------------


#: NaNs with payloads (quiet, negative, signalling) and a negative zero, as raw bits.
NAN_BITS_64 = np.array([0x7FF8000000000123, 0xFFF8000000000001, 0x7FF0000000000001,
                        0x8000000000000000], dtype=np.uint64)
NAN_BITS_32 = np.array([0x7FC00123, 0xFFC00001, 0x7F800001, 0x80000000], dtype=np.uint32)


def test_save_then_load_preserves_every_array_bit_for_bit(tiny_run, tmp_path):
    arrays, metadata = copy_of(tiny_run.trajectory)
    # Special values where a recording may hold them: NaN payloads and -0.0 in the weights
    # and the loss (a diverged step), -0.0 in the grid inputs and a bias.
    special = {"loss": NAN_BITS_64, "kernel.hidden_1": NAN_BITS_32,
               "probe.hidden_2": NAN_BITS_32}
    for name, bits in special.items():
        flat = arrays[name].reshape(-1)
        assert flat.dtype.itemsize == bits.dtype.itemsize, name
        flat.view(bits.dtype)[: len(bits)] = bits
    arrays["grid_inputs"][0, 0, 1] = -0.0
    arrays["bias.output"][0, 0] = -0.0
    original = Trajectory(arrays, metadata)
    path = original.save(tmp_path / "sub" / "run.npz")
    assert path == tmp_path / "sub" / "run.npz" and path.is_file()
    loaded = Trajectory.load(path)
    assert set(loaded.arrays) == set(original.arrays)
    for name, a in original.arrays.items():
        b = loaded.arrays[name]
        assert b.dtype == a.dtype, name
        assert b.shape == a.shape, name
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
        assert a.tobytes() == b.tobytes(), name  # bit for bit, -0.0 and NaN payloads included
    for name, bits in special.items():
        got = loaded.arrays[name].reshape(-1).view(bits.dtype)[: len(bits)]
        assert got.tolist() == bits.tolist(), name
    assert np.signbit(loaded.grid_inputs[0, 0, 1]) and loaded.grid_inputs[0, 0, 1] == 0.0
    assert np.signbit(loaded.arrays["bias.output"][0, 0])
    assert loaded.metadata == json.loads(json.dumps(original.metadata))
    assert set(METADATA_KEYS) <= set(loaded.metadata)
    assert loaded.metadata["schema_version"] == SCHEMA_VERSION


def test_special_float_values_survive(tiny_run, tmp_path):
    arrays, metadata = copy_of(tiny_run.trajectory)
    arrays["grid_inputs"][0, :4, 0] = [-0.0, np.finfo(np.float64).tiny, 1e308, -1e-320]
    arrays["probe_inputs"] = np.asfortranarray(arrays["probe_inputs"])
    path = Trajectory(arrays, metadata).save(tmp_path / "special.npz")
    loaded = Trajectory.load(path)
    assert loaded.grid_inputs.tobytes() == arrays["grid_inputs"].tobytes()
    assert np.signbit(loaded.grid_inputs[0, 0, 0])
    assert np.array_equal(loaded.probe_inputs, arrays["probe_inputs"])


def test_the_file_is_a_plain_npz_without_pickles(tiny_run):
    with np.load(tiny_run.path, allow_pickle=False) as npz:
        assert set(npz.files) == set(tiny_run.trajectory.arrays) | {"metadata"}
        metadata = json.loads(str(npz["metadata"]))
    assert metadata["experiment"] == tiny_run.experiment.to_dict()


def test_views(tiny_run):
    t = tiny_run.trajectory
    assert t.n_snapshots == 4 and list(t.epochs) == [0, 1, 2, 3]
    assert t.layer_names == ["hidden_1", "hidden_2", "output"]
    assert t.hidden_layer_names == ["hidden_1", "hidden_2"] and t.widths == [3, 2, 1]
    assert t.name == "tiny" and not t.diverged
    kernels, biases = t.weights(2)
    assert np.array_equal(kernels[1], t.arrays["kernel.hidden_2"][2])
    net = t.network(-1)
    assert np.array_equal(net.kernels[0], t.arrays["kernel.hidden_1"][3])
    assert np.array_equal(net.biases[2], t.arrays["bias.output"][3])
    assert net.activations == ("tanh", "tanh", "sigmoid")
    with pytest.raises(IndexError):
        t.network(4)
    with pytest.raises(IndexError):
        t.network(-5)


# -- damaged and foreign files ------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.9, 0.999])
def test_truncated_file(tiny_run, tmp_path, fraction):
    data = tiny_run.path.read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[: int(len(data) * fraction)])
    assert_refused(path)


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_flipped_byte_is_detected(tiny_run, tmp_path, where):
    data = bytearray(tiny_run.path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path = tmp_path / "corrupted.npz"
    path.write_bytes(bytes(data))
    assert_refused(path)


def test_flipped_byte_in_every_member(tiny_run, tmp_path):
    """One flipped bit in the data of any array is caught (CRC), whichever array it is."""
    data = tiny_run.path.read_bytes()
    with zipfile.ZipFile(tiny_run.path) as zf:
        infos = zf.infolist()
    for info in infos:
        # Local header: 30 bytes, then the name and the extra field; the data follows.
        off = info.header_offset
        name_len = int.from_bytes(data[off + 26: off + 28], "little")
        extra_len = int.from_bytes(data[off + 28: off + 30], "little")
        start = off + 30 + name_len + extra_len
        damaged = bytearray(data)
        damaged[start + info.compress_size - 1] ^= 0x80  # last byte of the array's data
        path = tmp_path / f"flip-{info.filename}"
        path.write_bytes(bytes(damaged))
        assert_refused(path)


def test_not_a_zip_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("these are not the arrays you are looking for\n")
    assert_refused(path, "not a trajectory file")


def test_a_plain_npy_file(tmp_path):
    path = tmp_path / "array.npz"
    np.save(path.with_suffix(".npy"), np.arange(10))
    path.with_suffix(".npy").rename(path)
    assert_refused(path)


def test_missing_file_and_directory(tmp_path):
    assert_refused(tmp_path / "nowhere.npz", "no such trajectory file")
    assert_refused(tmp_path, "directory")


def test_foreign_npz_without_metadata(tmp_path):
    path = write_npz(tmp_path / "foreign.npz", {"a": np.arange(3), "b": np.ones((2, 2))})
    assert_refused(path, "missing metadata")


def test_zip_with_other_members(tiny_run, tmp_path):
    path = tmp_path / "extra.npz"
    path.write_bytes(tiny_run.path.read_bytes())
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("README.txt", "hello")
    assert_refused(path, "'README.txt'")


def test_metadata_that_is_not_json(tiny_run, tmp_path):
    arrays, _ = copy_of(tiny_run.trajectory)
    path = tmp_path / "badjson.npz"
    write_npz(path, {**arrays, "metadata": np.array("{not json")})
    assert_refused(path, "JSON")


class PickleBomb:
    """Unpickling this creates ``marker``: proof that a pickle was executed."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


@pytest.mark.parametrize("as_required_array", [False, True])
def test_pickled_object_is_refused_and_never_unpickled(tiny_run, tmp_path, as_required_array):
    arrays, metadata = copy_of(tiny_run.trajectory)
    marker = tmp_path / "unpickled.marker"
    bomb = np.empty(1, dtype=object)
    bomb[0] = PickleBomb(marker)
    if as_required_array:
        arrays["loss"] = bomb
    else:
        arrays["extra"] = bomb
    path = write_npz(tmp_path / "pickle.npz", arrays, metadata)

    assert_refused(path, "Python objects")
    assert not marker.exists()

    # The file really is hostile: numpy with allow_pickle=True would run the payload.
    with np.load(path, allow_pickle=True) as npz:
        npz["loss" if as_required_array else "extra"]
    assert marker.exists()


def test_header_declaring_more_data_than_present_is_refused(tmp_path):
    # A hand-made .npy header claiming a huge array, holding 8 bytes.
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**3)}
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("epoch.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, header)
            f.write(b"\0" * 8)
    message = assert_refused(path, "'epoch'")
    assert "bytes" in message


@pytest.mark.parametrize(("version", "word"), [(SCHEMA_VERSION + 1, "newer"), (0, "older")])
def test_other_schema_version_is_refused(tiny_run, tmp_path, version, word):
    arrays, metadata = copy_of(tiny_run.trajectory)
    metadata["schema_version"] = version
    path = write_npz(tmp_path / "future.npz", arrays, metadata)
    assert_refused(path, word, f"schema version {version}")


def test_missing_or_misshapen_array_is_named(tiny_run, tmp_path):
    arrays, metadata = copy_of(tiny_run.trajectory)
    del arrays["grid.hidden_2"]
    assert_refused(write_npz(tmp_path / "missing.npz", arrays, metadata), "'grid.hidden_2'")

    arrays, metadata = copy_of(tiny_run.trajectory)
    arrays["kernel.hidden_1"] = arrays["kernel.hidden_1"][:, :, :2]
    assert_refused(write_npz(tmp_path / "shape.npz", arrays, metadata), "'kernel.hidden_1'")

    arrays, metadata = copy_of(tiny_run.trajectory)
    arrays["accuracy"] = arrays["accuracy"].astype("U8")
    assert_refused(write_npz(tmp_path / "dtype.npz", arrays, metadata), "'accuracy'")

    arrays, metadata = copy_of(tiny_run.trajectory)
    del metadata["data_hash"]
    assert_refused(write_npz(tmp_path / "meta.npz", arrays, metadata), "data_hash")


def test_construction_validates_too(tiny_run):
    arrays, metadata = copy_of(tiny_run.trajectory)
    arrays["step"] = arrays["step"][::-1].copy()
    with pytest.raises(TrajectoryError, match="<memory>.*increasing step order"):
        Trajectory(arrays, metadata)


# -- atomic writes ------------------------------------------------------------------------


def test_save_leaves_no_temporary_files(tiny_run, tmp_path):
    target = tmp_path / "atomic.npz"
    tiny_run.trajectory.save(target)
    tiny_run.trajectory.save(target)  # over an existing file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.npz"]
    assert Trajectory.load(target).n_snapshots == tiny_run.trajectory.n_snapshots


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_while_writing_keeps_the_previous_file(tiny_run, tmp_path, monkeypatch, error):
    target = tmp_path / "atomic.npz"
    tiny_run.trajectory.save(target)
    before = target.read_bytes()

    def savez_that_fails(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")  # part written ...
        raise error("disk full")  # ... then the writer dies

    monkeypatch.setattr(np, "savez", savez_that_fails)
    arrays, metadata = copy_of(tiny_run.trajectory)
    arrays["loss"] = arrays["loss"] * 2
    with pytest.raises(error, match="disk full"):
        Trajectory(arrays, metadata).save(target)

    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.npz"]
    monkeypatch.undo()
    assert np.array_equal(Trajectory.load(target).loss, tiny_run.trajectory.loss)


# -- replay without TensorFlow ------------------------------------------------------------

REPLAY = textwrap.dedent(
    """
    import json, sys

    class Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras"):
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocked())
    try:
        import tensorflow  # noqa: F401
        blocked = False
    except ImportError:
        blocked = True

    import numpy as np
    import geomcore
    from geomcore.cache import load_or_record
    from geomcore.datasets import make_dataset
    from geomcore.experiment import Experiment
    from geomcore.geometry import clip_line_to_box, grid_lines
    from geomcore.trajectory import Trajectory

    trajectory = Trajectory.load(sys.argv[1])
    net = trajectory.network(-1)
    exp = Experiment.from_dict(trajectory.metadata["experiment"])
    x, y = make_dataset(exp.dataset.name, seed=exp.seed, **exp.dataset.params)
    error = max(
        float(np.max(np.abs(net.forward(trajectory.probe_inputs, upto=n)
                            - trajectory.arrays[f"probe.{n}"][-1])))
        for n in trajectory.hidden_layer_names
    )
    cached, _ = load_or_record(exp, directory=sys.argv[2], progress=False)
    print(json.dumps({
        "blocked": blocked,
        "accuracy": net.accuracy(x, y),
        "probe_error": error,
        "cached_accuracy": float(cached.accuracy[-1]),
        "training_modules": sorted(
            m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")
        ),
    }))
    """
)


def test_replay_needs_numpy_only(tiny_run, tmp_path):
    from geomcore.cache import trajectory_path

    cache = tmp_path / "cache-for-replay"
    tiny_run.trajectory.save(trajectory_path(tiny_run.experiment, cache))
    script, report = tmp_path / "replay.py", tmp_path / "imported"
    # Reported at the end: the geomcore the replay already imported (TensorFlow blocked).
    script.write_text(REPLAY + REPORT_IMPORT)
    done = subprocess.run(
        [sys.executable, str(script), str(tiny_run.path), str(cache)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=child_env(report),
    )
    assert done.returncode == 0, done.stderr
    assert_imported_checkout(report)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["blocked"] is True
    assert result["training_modules"] == []  # 'tensorflow' not in sys.modules
    expected = float(tiny_run.trajectory.accuracy[-1])
    assert result["accuracy"] == expected
    assert result["cached_accuracy"] == expected
    assert result["probe_error"] <= 1e-5


# -- issue 7: hostile headers, metadata a render relies on, the no-learning verdict -------


def write_members(path, members):
    """A zip of raw ``.npy`` members: name -> (header dict, data bytes)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, (header, data) in members.items():
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array_header_1_0(f, header)
                f.write(data)
    return path


@pytest.mark.parametrize(("shape", "fragment"), [
    ((10**12,), "more than a trajectory may hold"),        # 8 TB of float64
    ((2**40, 2**40), "more than a trajectory may hold"),   # wraps around in int64
    ((2**62, 4), "more than a trajectory may hold"),       # product exactly 2**64: 0 in int64
    ((-1, 8), "negative shape"),
    ((100,), "but its member holds"),                      # 800 bytes declared, 8 held
])
def test_enormous_or_lying_header_is_refused_before_reading(tmp_path, monkeypatch, shape,
                                                            fragment):
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    path = write_members(tmp_path / "enormous.npz", {"epoch": (header, b"\0" * 8)})
    before = path.read_bytes()
    reads = []
    real_frombuffer = np.frombuffer
    monkeypatch.setattr(np, "frombuffer", lambda *a, **k: reads.append(1) or real_frombuffer(
        *a, **k))
    message = assert_refused(path, "'epoch'", fragment)
    assert reads == []  # no array data was read
    assert str(shape) in message
    assert path.read_bytes() == before


def test_arrays_declaring_too_much_together_are_refused(tmp_path, monkeypatch):
    import geomcore.trajectory as trajectory_module

    monkeypatch.setattr(trajectory_module, "MAX_ARRAY_BYTES", 100)
    header = {"descr": "<f8", "fortran_order": False, "shape": (8,)}  # 64 bytes each
    path = write_members(tmp_path / "many.npz", {"a": (header, b"\0" * 64),
                                                 "b": (header, b"\0" * 64)})
    assert_refused(path, "'b'", "more than a trajectory may hold (100 bytes in all)")


def test_array_stored_twice_is_refused(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (1,)}
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(path, "w") as zf:
            for _ in range(2):
                with zf.open("epoch.npy", "w") as f:
                    np.lib.format.write_array_header_1_0(f, header)
                    f.write(b"\0" * 8)
    assert_refused(path, "'epoch' is stored twice")


@pytest.mark.parametrize(("change", "fragment"), [
    ({"activations": ["tanh", "gelu", "sigmoid"]}, "activations"),
    ({"activations": ["tanh", "tanh", "tanh"]}, "end with the sigmoid output unit"),
    ({"layer_names": ["a", "a", "output"]}, "distinct names"),
    ({"bounds": [1.0, -1.0, 0.0, 1.0]}, "finite box"),
    ({"bounds": [0, 1, 0]}, "finite box"),
    ({"diverged": "no"}, "diverged must be true or false"),
    ({"diverged_at_epoch": "soon"}, "diverged_at_epoch a number"),
    ({"class_counts": [10]}, "class_counts [10]"),
    ({"class_counts": [0, 0]}, "class_counts [0, 0]"),
])
def test_metadata_a_render_relies_on_is_checked(tiny_run, tmp_path, change, fragment):
    arrays, metadata = copy_of(tiny_run.trajectory)
    metadata.update(change)
    path = write_npz(tmp_path / "meta.npz", arrays, metadata)
    assert_refused(path, fragment)


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("epoch", np.array([0.0, 1.0, np.nan, 3.0]), "finite epochs"),
    ("epoch", np.array([-1.0, 1.0, 2.0, 3.0]), "finite epochs"),
    ("probe_labels", None, "class labels 0 and 1"),
    ("grid_inputs", None, "must be finite"),
])
def test_arrays_a_render_relies_on_are_checked(tiny_run, tmp_path, name, value, fragment):
    arrays, metadata = copy_of(tiny_run.trajectory)
    if name == "probe_labels":
        arrays[name][0] = 2
    elif name == "grid_inputs":
        arrays[name][0, 0, 0] = np.inf
    else:
        arrays[name] = value
    assert_refused(write_npz(tmp_path / "arrays.npz", arrays, metadata), f"'{name}'", fragment)


def with_accuracy(trajectory, final, counts=None):
    arrays, metadata = copy_of(trajectory)
    arrays["accuracy"][-1] = final
    if counts is None:
        metadata.pop("class_counts", None)
    else:
        metadata["class_counts"] = counts
    return Trajectory(arrays, metadata)


@pytest.mark.parametrize(("final", "counts", "chance", "flagged"), [
    (0.5, [200, 200], 0.5, True),
    (0.549, [200, 200], 0.5, True),
    (0.551, [200, 200], 0.5, False),
    (0.3, [200, 200], 0.5, True),     # below chance is no learning either
    (0.79, [100, 300], 0.75, True),   # always answering class 1 scores 0.75
    (0.81, [100, 300], 0.75, False),
    (0.52, None, 0.5, True),          # older files: chance from the balanced probe labels
])
def test_no_learning_is_final_accuracy_within_5_points_of_chance(tiny_run, final, counts,
                                                                 chance, flagged):
    t = with_accuracy(tiny_run.trajectory, final, counts)
    assert t.chance_accuracy == pytest.approx(chance)
    assert t.no_learning is flagged
    assert t.summary()["no_learning"] is flagged
    verdict = t.learning_verdict()
    if flagged:
        assert verdict == (f"tiny did not learn: final accuracy {final:.4f} is within 0.05 of "
                           f"chance ({chance:.4f}, always answering the majority class)")
    else:
        assert verdict is None


def test_recorded_runs_store_their_class_counts(tiny_run):
    assert tiny_run.trajectory.metadata["class_counts"] == [200, 200]
    assert Trajectory.load(tiny_run.path).chance_accuracy == 0.5


def test_saved_file_gets_the_usual_permissions(tiny_run, tmp_path):
    old = os.umask(0o022)
    try:
        path = tiny_run.trajectory.save(tmp_path / "t.npz")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
