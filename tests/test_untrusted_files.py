"""Model files from strangers: ``Module.load`` refuses anything crafted and never runs code."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nn


class Payload:
    """Unpickling this object would create the sentinel file: proof that code ran."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (Path.touch, (self.sentinel,))


def model_and_state():
    model = nn.Dense(2, 2, rng=0)
    return model, {name: p.data.copy() for name, p in model.named_parameters()}


def assert_unchanged(model, before) -> None:
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(parameter.data, before[name])


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_pickle_payload_inside_an_npz_never_runs(tmp_path: Path) -> None:
    sentinel = tmp_path / "payload-ran"
    payload = np.empty(1, dtype=object)
    payload[0] = Payload(sentinel)
    path = write_zip(tmp_path / "evil.npz", {
        "weights.npy": npy_bytes(np.zeros((2, 2))),
        "bias.npy": npy_bytes(payload),
    })
    model, before = model_and_state()
    with pytest.raises(ValueError, match="'bias' is pickled"):
        model.load(path)
    assert_unchanged(model, before)
    assert not sentinel.exists()
    # the same payload, unpickled on purpose, does run: the test would notice
    pickle.loads(pickle.dumps(Payload(sentinel)))
    assert sentinel.exists()


def test_a_plain_pickle_file_never_runs(tmp_path: Path) -> None:
    sentinel = tmp_path / "payload-ran"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"weights": Payload(sentinel)}))
    model, before = model_and_state()
    with pytest.raises(ValueError, match="load"):
        model.load(path)
    assert_unchanged(model, before)
    assert not sentinel.exists()


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_a_truncated_file_is_refused(tmp_path: Path, keep: float) -> None:
    model, before = model_and_state()
    good = model.save(tmp_path / "good")
    data = good.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="load"):
        model.load(path)
    assert_unchanged(model, before)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, world\n", b"\x89PNG\r\n\x1a\n" + bytes(100), os.urandom(256), b"PK\x03\x04junk"],
    ids=["empty", "text", "png", "random", "broken-zip"],
)
def test_files_of_other_formats_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    model, before = model_and_state()
    with pytest.raises(ValueError, match="load"):
        model.load(path)
    assert_unchanged(model, before)


@pytest.mark.parametrize("name", ["../weights.npy", "/weights.npy", "sub/weights.npy",
                                  "..\\weights.npy", "weights.npy/../bias.npy"])
def test_entry_names_with_path_separators_are_refused(tmp_path: Path, name: str) -> None:
    path = write_zip(tmp_path / "odd.npz", {
        name: npy_bytes(np.zeros((2, 2))),
        "bias.npy": npy_bytes(np.zeros(2)),
    })
    model, before = model_and_state()
    with pytest.raises(ValueError, match="load"):
        model.load(path)
    assert_unchanged(model, before)
    assert not (tmp_path.parent / "weights.npy").exists()


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    model, before = model_and_state()
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "nowhere.npz")
    assert_unchanged(model, before)


def npy_claiming(shape: tuple[int, ...], data: bytes, descr: str = "<f8") -> bytes:
    """A .npy member whose header claims ``shape`` whatever ``data`` holds."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + data


@pytest.mark.parametrize(
    "shape", [(10**11,), (2**40, 2**40), (2**62, 2**62, 2**62), (-1, 2), (3,), (1,)],
    ids=["10**11 elements", "2**80 elements", "past int64", "negative", "too few", "too many"],
)
def test_a_header_claiming_a_shape_its_data_cannot_fill_is_refused_before_allocating(
    tmp_path: Path, shape: tuple[int, ...]
) -> None:
    path = write_zip(tmp_path / "huge.npz", {
        "weights.npy": npy_claiming(shape, bytes(16)),
        "bias.npy": npy_bytes(np.zeros(2)),
    })
    model, before = model_and_state()
    with pytest.raises(ValueError, match=r"entry 'weights' claims .*shape") as caught:
        model.load(path)
    assert "missing" not in str(caught.value)
    assert_unchanged(model, before)


@given(
    shape=st.lists(st.integers(-3, 10**15), max_size=4).map(tuple),
    stored=st.integers(0, 40),
)
@settings(max_examples=60, deadline=None)
def test_any_header_whose_size_differs_from_its_data_is_a_value_error_naming_it(
    tmp_path_factory: pytest.TempPathFactory, shape: tuple[int, ...], stored: int
) -> None:
    assume(any(length < 0 for length in shape) or int(np.prod(shape, dtype=object)) != stored)
    path = write_zip(tmp_path_factory.mktemp("claims") / "model.npz", {
        "weights.npy": npy_claiming(shape, bytes(8 * stored)),
        "bias.npy": npy_bytes(np.zeros(2)),
    })
    model, before = model_and_state()
    with pytest.raises(ValueError, match="entry 'weights' claims"):
        model.load(path)
    assert_unchanged(model, before)


def test_a_damaged_array_is_refused_by_its_checksum(tmp_path: Path) -> None:
    model, before = model_and_state()
    data = bytearray(model.save(tmp_path / "good").read_bytes())
    position = data.index(before["weights"].tobytes()) + 3
    data[position] ^= 0xFF
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    other = nn.Dense(2, 2, rng=1)
    other_before = {name: p.data.copy() for name, p in other.named_parameters()}
    with pytest.raises(ValueError, match="'weights' cannot be read: the file is damaged"):
        other.load(path)
    assert_unchanged(other, other_before)
