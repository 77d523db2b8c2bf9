"""Model files from strangers: ``Module.load`` refuses anything crafted and never runs code."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

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
