"""ImportExampleGen: existing TFRecord files of tf.Example, gzipped or not."""

from __future__ import annotations

import collections
import gzip
from pathlib import Path

import pytest
from examplegen_helpers import (
    copy_into,
    decode,
    run_executor,
    split_files,
    split_records,
    write,
)

from headrace_examplegen import CsvExampleGen, ImportExampleGen
from headrace_examplegen.executor import CsvExecutor, ImportExecutor
from headrace_examplegen.tfrecord import frame_records


@pytest.fixture(scope="module")
def penguin_tfrecords(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """The penguin CSV as tf.Example records, made by CsvExampleGen."""
    from examplegen_helpers import data_file

    base = tmp_path_factory.mktemp("penguin")
    copy_into(data_file("penguin", "penguins_processed.csv"), base / "csv")
    examples = run_executor(CsvExecutor, base / "out", CsvExampleGen(str(base / "csv")))
    return split_records(examples)


def test_import_gzipped_and_plain_files(
    tmp_path: Path, input_dir: Path, penguin_tfrecords: dict[str, list[bytes]]
) -> None:
    records = penguin_tfrecords["train"] + penguin_tfrecords["eval"]
    framed = frame_records(records).data.tobytes()
    half = len(frame_records(records[:100]).data)
    write(input_dir / "part-0.tfrecord.gz", gzip.compress(framed[:half]))
    write(input_dir / "part-1.tfrecord", framed[half:])  # plain, and no .gz name to go by
    write(input_dir / "part-2.tfrecord", b"")  # an empty shard is a valid, empty file
    examples = run_executor(ImportExecutor, tmp_path / "out", ImportExampleGen(str(input_dir)))
    splits = split_records(examples)
    assert len(splits["train"]) + len(splits["eval"]) == 334
    # Records are copied byte for byte; the split assignment is CsvExampleGen's, since both
    # hash the same serialized records.
    assert collections.Counter(splits["train"]) == collections.Counter(penguin_tfrecords["train"])
    assert collections.Counter(splits["eval"]) == collections.Counter(penguin_tfrecords["eval"])
    assert examples.get_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    assert [p.name for p in split_files(examples, "eval")] == ["data_tfrecord-00000-of-00001.gz"]


def test_import_keeps_input_splits_and_partitions_on_a_feature(
    tmp_path: Path, input_dir: Path, penguin_tfrecords: dict[str, list[bytes]]
) -> None:
    write(
        input_dir / "train" / "data.gz",
        gzip.compress(frame_records(penguin_tfrecords["train"]).data.tobytes()),
    )
    write(
        input_dir / "eval" / "data.gz",
        gzip.compress(frame_records(penguin_tfrecords["eval"]).data.tobytes()),
    )
    kept = run_executor(
        ImportExecutor,
        tmp_path / "kept",
        ImportExampleGen(
            str(input_dir),
            input_config={
                "splits": [
                    {"name": "train", "pattern": "train/*"},
                    {"name": "eval", "pattern": "eval/*"},
                ]
            },
        ),
    )
    assert split_records(kept) == penguin_tfrecords

    by_species = run_executor(
        ImportExecutor,
        tmp_path / "by_species",
        ImportExampleGen(
            str(input_dir),
            input_config={"splits": [{"name": "all", "pattern": "*/*"}]},
            output_config={
                "split_config": {
                    "splits": [
                        {"name": "a", "hash_buckets": 1},
                        {"name": "b", "hash_buckets": 1},
                    ],
                    "partition_feature_name": "species",
                }
            },
        ),
    )
    species = {
        name: {row["species"][0] for row in decode(records)}
        for name, records in split_records(by_species).items()
    }
    assert species["a"] | species["b"] == {0, 1, 2}
    assert not species["a"] & species["b"]
