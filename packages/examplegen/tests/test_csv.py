"""CsvExampleGen's executor on the real data sets and on small files with the hard cases."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from examplegen_helpers import (
    canonical_rows,
    copy_into,
    decode,
    expected_rows,
    feature_types,
    read_records,
    run_executor,
    split_files,
    split_records,
    tfx_csv_types,
    write,
)

from headrace_core.artifacts import decode_split_names
from headrace_examplegen import CsvExampleGen
from headrace_examplegen.executor import CsvExecutor


def _run(tmp_path: Path, input_base: Path, out: str = "out", **kwargs: object):
    return run_executor(CsvExecutor, tmp_path / out, CsvExampleGen(str(input_base), **kwargs))


# The Chicago taxi data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxi_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object, Path]:
    """The taxi CSV through CsvExampleGen twice, each time into a fresh root."""
    from examplegen_helpers import data_file

    source = data_file("chicago_taxi", "data.csv")
    base = tmp_path_factory.mktemp("taxi")
    input_base = base / "input"
    copy_into(source, input_base)
    first = _run(base, input_base, "first")
    second = _run(base, input_base, "second")
    return first, second, source


def test_taxi_splits_two_to_one_with_every_record_once(taxi_runs: tuple) -> None:
    examples, _, source = taxi_runs
    assert decode_split_names(examples.split_names) == ["train", "eval"]
    splits = split_records(examples)
    train, evaluation = splits["train"], splits["eval"]
    assert len(train) + len(evaluation) == 15002
    assert 0.62 < len(train) / 15002 < 0.71
    # No record is in both splits (identical rows hash alike, so land together) ...
    assert not set(train) & set(evaluation)
    # ... and together the splits hold exactly the CSV's rows, typed as TFX types them.
    assert canonical_rows(train + evaluation) == expected_rows(source)


def _tfx_examples(source: Path) -> list[object]:
    """Each CSV row as TFX 1.16's CsvExampleGen builds it: a typed value list per typed
    column (empty for an empty cell), ``Feature()`` for a column without any value."""
    import csv

    tf = pytest.importorskip("tensorflow")
    types = tfx_csv_types(source)
    with open(source, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f)]
    header, body = rows[0], [r for r in rows[1:] if r]
    examples = []
    for row in body:
        example = tf.train.Example()
        for name, cell in zip(header, row, strict=True):
            feature = example.features.feature[name]
            kind = types[name]
            if kind == "int":
                feature.int64_list.value.extend([int(cell)] if cell else [])
                feature.int64_list.SetInParent()
            elif kind == "float":
                feature.float_list.value.extend([float(cell)] if cell else [])
                feature.float_list.SetInParent()
            elif kind == "bytes":
                feature.bytes_list.value.extend([cell.encode()] if cell else [])
                feature.bytes_list.SetInParent()
        examples.append(example)
    return examples


def test_taxi_records_and_splits_are_tfxs(taxi_runs: tuple) -> None:
    """Every record is the deterministic serialization of the example TFX builds for its row,
    the bytes TFX hashes, so each row is in TFX's split: sha256 of those bytes modulo 3 below
    2 for train. TFX 1.16 itself, run here on this file, wrote 10,036 train and 4,966 eval
    rows, the one value of pickup_census_tract in eval."""
    import hashlib

    examples, _, source = taxi_runs
    expected: dict[str, collections.Counter[bytes]] = {
        "train": collections.Counter(),
        "eval": collections.Counter(),
    }
    for example in _tfx_examples(source):
        key = example.SerializeToString(deterministic=True)  # type: ignore[attr-defined]
        split = "train" if int(hashlib.sha256(key).hexdigest(), 16) % 3 < 2 else "eval"
        expected[split][key] += 1
    records = split_records(examples)
    for split in ("train", "eval"):
        assert collections.Counter(records[split]) == expected[split], split
    assert sum(expected["train"].values()) == 10036
    assert sum(expected["eval"].values()) == 4966
    census = [r for r in decode(records["eval"]) if r["pickup_census_tract"]]
    assert [r["pickup_census_tract"] for r in census] == [[17031081401]]


def test_taxi_assignment_is_the_same_in_a_fresh_root(taxi_runs: tuple) -> None:
    first, second, _ = taxi_runs
    one, two = split_records(first), split_records(second)
    for split in ("train", "eval"):
        assert collections.Counter(one[split]) == collections.Counter(two[split])
    # Serialization is deterministic: the very same bytes, file for file.
    assert [p.name for p in split_files(first, "train")] == ["data_tfrecord-00000-of-00001.gz"]


def test_taxi_feature_types_and_missing_values(taxi_runs: tuple) -> None:
    examples, _, source = taxi_runs
    records = split_records(examples)["train"]
    types = feature_types(records)
    expected = {k: v for k, v in tfx_csv_types(source).items() if v != "unknown"}
    assert types == expected
    assert types["fare"] == "float" and types["trip_start_hour"] == "int"
    assert types["company"] == "bytes"
    rows = decode(records)
    # An empty cell is an empty list of the column's type (TFX's CSV executor), never a zero
    # or an empty string.
    assert any(row["pickup_latitude"] == [] for row in rows)
    assert all(len(row["pickup_latitude"]) <= 1 for row in rows)


def test_taxi_output_properties(taxi_runs: tuple) -> None:
    examples, _, _ = taxi_runs
    assert examples.span == 0
    assert examples.version is None
    assert examples.get_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert examples.get_custom_property("file_format") == "tfrecords_gzip"
    assert len(str(examples.get_custom_property("input_fingerprint"))) == 64


def test_taxi_output_reads_with_tensorflow(taxi_runs: tuple) -> None:
    """TensorFlow's own reader checks the gzip stream, the framing and both CRCs."""
    tf = pytest.importorskip("tensorflow")
    examples, _, _ = taxi_runs
    files = [str(p) for split in ("train", "eval") for p in split_files(examples, split)]
    records = list(tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator())
    assert len(records) == 15002
    parsed = tf.train.Example.FromString(records[0])
    assert set(parsed.features.feature) == set(tfx_csv_types(taxi_runs[2]))
    assert parsed.ByteSize() == len(records[0])  # nothing left unparsed


