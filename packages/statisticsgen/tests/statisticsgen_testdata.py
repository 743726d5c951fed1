"""Test data: Examples artifacts (gzipped tf.Example TFRecords per split) made from the real CSVs.

The package's tests must not depend on headrace-examplegen, so the CSVs are converted here the
way ExampleGen converts them: each column typed as int, float or bytes from its values, a
missing value is an absent feature, rows are split 2:1 into ``train`` and ``eval`` by row index.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    return Path(os.environ.get("HEADRACE_TEST_DATA") or REPO.parent / "shared" / "data")


@dataclass(frozen=True)
class ExamplesFixture:
    uri: Path
    #: split name -> number of rows written
    counts: dict[str, int]
    #: column -> "int" | "float" | "bytes"
    types: dict[str, str]
    #: split name -> column -> number of rows where the value is missing
    missing: dict[str, dict[str, int]]

    @property
    def splits(self) -> list[str]:
        return list(self.counts)


def _column_type(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    for kind, parse in (("int", int), ("float", float)):
        try:
            for v in present:
                parse(v)
        except ValueError:
            continue
        return kind
    return "bytes"


def write_examples(
    csv_path: Path, out: Path, splits: tuple[str, ...] = ("train", "eval")
) -> ExamplesFixture:
    """Write ``out/Split-<name>/data_tfrecord-00000-of-00001.gz``; row ``i`` goes to ``eval``
    when ``i % 3 == 2``, else to ``train`` (TFX's default 2:1 ratio)."""
    import tensorflow as tf

    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0])
    types = {c: _column_type([r[c] for r in rows]) for c in columns}
    counts = dict.fromkeys(splits, 0)
    missing = {s: dict.fromkeys(columns, 0) for s in splits}
    writers = {}
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for split in splits:
        (out / f"Split-{split}").mkdir(parents=True)
        path = out / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz"
        writers[split] = tf.io.TFRecordWriter(str(path), options)
    try:
        for i, row in enumerate(rows):
            split = splits[-1] if len(splits) > 1 and i % 3 == 2 else splits[0]
            feature = {}
            for column in columns:
                value = row[column]
                if value == "":
                    missing[split][column] += 1
                    continue
                kind = types[column]
                if kind == "int":
                    feature[column] = tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(value)])
                    )
                elif kind == "float":
                    feature[column] = tf.train.Feature(
                        float_list=tf.train.FloatList(value=[float(value)])
                    )
                else:
                    feature[column] = tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[value.encode("utf-8")])
                    )
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writers[split].write(example.SerializeToString())
            counts[split] += 1
    finally:
        for writer in writers.values():
            writer.close()
    return ExamplesFixture(out, counts, types, missing)
