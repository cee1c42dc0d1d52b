"""Property-based tests: any file or experiment either loads or raises geomcore's own error.

Hypothesis generates random bytes, mutations of a small valid trajectory file, hand-made zip
members and ``.npy`` headers, edited metadata and arrays, and random TOML-ish experiments.
Every example either loads (and then summarises and replays without error) or raises a
:class:`~geomcore.errors.GeomcoreError`; any other exception fails the test. So that a loader
refusing everything cannot pass, the unedited file and experiment must load, and so must
harmless edits (members reordered or compressed, unknown metadata keys, free text, finite
values changed; comments and spacing in TOML). Derandomised (the same examples every run)
and without an example database.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY, merge, to_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geomcore.errors import GeomcoreError
from geomcore.experiment import Experiment, load_experiment
from geomcore.replay import Replay
from geomcore.trajectory import METADATA_KEYS, Trajectory

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def small_file(tiny_run, tmp_path_factory) -> bytes:
    """A valid trajectory of a few kilobytes: the tiny run with a 6 x 5 grid."""
    t = tiny_run.trajectory
    keep = np.arange(0, t.grid_inputs.shape[0], 7)
    arrays = {k: v.copy() for k, v in t.arrays.items()}
    arrays["grid_inputs"] = arrays["grid_inputs"][keep][:, ::40]
    for name in t.hidden_layer_names:
        arrays[f"grid.{name}"] = arrays[f"grid.{name}"][:, keep][:, :, ::40]
    arrays["probe_inputs"] = arrays["probe_inputs"][::10]
    arrays["probe_labels"] = arrays["probe_labels"][::10]
    for name in t.hidden_layer_names:
        arrays[f"probe.{name}"] = arrays[f"probe.{name}"][:, ::10]
    path = Trajectory(arrays, dict(t.metadata)).save(
        tmp_path_factory.mktemp("fuzz") / "small.npz")
    return path.read_bytes()


def loads_or_refuses(data: bytes) -> Trajectory | None:
    """Load ``data`` as a trajectory file; ``None`` if geomcore refused it with its error."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.npz"
        path.write_bytes(data)
        try:
            trajectory = Trajectory.load(path)
        except GeomcoreError as err:
            assert str(path) in str(err)  # every refusal names the file
            return None
    # What loads can be summarised and replayed, never crash halfway through a render.
    json.dumps(trajectory.summary())
    trajectory.network(-1).forward(trajectory.probe_inputs)
    try:
        replay = Replay(trajectory)
    except GeomcoreError:
        return trajectory
    frame = replay.frame(0.5)
    assert np.all(np.isfinite(frame.probe)) and np.all(np.isfinite(frame.grid))
    return trajectory


def _arrays_and_metadata(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(str(arrays.pop("metadata")))


def _npz(arrays: dict[str, np.ndarray], metadata: dict) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays, metadata=np.array(json.dumps(metadata)))
    return out.getvalue()


def assert_loads_as(data: bytes, arrays: dict[str, np.ndarray], metadata: dict) -> None:
    """``data`` loads, holding exactly ``arrays`` and ``metadata``."""
    loaded = loads_or_refuses(data)
    assert loaded is not None, "a valid file was refused"
    assert loaded.metadata == metadata
    assert sorted(loaded.arrays) == sorted(arrays)
    for name, a in arrays.items():
        assert loaded.arrays[name].dtype == a.dtype, name
        assert loaded.arrays[name].tobytes() == np.ascontiguousarray(a).tobytes(), name


def test_the_unedited_file_loads(small_file):
    arrays, metadata = _arrays_and_metadata(small_file)
    assert_loads_as(small_file, arrays, metadata)
    assert_loads_as(_npz(arrays, metadata), arrays, metadata)  # as numpy itself writes it


