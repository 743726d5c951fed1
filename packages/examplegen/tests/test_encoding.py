"""The vectorized tf.Example encoder against protobuf's own encoding."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from headrace_examplegen import _ragged as rg
from headrace_examplegen.encoding import (
    UnsupportedColumnError,
    encode_column,
    encode_examples,
    feature_order,
)
from headrace_examplegen.tfrecord import frame_records, payloads, read_frames, seal_frames


def _columns() -> dict[str, pa.Array]:
    long_key = "k" * 130  # a key too long for the one-byte fast path
    return {
        "int": pa.array([1, None, -5, 2**40, 0, -(2**63), 2**63 - 1], pa.int64()),
        "float": pa.array([1.5, None, float("nan"), -0.0, 3.4e38, float("inf"), 1e-40]),
        "text": pa.array(["a", None, "", "héllo", "x" * 300, "b", "c"]),
        "int_list": pa.array(
            [[1, 2, 3], None, [], [-1], [2**35], [0], [5]], pa.large_list(pa.int64())
        ),
        "float_list": pa.array(
            [[1.0, 2.0], None, [], [-1.0], [0.5], [0.0], [5.0]], pa.list_(pa.float64())
        ),
        "bytes_list": pa.array(
            [[b"a", b"bb"], None, [], [b""], [b"z" * 200], [b"q"], [b"r"]], pa.list_(pa.binary())
        ),
        "flag": pa.array([True, False, None, True, True, False, True]),
        "nothing": pa.nulls(7),
        # Names that begin others: protobuf's deterministic order puts "a" after "ab".
        "a": pa.array([1, 2, 3, 4, 5, 6, 7], pa.int64()),
        "ab": pa.array(["x", "y", None, "z", "w", "v", "u"]),
        long_key: pa.array([1, 2, 3, 4, 5, 6, None], pa.uint8()),
    }


_KINDS = {
    "a": "int64_list",
    "int": "int64_list",
    "int_list": "int64_list",
    "flag": "int64_list",
    "float": "float_list",
    "float_list": "float_list",
    "k" * 130: "int64_list",
}


def _message(tf, name: str, value: object, missing_as_empty: bool = False) -> object:
    feature = tf.train.Feature()
    if value is None and not missing_as_empty:
        return feature
    if value is None:
        value = []  # TFX's CSV rule: an empty list of the column's kind
    values = value if isinstance(value, list) else [value]
    sample = next((v for v in values), None)
    if isinstance(value, list) and not values:
        kind = _KINDS.get(name, "bytes_list")
        getattr(feature, kind).SetInParent()
    elif isinstance(sample, int):  # bool included
        feature.int64_list.value.extend(int(v) for v in values)
    elif isinstance(sample, float):
        feature.float_list.value.extend(values)
    else:
        feature.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in values)
    return feature


@pytest.mark.parametrize("missing_as_empty", [False, True])
def test_examples_equal_protobufs_encoding(missing_as_empty: bool) -> None:
    tf = pytest.importorskip("tensorflow")
    columns = dict(sorted(_columns().items(), key=lambda item: feature_order(item[0])))
    encoded = [
        encode_column(name, array, missing_as_empty=missing_as_empty)
        for name, array in columns.items()
    ]
    records = rg.to_objects(encode_examples(encoded, 7))
    for row, record in enumerate(records):
        expected = tf.train.Example()
        for name, array in columns.items():
            message = _message(tf, name, array[row].as_py(), missing_as_empty)
            expected.features.feature[name].CopyFrom(message)
        # Features in name order are protobuf's deterministic bytes, byte for byte (TFX's
        # split key); NaN != NaN would fail a message comparison anyway.
        assert record == expected.SerializeToString(deterministic=True), row
        assert tf.train.Example.FromString(record).ByteSize() == len(record)


def test_serialization_is_deterministic() -> None:
    columns = _columns()
    first = rg.to_objects(encode_examples([encode_column(k, v) for k, v in columns.items()], 7))
    again = rg.to_objects(encode_examples([encode_column(k, v) for k, v in columns.items()], 7))
    assert first == again


def test_framed_examples_are_valid_tfrecords() -> None:
    import io

    columns = _columns()
    encoded = [encode_column(k, v) for k, v in columns.items()]
    plain = rg.to_objects(encode_examples(encoded, 7))
    frames = encode_examples(encoded, 7, framed=True)
    seal_frames(frames, fill_crc=True)
    assert frames.data.tobytes() == frame_records(plain).data.tobytes()
    (read,) = list(read_frames(io.BytesIO(frames.data.tobytes()), "memory", 100))
    starts, ends = payloads(read)
    assert [read.data[s:e].tobytes() for s, e in zip(starts, ends, strict=True)] == plain


def test_partition_keys_are_serialized_features() -> None:
    tf = pytest.importorskip("tensorflow")
    column = encode_column("id", pa.array(["a", None, "b"]))
    keys = column.features()
    assert keys[1] == b""
    feature = tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"a"]))
    assert keys[0] == feature.SerializeToString(deterministic=True)


def test_unsupported_columns() -> None:
    with pytest.raises(UnsupportedColumnError, match="column 'when' has type timestamp"):
        encode_column("when", pa.array(np.array([1, 2], "datetime64[s]")))
    with pytest.raises(UnsupportedColumnError, match="null values inside lists"):
        encode_column("l", pa.array([[1, None]], pa.list_(pa.int64())))
    with pytest.raises(UnsupportedColumnError, match="beyond the int64 range"):
        encode_column("u", pa.array([2**64 - 1], pa.uint64()))


def test_bucket_hash_is_tfx_formula() -> None:
    import hashlib

    records = [b"alpha", b"beta", b"", b"\x00" * 1000]
    frames = frame_records(records)
    buckets = seal_frames(frames, fill_crc=False, bucket_modulus=7)
    assert list(buckets) == [int(hashlib.sha256(r).hexdigest(), 16) % 7 for r in records]
