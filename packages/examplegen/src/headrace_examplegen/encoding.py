"""Serialize Arrow columns into ``tf.train.Example`` bytes, a whole batch at a time.

Why not tfx-bsl's ``RecordBatchToExamples``: it writes the feature map in an order that changes
from call to call, so the same row serializes to different bytes on every run, and ExampleGen
hashes the serialized record to choose its split. This encoder writes features in column order
(the same bytes for the same row, always) with vectorized numpy code instead of a loop per row,
and can lay the records out directly as TFRecord frames.

The wire format (``tensorflow/core/example/{example,feature}.proto``)::

    Example   = 0x0A len Features
    Features  = repeated (0x0A len MapEntry)
    MapEntry  = 0x0A len key  0x12 len Feature
    Feature   = 0x0A len BytesList | 0x12 len FloatList | 0x1A len Int64List  (empty: missing)
    BytesList = repeated (0x0A len value);  FloatList, Int64List = 0x0A len packed-values

A null cell becomes a feature without a value list (``Feature()``), as TFX writes a missing
Parquet or Avro value; with ``missing_as_empty`` it becomes an empty list of the column's
kind, as TFX's CSV executor writes an empty cell of a typed column. An empty list becomes an
empty list of its kind.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from headrace_examplegen import _ragged as rg
from headrace_examplegen.tfrecord import FRAME_HEADER_SIZE, frame_headers

__all__ = [
    "EncodedColumn",
    "FeatureKind",
    "UnsupportedColumnError",
    "encode_column",
    "encode_examples",
    "feature_order",
]


class FeatureKind(enum.IntEnum):
    """The ``Feature`` oneof field number of each value kind."""

    BYTES = 1
    FLOAT = 2
    INT = 3


_TAG = {FeatureKind.BYTES: 0x0A, FeatureKind.FLOAT: 0x12, FeatureKind.INT: 0x1A}
#: Lengths below this are one varint byte, which lets the common cases be built in blocks.
_ONE_BYTE = 128


class UnsupportedColumnError(ValueError):
    """A column whose type has no ``tf.Example`` representation."""


# Input normalization -----------------------------------------------------------------------


def _as_flat(array: pa.Array, name: str) -> tuple[FeatureKind, pa.Array]:
    """A flat (non-list) array of supported values as int64, float32 or large_binary."""
    kind_type = array.type
    if pa.types.is_dictionary(kind_type):
        array = array.dictionary_decode()
        kind_type = array.type
    if pa.types.is_boolean(kind_type) or pa.types.is_integer(kind_type):
        try:
            return FeatureKind.INT, pc.cast(array, pa.int64())
        except pa.ArrowInvalid as e:
            raise UnsupportedColumnError(
                f"column {name!r} has integers beyond the int64 range: {e}"
            ) from None
    if pa.types.is_floating(kind_type):
        return FeatureKind.FLOAT, pc.cast(array, pa.float32(), safe=False)
    if (
        pa.types.is_string(kind_type)
        or pa.types.is_large_string(kind_type)
        or pa.types.is_binary(kind_type)
        or pa.types.is_large_binary(kind_type)
        or pa.types.is_fixed_size_binary(kind_type)
    ):
        return FeatureKind.BYTES, pc.cast(array, pa.large_binary())
    if pa.types.is_null(kind_type):
        return FeatureKind.BYTES, pa.nulls(len(array), pa.large_binary())
    raise UnsupportedColumnError(
        f"column {name!r} has type {kind_type}, which tf.Example cannot hold (int64, float and "
        "bytes values, or lists of them)"
    )


def _is_list(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(data_type)
        or pa.types.is_large_list(data_type)
        or pa.types.is_fixed_size_list(data_type)
    )


def _normalize(
    array: pa.Array, name: str
) -> tuple[FeatureKind, pa.Array, rg.IntArray, npt.NDArray[np.bool_]]:
    """(kind, flat values without nulls, list offsets (n + 1), row validity)."""
    if isinstance(array, pa.ChunkedArray):
        array = pa.concat_arrays(array.chunks) if array.num_chunks != 1 else array.chunk(0)
    n = len(array)
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), bool)
    if _is_list(array.type):
        counts = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        kind, values = _as_flat(array.flatten(), name)
        if values.null_count:
            raise UnsupportedColumnError(
                f"column {name!r} has null values inside lists, which tf.Example cannot hold"
            )
    else:
        kind, values = _as_flat(array, name)
        counts = valid.astype(np.int64)
        values = values.drop_null() if values.null_count else values
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return kind, values, offsets, valid


def _strings(values: pa.Array) -> rg.Ragged:
    """A large_binary array without nulls as offsets (from 0) and data."""
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    start, end = int(offsets[0]), int(offsets[-1])
    return rg.Ragged(offsets - start, data[start:end])


def _spread(
    per_value: npt.NDArray[Any], has: npt.NDArray[np.bool_], fill: float = 0
) -> npt.NDArray[Any]:
    """Values of the rows that have one, expanded to every row (``fill`` elsewhere)."""
    full = np.full(len(has), fill, per_value.dtype)
    full[has] = per_value
    return full


# Encoding ----------------------------------------------------------------------------------


def _key_prefix(name: str) -> bytes:
    """``0x0A len key 0x12``: a map entry's key field and the tag of its value field."""
    key = name.encode("utf-8")
    return b"\x0a" + rg.varint_bytes(len(key)) + key + b"\x12"


