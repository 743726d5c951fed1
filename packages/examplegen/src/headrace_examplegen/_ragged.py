"""Vectorized building blocks for one byte string per row (numpy and Arrow).

Serializing tens of thousands of records with a Python loop per row costs more than reading
the data; these helpers build every row's bytes at once. ``Fixed`` holds short strings (a
padded matrix and a length per row), ``Ragged`` long ones (offsets into one buffer);
:func:`assemble` concatenates parts row by row with a single gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = [
    "ByteArray",
    "IntArray",
    "Fixed",
    "Part",
    "Ragged",
    "assemble",
    "concat",
    "const",
    "from_bytes",
    "group",
    "lengths",
    "masked",
    "take",
    "to_objects",
    "varint",
    "varint_bytes",
]


ByteArray = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Fixed:
    """Short byte strings, one per row, left-aligned in a padded matrix."""

    mat: ByteArray  # (n, width); bytes past a row's length are ignored
    lens: IntArray  # (n,)

    @property
    def uniform(self) -> bool:
        """Every row uses the full width (so the matrix is the data, row after row)."""
        return bool(self.mat.shape[1] == 0 or (self.lens == self.mat.shape[1]).all())


@dataclass(frozen=True)
class Ragged:
    """Byte strings, one per row, back to back in ``data``."""

    offsets: IntArray  # (n + 1,); row i is data[offsets[i]:offsets[i + 1]]
    data: ByteArray

    @property
    def lens(self) -> IntArray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


Part = Fixed | Ragged


def const(value: bytes, n: int) -> Fixed:
    row = np.frombuffer(value, np.uint8)
    return Fixed(np.broadcast_to(row, (n, len(row))), np.full(n, len(row), np.int64))


def varint_bytes(value: int) -> bytes:
    """One non-negative integer as a protobuf varint."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def varint(values: npt.ArrayLike) -> Fixed:
    """Each value as a protobuf varint (negative int64 as ten bytes, two's complement)."""
    v = np.ascontiguousarray(values).astype(np.int64, copy=False).view(np.uint64)
    n = len(v)
    nbytes = np.ones(n, np.int64)
    rest = v >> np.uint64(7)
    while rest.any():
        nbytes += rest != 0
        rest >>= np.uint64(7)
    width = int(nbytes.max()) if n else 1
    if width == 1:
        return Fixed(v.astype(np.uint8).reshape(n, 1), nbytes)
    positions = np.arange(width)
    shifts = positions.astype(np.uint64) * np.uint64(7)
    mat = ((v[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    mat[positions < (nbytes[:, None] - 1)] |= 0x80
    return Fixed(mat, nbytes)


def masked(part: Fixed, keep: npt.NDArray[np.bool_]) -> Fixed:
    """``part`` on rows where ``keep`` holds, empty elsewhere."""
    return Fixed(part.mat, np.where(keep, part.lens, 0))


def concat(*parts: Fixed) -> Fixed:
    """Row-wise concatenation of short strings."""
    n = len(parts[0].lens)
    width = sum(p.mat.shape[1] for p in parts)
    out = np.zeros((n, width), np.uint8)
    column = 0  # while every row is at the same position, whole blocks are copied
    pos: IntArray | None = None
    for part in parts:
        w = part.mat.shape[1]
        if w == 0:
            continue
        if pos is None:
            out[:, column : column + w] = part.mat
            if part.uniform:
                column += w
            else:
                pos = column + part.lens
            continue
        keep = np.arange(w) < part.lens[:, None]
        rows = np.nonzero(keep)[0]
        out[rows, (pos[:, None] + np.arange(w))[keep]] = part.mat[keep]
        pos = pos + part.lens
    return Fixed(out, np.full(n, column, np.int64) if pos is None else pos)


def lengths(parts: Sequence[Part]) -> IntArray:
    """Each row's total length over ``parts``."""
    total = parts[0].lens.copy()
    for part in parts[1:]:
        total += part.lens
    return total


def _binary(offsets: IntArray, data: ByteArray) -> pa.LargeBinaryArray:
    """A zero-copy Arrow view of offsets (from 0) and data."""
    return pa.Array.from_buffers(
        pa.large_binary(),
        len(offsets) - 1,
        [None, pa.py_buffer(np.ascontiguousarray(offsets, np.int64)), pa.py_buffer(data)],
    )


def _ragged(array: pa.LargeBinaryArray) -> Ragged:
    """The offsets and data of a large_binary array Arrow has just built (offset 0)."""
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64, count=len(array) + 1)
    size = int(offsets[-1])
    data = np.frombuffer(data_buf, np.uint8, count=size) if size else np.zeros(0, np.uint8)
    return Ragged(offsets, data)


def assemble(parts: Sequence[Part]) -> Ragged:
    """Row-wise concatenation into one buffer: the bytes of row i, back to back.

    The parts are laid out one after another as one Arrow binary array (part-major), and one
    ``take`` in row-major order copies every (row, part) segment into place: a memcpy per
    segment, where indexing byte by byte would cost several passes over every byte.
    """
    n = len(parts[0].lens)
    count = len(parts)
    sources: list[ByteArray] = []
    ends: list[IntArray] = []
    base = 0
    for part in parts:
        if isinstance(part, Fixed):
            w = part.mat.shape[1]
            if part.uniform:
                data = np.ascontiguousarray(part.mat).reshape(-1)
            else:
                data = part.mat[np.arange(w) < part.lens[:, None]]
            part_ends = np.cumsum(part.lens)
        else:
            data = part.data
            part_ends = part.offsets[1:]
        ends.append(part_ends + base)
        base += len(data)
        sources.append(data)
    offsets = np.zeros(n * count + 1, np.int64)
    if n:
        np.concatenate(ends, out=offsets[1:])
    source = np.concatenate(sources) if count > 1 else sources[0]
    order = (np.arange(count)[None, :] * n + np.arange(n)[:, None]).reshape(-1)
    merged = _ragged(_binary(offsets, source).take(pa.array(order)))
    return Ragged(merged.offsets[::count].copy(), merged.data)


def group(items: Ragged, list_offsets: IntArray) -> Ragged:
    """Consecutive items joined into one string per row (items in row order)."""
    return Ragged(items.offsets[list_offsets], items.data)


def take(rows: Ragged, indices: npt.NDArray[np.intp]) -> Ragged:
    """The rows at ``indices``, in that order."""
    return _ragged(_binary(rows.offsets, rows.data).take(pa.array(indices)))


def from_bytes(values: Sequence[bytes]) -> Ragged:
    lens = np.fromiter((len(v) for v in values), np.int64, len(values))
    offsets = np.zeros(len(values) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return Ragged(offsets, np.frombuffer(b"".join(values), np.uint8))


def to_objects(rows: Ragged) -> list[bytes]:
    """Python bytes objects, one per row."""
    return list(_binary(rows.offsets, rows.data).to_numpy(zero_copy_only=False))