# The penguin data -------------------------------------------------------------------------


def test_penguin(tmp_path: Path, penguin_csv: Path) -> None:
    input_base = tmp_path / "input"
    copy_into(penguin_csv, input_base)
    examples = _run(tmp_path, input_base)
    splits = split_records(examples)
    records = splits["train"] + splits["eval"]
    assert len(records) == 334
    assert canonical_rows(records) == expected_rows(penguin_csv)
    assert feature_types(records) == {
        "species": "int",
        "culmen_length_mm": "float",
        "culmen_depth_mm": "float",
        "flipper_length_mm": "float",
        "body_mass_g": "float",
    }


# Small files with the hard cases ----------------------------------------------------------


def test_quoted_multiline_fields_blank_lines_and_bom(tmp_path: Path, input_dir: Path) -> None:
    text = (
        "\ufeffid,comment,score\r\n"
        '1,"a comment\nspanning, two lines",0.5\r\n'
        "\r\n"
        '2,"say ""hi""",\r\n'
        "3,,7\r\n"
    )
    write(input_dir / "data.csv", text)
    examples = _run(tmp_path, input_dir, output_config={})
    (records,) = split_records(examples).values()
    rows = sorted(decode(records), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == [[1], [2], [3]]
    assert rows[0]["comment"] == [b"a comment\nspanning, two lines"]
    assert rows[1]["comment"] == [b'say "hi"']
    assert rows[2]["comment"] == []
    assert rows[1]["score"] == []
    assert feature_types(records)["score"] == "float"


def test_type_inference_follows_tfx(tmp_path: Path, input_dir: Path) -> None:
    text = (
        "plain,spaced,under,exp,big,nan,words,empty,mixed\n"
        "1, 2,1_000,1e3,99999999999999999999,nan,a,,1\n"
        "-3,4 ,5,2.5,1,inf,b,,x\n"
    )
    write(input_dir / "data.csv", text)
    examples = _run(tmp_path, input_dir, output_config={})
    (records,) = split_records(examples).values()
    types = feature_types(records)
    # Python's int() accepts " 2" and "1_000" (so does TFX); an integer beyond int64 makes
    # the column bytes; "nan"/"inf" are floats; an all-empty column has no type: no values.
    assert types["plain"] == "int"
    assert types["spaced"] == "int"
    assert types["under"] == "int"
    assert types["exp"] == "float"
    assert types["big"] == "bytes"
    assert types["nan"] == "float"
    assert types["words"] == "bytes"
    assert types["mixed"] == "bytes"
    rows = sorted(decode(records), key=lambda r: r["plain"])
    assert rows[1]["spaced"] == [2] and rows[1]["under"] == [1000]
    assert rows[0]["mixed"] == [b"x"] and rows[1]["mixed"] == [b"1"]
    assert all(r["empty"] is None for r in rows)
    assert rows[1]["big"] == [b"99999999999999999999"]


def test_types_are_inferred_over_every_file_and_split(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "train" / "a.csv", "x,y\n1,a\n2,b\n")
    write(input_dir / "train" / "b.csv", "x,y\n3,c\n")
    write(input_dir / "eval" / "a.csv", "x,y\n4.5,d\n")
    examples = _run(
        tmp_path,
        input_dir,
        input_config={
            "splits": [
                {"name": "train", "pattern": "train/*"},
                {"name": "eval", "pattern": "eval/*"},
            ]
        },
    )
    assert decode_split_names(examples.split_names) == ["train", "eval"]
    splits = split_records(examples)
    assert len(splits["train"]) == 3 and len(splits["eval"]) == 1
    # One float in the eval split makes x a float column in both splits.
    assert feature_types(splits["train"])["x"] == "float"
    assert feature_types(splits["eval"])["x"] == "float"


def test_gzipped_csv_is_read(tmp_path: Path, input_dir: Path) -> None:
    import gzip

    write(input_dir / "data.csv.gz", gzip.compress(b"x,y\n1,a\n2,b\n"))
    examples = _run(tmp_path, input_dir, output_config={})
    (records,) = split_records(examples).values()
    assert sorted(r["x"][0] for r in decode(records)) == [1, 2]


def test_custom_split_buckets(tmp_path: Path, taxi_csv: Path) -> None:
    input_base = tmp_path / "input"
    copy_into(taxi_csv, input_base)
    examples = _run(
        tmp_path,
        input_base,
        output_config={
            "split_config": {
                "splits": [
                    {"name": "train", "hash_buckets": 8},
                    {"name": "eval", "hash_buckets": 1},
                    {"name": "test", "hash_buckets": 1},
                ]
            }
        },
    )
    counts = {k: len(v) for k, v in split_records(examples).items()}
    assert list(counts) == ["train", "eval", "test"]
    assert sum(counts.values()) == 15002
    assert 0.77 < counts["train"] / 15002 < 0.83
    assert 0.07 < counts["test"] / 15002 < 0.13


def test_partition_feature_keeps_groups_together(tmp_path: Path, input_dir: Path) -> None:
    lines = ["user,value"] + [f"u{i % 40},{i}" for i in range(400)]
    write(input_dir / "data.csv", "\n".join(lines) + "\n")
    examples = _run(
        tmp_path,
        input_dir,
        output_config={
            "split_config": {
                "splits": [
                    {"name": "train", "hash_buckets": 2},
                    {"name": "eval", "hash_buckets": 1},
                ],
                "partition_feature_name": "user",
            }
        },
    )
    splits = {k: decode(v) for k, v in split_records(examples).items()}
    users = {k: {row["user"][0] for row in rows} for k, rows in splits.items()}
    assert users["train"] and users["eval"]
    assert not users["train"] & users["eval"]
    assert sum(len(rows) for rows in splits.values()) == 400


def test_output_records_parse_identically_to_protobuf(tmp_path: Path, input_dir: Path) -> None:
    """Each record equals the protobuf encoding of the same message, field by field."""
    from tfx_bsl.coders import example_coder

    write(input_dir / "data.csv", "a,b,c\n1,x,2.5\n,y,\n-7,,1e-3\n")
    examples = _run(tmp_path, input_dir, output_config={})
    (records,) = split_records(examples).values()
    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    assert batch.num_rows == 3
    reference = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(
        example_coder.RecordBatchToExamples(batch)
    )
    assert reference.equals(batch)
    assert read_records(split_files(examples, "single_split")[0]) == records
