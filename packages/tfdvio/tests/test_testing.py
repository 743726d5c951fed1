"""``headrace_tfdv_io.testing``: CSVs as Examples artifacts, the way CsvExampleGen writes them."""

from __future__ import annotations

import gzip
from pathlib import Path

from headrace_tfdv_io.testing import ExamplesFixture, write_examples


def test_write_examples_types_columns_and_splits_two_to_one(tmp_path: Path) -> None:
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("n,x,s\n1,0.5,a\n2,,b\n3,1.5,\n4,2,d\n")
    fixture = write_examples(csv_path, tmp_path / "examples")
    assert fixture.types == {"n": "int", "x": "float", "s": "bytes"}
    assert fixture.counts == {"train": 3, "eval": 1}
    assert fixture.missing["train"] == {"n": 0, "x": 1, "s": 0}
    assert fixture.missing["eval"] == {"n": 0, "x": 0, "s": 1}
    assert fixture.split_names == '["train", "eval"]'
    record = tmp_path / "examples" / "Split-train" / "data_tfrecord-00000-of-00001.gz"
    with gzip.open(record) as f:
        assert f.read()


def test_the_plugin_gives_the_real_penguin_data(penguin_examples: ExamplesFixture) -> None:
    assert penguin_examples.splits == ["train", "eval"]
    assert penguin_examples.counts["train"] == 2 * penguin_examples.counts["eval"] + 1
    assert penguin_examples.types["species"] == "int"