def _fast_entry(
    prefix: bytes,
    kind: FeatureKind,
    values: pa.Array,
    has: npt.NDArray[np.bool_],
    missing_as_empty: bool,
) -> list[rg.Part] | None:
    """The map entries of a column with at most one value per row, built in matrix blocks.

    A row without a value gets ``Feature()``, or with ``missing_as_empty`` an empty value list
    (the list's tag and a zero length: two bytes). ``None`` when a length needs more than one
    varint byte (long keys or strings); the general path handles those.
    """
    n = len(has)
    p = len(prefix)
    absent = 2 if missing_as_empty else 0  # the Feature's length without a value
    if kind is FeatureKind.BYTES:
        strings = _strings(values)
        size = _spread(strings.lens, has)
        # Entry: 0x0A Le prefix Lf | 0x0A Ls 0x0A Lstr | string
        if n and int(size.max(initial=0)) + 4 + p + 1 >= _ONE_BYTE:
            return None
        feature_len = np.where(has, size + 4, absent)
        mat = np.empty((n, p + 7), np.uint8)
        mat[:, 0] = 0x0A
        mat[:, 1] = p + 1 + feature_len
        mat[:, 2 : 2 + p] = np.frombuffer(prefix, np.uint8)
        mat[:, 2 + p] = feature_len
        mat[:, 3 + p] = 0x0A
        mat[:, 4 + p] = np.where(has, size + 2, 0)
        mat[:, 5 + p] = 0x0A
        mat[:, 6 + p] = size
        head = rg.Fixed(mat, p + 3 + np.where(has, 4, absent))
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(size, out=offsets[1:])
        return [head, rg.Ragged(offsets, strings.data)]
    if p + 1 + 14 >= _ONE_BYTE:
        return None
    if kind is FeatureKind.INT:
        numbers = rg.varint(_spread(values.to_numpy(zero_copy_only=False).astype(np.int64), has))
        width = numbers.mat.shape[1]
        # Entry: 0x0A Le prefix Lf | 0x1A Ll 0x0A Lv | varint
        feature_len = np.where(has, numbers.lens + 4, absent)
        mat = np.empty((n, p + 7 + width), np.uint8)
        mat[:, 3 + p] = 0x1A
        mat[:, 4 + p] = np.where(has, numbers.lens + 2, 0)
        mat[:, 5 + p] = 0x0A
        mat[:, 6 + p] = numbers.lens
        mat[:, 7 + p :] = numbers.mat
    else:
        floats = _spread(np.asarray(values.to_numpy(zero_copy_only=False), "<f4"), has)
        # Entry: 0x0A Le prefix Lf | 0x12 0x06 0x0A 0x04 | float32
        feature_len = np.where(has, 8, absent)
        mat = np.empty((n, p + 11), np.uint8)
        mat[:, 3 + p : 7 + p] = np.frombuffer(b"\x12\x06\x0a\x04", np.uint8)
        mat[:, 4 + p] = np.where(has, 6, 0)
        mat[:, 7 + p :] = floats.view(np.uint8).reshape(n, 4)
    mat[:, 0] = 0x0A
    mat[:, 1] = p + 1 + feature_len
    mat[:, 2 : 2 + p] = np.frombuffer(prefix, np.uint8)
    mat[:, 2 + p] = feature_len
    return [rg.Fixed(mat, p + 3 + feature_len)]


