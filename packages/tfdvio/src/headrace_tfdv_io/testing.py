"""Test data for the TFDV-based components: Examples and ExampleStatistics made from CSVs.

A component's tests must not depend on the components upstream of it, so the CSVs are
converted here much as CsvExampleGen converts them: each column typed as int, float or bytes
from its values; but a missing value is an absent feature (CsvExampleGen, as TFX's, writes an
empty list of the column's type: TFDV counts those as present with no values), and rows split
2:1 into ``train`` and ``eval`` by row index, not by hash. Needs TensorFlow (the ``testing``
extra); statistics need TFDV.

The real data sets come as the pytest fixtures ``taxi_examples`` and ``penguin_examples``
(:mod:`headrace_tfdv_io.pytest_plugin`, loaded by pytest wherever this package is installed).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from headrace_core.artifacts import encode_split_names

__all__ = [
    "ExamplesFixture",
    "tfx_split",
    "write_examples",
    "write_statistics",
]


@dataclass(frozen=True)
class ExamplesFixture:
    """An Examples artifact's directory, and what was written to it."""

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

    @property
    def split_names(self) -> str:
        """The ``split_names`` property of an Examples artifact at :attr:`uri`."""
        return encode_split_names(self.splits)


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


def tfx_split(index: int, splits: tuple[str, ...]) -> str:
    """Row ``index``'s split: the last when ``index % 3 == 2``, else the first (TFX's 2:1)."""
    return splits[-1] if len(splits) > 1 and index % 3 == 2 else splits[0]


def write_examples(
    csv_path: Path,
    out: Path,
    splits: tuple[str, ...] = ("train", "eval"),
    split_of: Callable[[int, tuple[str, ...]], str] = tfx_split,
) -> ExamplesFixture:
    """Write ``out/Split-<name>/data_tfrecord-00000-of-00001.gz``, row ``i`` into split
    ``split_of(i, splits)``."""
    import tensorflow as tf

    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0])
    types = {c: _column_type([r[c] for r in rows]) for c in columns}
    counts = dict.fromkeys(splits, 0)
    missing = {s: dict.fromkeys(columns, 0) for s in splits}

    def feature(kind: str, value: str) -> tf.train.Feature:
        if kind == "int":
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
        if kind == "float":
            return tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))

    writers = {}
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    for split in splits:
        (out / f"Split-{split}").mkdir(parents=True)
        path = out / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz"
        writers[split] = tf.io.TFRecordWriter(str(path), options)
    try:
        for i, row in enumerate(rows):
            split = split_of(i, splits)
            features = {}
            for column in columns:
                if row[column] == "":
                    missing[split][column] += 1
                else:
                    features[column] = feature(types[column], row[column])
            example = tf.train.Example(features=tf.train.Features(feature=features))
            writers[split].write(example.SerializeToString())
            counts[split] += 1
    finally:
        for writer in writers.values():
            writer.close()
    return ExamplesFixture(out, counts, types, missing)


def write_statistics(examples: ExamplesFixture, out: Path) -> Path:
    """``out/Split-<name>/FeatureStats.pb`` for every split, as StatisticsGen writes them:
    TFDV's Beam pipeline over the split's TFRecords."""
    import tensorflow_data_validation as tfdv

    for split in examples.splits:
        stats = tfdv.generate_statistics_from_tfrecord(
            data_location=str(examples.uri / f"Split-{split}" / "*")
        )
        (out / f"Split-{split}").mkdir(parents=True)
        (out / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return out
