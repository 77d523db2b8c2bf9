"""NumPy ``.npz`` archives of named arrays, written and read without pickles.

:func:`write_npz` stores each array as an uncompressed ``<name>.npy`` member, as
``numpy.savez`` does. :func:`read_npz` reads such a file from anyone, trusting nothing: for each
member it first reads the ``.npy`` header alone (with :mod:`numpy.lib.format`) and checks that
the shape and dtype it claims need exactly the bytes the member holds; only then does it
allocate and fill the array. A header that claims an impossible shape (10**11 elements in a
file of a few hundred bytes, a negative length) is reported before any memory is taken; an
``object`` dtype, which NumPy could only read by unpickling (running code), is refused by name.

>>> import io
>>> buffer = io.BytesIO()
>>> write_npz(buffer, {"weights": np.eye(2)})
>>> arrays, problems = read_npz(io.BytesIO(buffer.getvalue()), "load")
>>> arrays["weights"].tolist(), problems
([[1.0, 0.0], [0.0, 1.0]], {})
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any, BinaryIO, Literal

import numpy as np

PathLike = str | os.PathLike[str]

_NPY_MAGIC = b"\x93NUMPY"
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def write_npz(target: PathLike | BinaryIO, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``target`` (a path, or a binary file open for writing) as an ``.npz``
    archive: one uncompressed ``<name>.npy`` member per array, never a pickle."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)


def read_npz(
    source: PathLike | BinaryIO, caller: str
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays of the ``.npz`` archive ``source``, and the entries refused.

    Returns ``(arrays, problems)``: ``arrays`` holds every entry that is a sound ``.npy`` array
    of plain (non-object) dtype, keyed by its name without ``.npy``; ``problems`` maps every
    entry left out to a sentence that names it and says why. A file that is not an ``.npz``
    archive at all (truncated, another format, a single ``.npy`` array) raises ``ValueError``
    starting with ``caller``; a missing file raises ``FileNotFoundError``.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        shown = repr(os.fspath(source) if isinstance(source, (str, os.PathLike)) else source)
        if _starts_with_npy_magic(source):
            raise ValueError(
                f"{caller}: {shown} holds a single array, not an .npz archive of named arrays"
            ) from None
        raise ValueError(f"{caller}: {shown} is not a NumPy .npz archive ({error})") from None
    arrays: dict[str, np.ndarray] = {}
    problems: dict[str, str] = {}
    seen: set[str] = set()
    with archive:
        for info in archive.infolist():
            name = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else None
            if name is None:
                problems[info.filename] = f"entry {info.filename!r} is not a .npy array"
            elif name in seen:
                problems[name] = f"entry {name!r} appears more than once"
                arrays.pop(name, None)
            else:
                seen.add(name)
                try:
                    arrays[name] = _read_member(archive, info, name)
                except ValueError as error:
                    problems[name] = str(error)
    return arrays, problems


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One member as an array: header first, checked against the member's size, then data."""
    try:
        with archive.open(info) as member:
            try:
                version = np.lib.format.read_magic(member)
                reader = _HEADER_READERS.get(version)
                if reader is None:
                    raise ValueError(f".npy format version {version} is not supported")
                shape, fortran_order, dtype = reader(member)
            except ValueError as error:
                raise ValueError(f"entry {name!r} is not a NumPy array ({error})") from None
            if dtype.hasobject:
                raise ValueError(f"entry {name!r} is pickled (refused: it could run code)")
            if any(length < 0 for length in shape):
                raise ValueError(f"entry {name!r} claims the impossible shape {shape}")
            count = math.prod(shape)
            needed = count * dtype.itemsize
            available = info.file_size - member.tell()
            if needed != available:
                raise ValueError(
                    f"entry {name!r} claims shape {shape} of {dtype} ({needed:,} bytes) but "
                    f"holds {available:,} bytes of data"
                )
            data = bytearray(needed)
            filled = 0
            while filled < needed:
                chunk = member.read(min(needed - filled, 1 << 20))
                if not chunk:
                    raise EOFError(f"{needed - filled:,} bytes missing")
                data[filled:filled + len(chunk)] = chunk
                filled += len(chunk)
            member.read(1)  # reaching the end makes zipfile compare the checksum
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError) as error:  # the last two: a damaged compression or encryption flag
        raise ValueError(f"entry {name!r} cannot be read: the file is damaged ({error})") from None
    order: Literal["C", "F"] = "F" if fortran_order else "C"
    if not needed:  # nothing to read (also an item size of 0, which frombuffer refuses)
        return np.empty(shape, dtype=dtype, order=order)
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order=order)


def _starts_with_npy_magic(source: Any) -> bool:
    """Whether ``source`` (a path or a seekable binary file) begins like a ``.npy`` file."""
    try:
        if hasattr(source, "read"):
            position = source.tell()
            start = source.read(len(_NPY_MAGIC))
            source.seek(position)
        else:
            with open(source, "rb") as file:
                start = file.read(len(_NPY_MAGIC))
    except (OSError, ValueError):
        return False
    return bool(start == _NPY_MAGIC)
