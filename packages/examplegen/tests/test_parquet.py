"""ParquetExampleGen: Parquet files written with pyarrow in the test."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examplegen_helpers import (
    canonical_rows,
    decode,
    expected_rows,
    feature_types,
    run_executor,
    split_records,
)

from headrace_examplegen import ParquetExampleGen
from headrace_examplegen.config import ExampleGenError
from headrace_examplegen.executor import ParquetExecutor


def test_penguin_parquet(tmp_path: Path, input_dir: Path, penguin_csv: Path) -> None:
    with open(penguin_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    table = pa.table(
        {
            "species": pa.array([int(r["species"]) for r in rows], pa.int64()),
            **{
                name: pa.array([float(r[name]) for r in rows], pa.float64())
                for name in rows[0]
                if name != "species"
            },
        }
    )
    # Two files, the second in two row groups.
    pq.write_table(table.slice(0, 100), input_dir / "part-0.parquet")
    pq.write_table(table.slice(100), input_dir / "part-1.parquet", row_group_size=117)
    examples = run_executor(ParquetExecutor, tmp_path / "out", ParquetExampleGen(str(input_dir)))
    splits = split_records(examples)
    records = splits["train"] + splits["eval"]
    assert len(records) == 334
    assert canonical_rows(records) == expected_rows(penguin_csv)
    assert examples.get_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"


def test_parquet_types_lists_and_nulls(tmp_path: Path, input_dir: Path) -> None:
    table = pa.table(
        {
            "small": pa.array([1, None, 3], pa.int8()),
            "flag": pa.array([True, False, None]),
            "ratio": pa.array([0.5, None, 2.0], pa.float32()),
            "name": pa.array(["a", None, "ü"]),
            "blob": pa.array([b"\x00\x01", b"", None], pa.binary()),
            "tags": pa.array([["x", "y"], [], None], pa.list_(pa.string())),
            "scores": pa.array([[1.5, 2.5], None, [3.5]], pa.large_list(pa.float64())),
            "ids": pa.array([[1], [2, 3], []], pa.list_(pa.int32())),
            "category": pa.array(["p", "q", "p"]).dictionary_encode(),
        }
    )
    pq.write_table(table, input_dir / "data.parquet")
    examples = run_executor(
        ParquetExecutor, tmp_path / "out", ParquetExampleGen(str(input_dir), output_config={})
    )
    (records,) = split_records(examples).values()
    assert feature_types(records) == {
        "small": "int",
        "flag": "int",
        "ratio": "float",
        "name": "bytes",
        "blob": "bytes",
        "tags": "bytes",
        "scores": "float",
        "ids": "int",
        "category": "bytes",
    }
    rows = {row["small"][0] if row["small"] else None: row for row in decode(records)}
    assert rows[1]["tags"] == [b"x", b"y"] and rows[1]["scores"] == [1.5, 2.5]
    assert rows[1]["flag"] == [1] and rows[1]["blob"] == [b"\x00\x01"]
    assert rows[None]["tags"] == [] and rows[None]["scores"] is None
    assert rows[None]["ids"] == [2, 3] and rows[None]["name"] is None
    assert rows[3]["name"] == ["ü".encode()] and rows[3]["ids"] == []
    assert rows[3]["category"] == [b"p"]


def test_unsupported_parquet_column_names_file_and_column(tmp_path: Path, input_dir: Path) -> None:
    path = input_dir / "data.parquet"
    pq.write_table(pa.table({"id": [1, 2], "where": [{"x": 1}, {"x": 2}]}), path)
    with pytest.raises(
        ExampleGenError, match=rf"{path} \(rows 1-2\): column 'where' has type struct"
    ):
        run_executor(ParquetExecutor, tmp_path / "out", ParquetExampleGen(str(input_dir)))