@pytest.mark.slow
@FUZZ
@given(data=st.data(), compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_members_in_any_order_and_compressed_still_load(small_file, data, compression):
    members = _valid_members(small_file)
    order = data.draw(st.permutations(sorted(members)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name in order:
            zf.writestr(name, members[name])
    assert_loads_as(out.getvalue(), *_arrays_and_metadata(small_file))


harmless = st.one_of(
    # Metadata a reader does not rely on: unknown keys, free text, the creation record.
    st.tuples(st.just("metadata"), st.sampled_from(["other", "note", "created", "versions"]),
              json_values := st.recursive(
                  st.none() | st.booleans() | st.integers(-10, 10**6)
                  | st.floats(allow_nan=False) | st.text(max_size=8),
                  lambda inner: st.lists(inner, max_size=4)
                  | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                  max_leaves=8)),
    # Recorded values changed to other finite ones (a different run, not a broken file).
    st.tuples(st.just("array"), st.sampled_from(["loss", "kernel.hidden_1", "bias.output",
                                                 "probe.hidden_2", "grid.hidden_1"]),
              st.tuples(st.integers(0, 10**6), st.floats(-5, 5))),
    st.tuples(st.just("array"), st.just("accuracy"),
              st.tuples(st.integers(0, 10**6), st.floats(0, 1))),
    st.tuples(st.just("fortran"), st.sampled_from(["probe_inputs", "kernel.hidden_1"]),
              st.none()),
)


@pytest.mark.slow
@FUZZ
@given(changes=st.lists(harmless, min_size=1, max_size=4))
def test_harmless_edits_still_load(small_file, changes):
    arrays, metadata = _arrays_and_metadata(small_file)
    for where, name, change in changes:
        if where == "metadata":
            metadata[name] = change
        elif where == "fortran":
            arrays[name] = np.asfortranarray(arrays[name])
        else:
            a = arrays[name].copy()
            a.reshape(-1)[change[0] % a.size] = change[1]
            arrays[name] = a
    assert_loads_as(_npz(arrays, metadata), arrays, metadata)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(data):
    assert loads_or_refuses(data) is None


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_mutated_valid_file(small_file, edits, cut):
    data = bytearray(small_file)
    for where, byte in edits:
        data[int(where * len(data))] = byte
    if cut is not None:
        data = data[: int(cut * len(data))]
    loads_or_refuses(bytes(data))


def _valid_members(small_file: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(small_file)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


npy_headers = st.fixed_dictionaries({
    "descr": st.sampled_from(["<f8", "<f4", "<i8", "|u1", "<U8", "|b1", "<c16", "|O", "|V4",
                              "<f2", ">f8"]),
    "fortran_order": st.booleans(),
    "shape": st.lists(st.integers(-2, 2**40), max_size=4).map(tuple),
})


@FUZZ
@given(data=st.data())
def test_random_zip_members(small_file, data):
    members = _valid_members(small_file)
    names = sorted(members)
    for _ in range(data.draw(st.integers(1, 4))):
        name = data.draw(st.sampled_from(names))
        action = data.draw(st.sampled_from(["drop", "header", "junk", "rename", "swap"]))
        if action == "drop":
            members.pop(name, None)
        elif action == "header":
            out = io.BytesIO()
            np.lib.format.write_array_header_1_0(out, data.draw(npy_headers))
            members[name] = out.getvalue() + data.draw(st.binary(max_size=256))
        elif action == "junk":
            members[name] = data.draw(st.binary(max_size=256))
        elif action == "rename":
            members[data.draw(st.text(min_size=1, max_size=12))] = members.pop(name, b"")
        else:
            other = data.draw(st.sampled_from(names))
            members[name], members[other] = members.get(other, b""), members.get(name, b"")
    compression = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    loads_or_refuses(out.getvalue())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)


ARRAYS = ["epoch", "step", "loss", "accuracy", "boundary", "probe_inputs", "probe_labels",
          "grid_inputs"] + [f"{kind}.{layer}" for kind in ("kernel", "bias")
                            for layer in ("hidden_1", "hidden_2", "output")] + [
          f"{kind}.{layer}" for kind in ("probe", "grid") for layer in ("hidden_1", "hidden_2")]
edits = st.one_of(
    st.tuples(st.just("metadata"), st.sampled_from([*METADATA_KEYS, "class_counts", "other"]),
              st.one_of(st.just("drop"), json_values)),
    st.tuples(st.just("array"), st.sampled_from(ARRAYS), st.one_of(
        st.just("drop"), st.just("empty"),
        st.tuples(st.just("cut"), st.integers(0, 10**6)),
        st.tuples(st.just("dtype"), st.sampled_from(["<f2", "<i4", "<U3", "?"])),
        st.tuples(st.just("value"), st.integers(0, 10**6),
                  st.sampled_from([np.nan, np.inf, -1.0, 0.0, 2.0, 1e30])))),
)


@FUZZ
@given(changes=st.lists(edits, min_size=1, max_size=3))
def test_edited_metadata_and_arrays(small_file, changes):
    with np.load(io.BytesIO(small_file), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    for where, name, change in changes:
        if where == "metadata":
            if change == "drop":
                metadata.pop(name, None)
            else:
                metadata[name] = change
            continue
        if name not in arrays:
            continue
        a = arrays[name]
        if change == "drop":
            del arrays[name]
        elif change == "empty":
            arrays[name] = a[:0]
        elif change[0] == "cut":
            arrays[name] = a.reshape(-1)[: change[1] % (a.size + 1)]
        elif change[0] == "dtype":
            with np.errstate(all="ignore"):
                arrays[name] = a.astype(change[1])
        elif a.size and a.dtype.kind == "f":
            a = a.copy()
            a.reshape(-1)[change[1] % a.size] = change[2]
            arrays[name] = a
    out = io.BytesIO()
    np.savez(out, **arrays, metadata=np.array(json.dumps(metadata)))
    loads_or_refuses(out.getvalue())


# -- experiments --------------------------------------------------------------------------

KEYS = ["name", "seed", "description", "dataset", "model", "training", "recording", "grid",
        "n_per_class", "noise", "path", "hidden_widths", "activation", "loss", "optimizer",
        "learning_rate", "lr", "momentum", "batch_size", "epochs", "probe_size", "lines",
        "samples", "padding", "snapshot_every_steps", "dense_epochs", "turns", "params"]
toml_values = st.recursive(
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats()
    | st.sampled_from(["tanh", "relu", "csv", "two_spirals", "sgd", "adam", "mse", ""])
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


def test_the_unedited_experiment_builds_and_loads(tmp_path):
    e = Experiment.from_dict(merge(TINY, {}))
    assert e.name == "tiny" and e.to_dict()["model"]["hidden_widths"] == [3, 2]
    path = tmp_path / "tiny.toml"
    path.write_text(to_toml(TINY), encoding="utf-8")
    assert load_experiment(path) == e


@FUZZ
@given(seed=st.integers(0, 2**31 - 1), description=st.text(max_size=40),
       epochs=st.integers(1, 50), rate=st.floats(1e-4, 1.0), widths=st.lists(
           st.integers(1, 8), min_size=1, max_size=3).map(lambda w: [*w, 2]))
def test_valid_changes_to_an_experiment_build(seed, description, epochs, rate, widths):
    changes = {"seed": seed, "description": description,
               "training": {"epochs": epochs, "learning_rate": rate},
               "model": {"hidden_widths": widths}}
    e = Experiment.from_dict(merge(TINY, changes))
    assert (e.seed, e.description) == (seed, description)
    assert e.to_dict()["training"]["epochs"] == epochs
    assert Experiment.from_dict(e.to_dict()) == e


@FUZZ
@given(comments=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]),
                                 max_size=20), max_size=5),
       spaces=st.sampled_from(["", " ", "  ", "\t"]), blank=st.sampled_from(["", "\n", "\n\n"]))
def test_comments_and_spacing_in_an_experiment_file_are_harmless(comments, spaces, blank):
    lines = []
    for i, line in enumerate(to_toml(TINY).splitlines()):
        lines.append(spaces + line.replace(" = ", spaces + "=" + spaces) if "=" in line else line)
        if comments:
            lines.append(f"# {comments[i % len(comments)]}")
        lines.append(blank)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tiny.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        assert load_experiment(path) == Experiment.from_dict(merge(TINY, {}))


def builds_or_refuses(data: object) -> None:
    try:
        e = Experiment.from_dict(data)  # type: ignore[arg-type]
    except GeomcoreError as err:
        assert "\n" not in str(err) or "TOML" in str(err)
        return
    assert Experiment.from_dict(e.to_dict()) == e  # what is accepted round-trips
    e.config_hash()


@FUZZ
@given(data=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), toml_values,
                            max_size=6))
def test_random_experiment_dicts(data):
    builds_or_refuses(data)


@FUZZ
@given(section=st.sampled_from(["", "dataset", "model", "training", "recording", "grid"]),
       key=st.sampled_from(KEYS), value=toml_values)
def test_one_value_of_a_valid_experiment_changed(section, key, value):
    changes = {section: {key: value}} if section else {key: value}
    builds_or_refuses(merge(TINY, changes))


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300))
def test_random_experiment_files(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.toml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_experiment(path)
        except GeomcoreError as err:
            assert str(path) in str(err)