def _feature(
    kind: FeatureKind,
    values: pa.Array,
    list_offsets: rg.IntArray,
    valid: npt.NDArray[np.bool_],
) -> list[rg.Part]:
    """The parts of each row's ``Feature`` message (empty for a missing value), any shape."""
    n = len(valid)
    payload: rg.Part
    if kind is FeatureKind.BYTES:
        strings = _strings(values)
        header = rg.concat(rg.const(b"\x0a", len(strings)), rg.varint(strings.lens))
        records = rg.group(rg.assemble([header, strings]), list_offsets)
        head = rg.concat(rg.const(b"\x0a", n), rg.varint(records.lens))
        return [rg.masked(head, valid), records]
    if kind is FeatureKind.INT:
        numbers = values.to_numpy(zero_copy_only=False).astype(np.int64)
        payload = rg.group(rg.assemble([rg.varint(numbers)]), list_offsets)
    else:
        floats = np.ascontiguousarray(values.to_numpy(zero_copy_only=False), "<f4")
        payload = rg.Ragged(list_offsets * 4, floats.view(np.uint8))
    packed_lens = payload.lens
    # A packed field without values is left out, as protobuf does.
    packed_head = rg.masked(
        rg.concat(rg.const(b"\x0a", n), rg.varint(packed_lens)), packed_lens > 0
    )
    head = rg.concat(
        rg.const(bytes([_TAG[kind]]), n), rg.varint(packed_head.lens + packed_lens), packed_head
    )
    return [rg.masked(head, valid), payload]


def _entry(prefix: bytes, feature: Sequence[rg.Part]) -> list[rg.Part]:
    """``0x0A len (prefix len Feature)``: one map entry per row, any lengths."""
    n = len(feature[0].lens)
    feature_lens = rg.lengths(feature)
    inner_lens = len(prefix) + rg.varint(feature_lens).lens + feature_lens
    head = rg.concat(
        rg.const(b"\x0a", n), rg.varint(inner_lens), rg.const(prefix, n), rg.varint(feature_lens)
    )
    return [head, *feature]


def feature_order(name: str) -> tuple[int, ...]:
    """Sort key of a feature name in protobuf's deterministic serialization of a map (upb, the
    implementation of the pinned protobuf 4.25): by UTF-8 bytes, except that a name sorts
    after the longer names it begins ("ab" before "a")."""
    return (*name.encode("utf-8"), 256)


@dataclass(frozen=True)
class EncodedColumn:
    """One column, encoded as the parts of each row's feature-map entry."""

    name: str
    kind: FeatureKind
    num_rows: int
    entry_parts: tuple[rg.Part, ...]
    _values: pa.Array
    _list_offsets: rg.IntArray
    _valid: npt.NDArray[np.bool_]

    def features(self) -> list[bytes]:
        """Each row's serialized ``Feature`` message (TFX's partition key); ``b""`` where the
        value is missing."""
        parts = _feature(self.kind, self._values, self._list_offsets, self._valid)
        return rg.to_objects(rg.assemble(parts))


def encode_column(name: str, array: pa.Array, *, missing_as_empty: bool = False) -> EncodedColumn:
    """Encode one column for every row.

    ``array`` holds one value per row (null: missing) or a list per row (null: missing) of
    integers or booleans (int64), floating numbers (float) or strings/binaries (bytes). A
    missing value is ``Feature()``, or with ``missing_as_empty`` an empty list of the column's
    kind (TFX's CSV rule).
    """
    kind, values, list_offsets, valid = _normalize(array, name)
    prefix = _key_prefix(name)
    counts = np.diff(list_offsets)
    parts = None
    if bool((counts == valid).all()):
        parts = _fast_entry(prefix, kind, values, valid, missing_as_empty)
    if missing_as_empty:
        valid = np.ones(len(valid), np.bool_)  # every row has a Feature with a (maybe empty) list
    if parts is None:
        parts = _entry(prefix, _feature(kind, values, list_offsets, valid))
    return EncodedColumn(name, kind, len(valid), tuple(parts), values, list_offsets, valid)


def encode_examples(
    columns: Sequence[EncodedColumn], num_rows: int, *, framed: bool = False
) -> rg.Ragged:
    """Serialized ``tf.train.Example`` per row, features in the order of ``columns``
    (in name order, the bytes are protobuf's deterministic serialization: TFX's split key).

    With ``framed``, each row is a TFRecord frame (length header included) whose trailing
    data CRC is left as zeros for :func:`headrace_examplegen.tfrecord.seal_frames` to fill.
    """
    parts = [part for column in columns for part in column.entry_parts]
    if not parts:
        body = np.zeros(num_rows, np.int64)
        example_head = rg.Fixed(np.zeros((num_rows, 0), np.uint8), body)
    else:
        body = rg.lengths(parts)
        example_head = rg.concat(rg.const(b"\x0a", num_rows), rg.varint(body))
        # An Example without features is zero bytes long, not an empty Features message.
        example_head = rg.masked(example_head, body > 0)
    if not framed:
        return rg.assemble([example_head, *parts]) if parts else rg.assemble([example_head])
    record_lens = example_head.lens + body
    head = rg.concat(
        rg.Fixed(frame_headers(record_lens), np.full(num_rows, FRAME_HEADER_SIZE)), example_head
    )
    return rg.assemble([head, *parts, rg.const(b"\0\0\0\0", num_rows)])
