"""Bad input: each case fails with its own message naming the file (and line), and the
executor publishes nothing. The driver catches a missing directory and unmatched patterns
before any work starts."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from examplegen_helpers import run_executor, write

from headrace_core.driver import DriverContext
from headrace_examplegen import CsvExampleGen, ImportExampleGen, ParquetExampleGen
from headrace_examplegen.config import ExampleGenError
from headrace_examplegen.driver import drive
from headrace_examplegen.executor import CsvExecutor, ImportExecutor, ParquetExecutor


def _csv(tmp_path: Path, input_base: Path, **kwargs: object) -> None:
    run_executor(CsvExecutor, tmp_path / "out", CsvExampleGen(str(input_base), **kwargs))


def _drive(component: object) -> object:
    return drive(
        DriverContext(
            pipeline_name="p",
            pipeline_root="/unused",
            run_id="r",
            node_id="CsvExampleGen",
            exec_properties=component.exec_properties,  # type: ignore[attr-defined]
            inputs={},
        )
    )


def test_ragged_row_names_file_and_line(tmp_path: Path, input_dir: Path) -> None:
    # The record before the bad one spans two lines: the line number counts physical lines.
    path = write(input_dir / "data.csv", 'a,b,c\n1,"two\nlines",3\n4,5,6\n7,8\n9,10,11\n')
    with pytest.raises(ExampleGenError, match=rf"{path}, line 5: 2 fields where the header has 3"):
        _csv(tmp_path, input_dir)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.gz"))


def test_row_with_too_many_fields(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(ExampleGenError, match=rf"{path}, line 3: 3 fields where the header has 2"):
        _csv(tmp_path, input_dir)


def test_empty_file(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "good.csv", "a\n1\n")
    path = write(input_dir / "empty.csv", "")
    with pytest.raises(
        ExampleGenError, match=rf"input file {path} \(split 'single_split'\) is empty"
    ):
        _csv(tmp_path, input_dir)


def test_empty_gzipped_file(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "empty.csv.gz", gzip.compress(b""))
    with pytest.raises(
        ExampleGenError, match=rf"{path}: the file is empty; a CSV file needs a header"
    ):
        _csv(tmp_path, input_dir)


def test_missing_input_base(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    component = CsvExampleGen(str(missing))
    with pytest.raises(ExampleGenError, match=rf"input_base {missing} does not exist"):
        _drive(component)
    with pytest.raises(ExampleGenError, match=rf"input_base {missing} does not exist"):
        _csv(tmp_path, missing)


def test_input_base_is_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", "a\n1\n")
    with pytest.raises(ExampleGenError, match=rf"input_base {path} is not a directory"):
        _drive(CsvExampleGen(str(path)))


def test_no_file_matches_the_pattern(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "data.csv", "a\n1\n")
    component = CsvExampleGen(
        str(input_dir), input_config={"splits": [{"name": "train", "pattern": "*.tsv"}]}
    )
    message = rf"no file matches split 'train' pattern '\*.tsv' under input_base {input_dir}"
    with pytest.raises(ExampleGenError, match=message):
        _drive(component)
    with pytest.raises(ExampleGenError, match=message):
        _csv(tmp_path, input_dir, input_config={"splits": [{"name": "train", "pattern": "*.tsv"}]})


def test_pattern_matching_only_directories_says_so(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "day1" / "data.csv", "a\n1\n")
    with pytest.raises(ExampleGenError, match=r"matches only directories \(day1\): add '/\*'"):
        _drive(CsvExampleGen(str(input_dir)))


def test_file_that_is_not_utf8_text(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.csv", b"a,b\n1,2\n3,\xff\xfe\x00\x81\n")
    with pytest.raises(ExampleGenError, match=rf"{path}, line 3: not UTF-8 text \(byte 10 "):
        _csv(tmp_path, input_dir)


def test_broken_link_is_unreadable(tmp_path: Path, input_dir: Path) -> None:
    write(input_dir / "good.csv", "a\n1\n")
    link = input_dir / "gone.csv"
    os.symlink(tmp_path / "deleted.csv", link)
    with pytest.raises(
        ExampleGenError, match=rf"cannot read input file {link}.*broken symbolic link"
    ):
        _drive(CsvExampleGen(str(input_dir)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_file_without_read_permission(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.csv", "a\n1\n")
    path.chmod(0)
    try:
        with pytest.raises(ExampleGenError, match=rf"cannot read input file {path}"):
            _drive(CsvExampleGen(str(input_dir)))
        with pytest.raises(ExampleGenError, match=rf"cannot read input file {path}"):
            _csv(tmp_path, input_dir)
    finally:
        path.chmod(0o644)


def test_unreadable_file_in_the_executor(
    tmp_path: Path, input_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error from the OS (here faked, since tests may run as root) names the file."""
    path = write(input_dir / "data.csv", "a\n1\n")
    real_open = open

    def failing_open(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(
        ExampleGenError, match=rf"cannot read input file {path} .*Permission denied"
    ):
        _csv(tmp_path, input_dir)


def test_unreadable_file_in_the_driver(input_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import headrace_examplegen.resolve as resolve

    path = write(input_dir / "data.csv", "a\n1\n")

    def failing(file: str) -> str:
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(resolve, "fingerprint_path", failing)
    message = rf"cannot read input file {path} \(split 'single_split'\): Permission denied"
    with pytest.raises(ExampleGenError, match=message):
        _drive(CsvExampleGen(str(input_dir)))


def test_bad_headers(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(ExampleGenError, match=rf"{path}, line 1: duplicate column name\(s\) a"):
        _csv(tmp_path, input_dir)
    write(input_dir / "data.csv", "a,,c\n1,2,3\n")
    with pytest.raises(ExampleGenError, match=r"line 1: header column 2 has no name"):
        _csv(tmp_path, input_dir)


def test_not_a_tfrecord_file(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.tfrecord", b"a,b\n1,2\nthis is not a TFRecord file\n")
    with pytest.raises(ExampleGenError, match=rf"{path}: record 0 has a corrupt length header"):
        run_executor(ImportExecutor, tmp_path / "out", ImportExampleGen(str(input_dir)))


def test_truncated_tfrecord_file(tmp_path: Path, input_dir: Path) -> None:
    from headrace_examplegen.tfrecord import frame_records

    framed = frame_records([b"\x0a\x00", b"\x0a\x00"]).data.tobytes()
    path = write(input_dir / "data.tfrecord", framed[:-3])
    with pytest.raises(ExampleGenError, match=rf"{path}: record 1 is truncated"):
        run_executor(ImportExecutor, tmp_path / "out", ImportExampleGen(str(input_dir)))


def test_not_a_parquet_file(tmp_path: Path, input_dir: Path) -> None:
    path = write(input_dir / "data.parquet", b"PAR1 but not really")
    with pytest.raises(ExampleGenError, match=rf"{path} is not a readable Parquet file"):
        run_executor(ParquetExecutor, tmp_path / "out", ParquetExampleGen(str(input_dir)))


def test_partition_feature_errors(tmp_path: Path, input_dir: Path) -> None:
    def split_on(feature: str) -> dict[str, object]:
        return {
            "split_config": {
                "splits": [
                    {"name": "train", "hash_buckets": 1},
                    {"name": "eval", "hash_buckets": 1},
                ],
                "partition_feature_name": feature,
            }
        }

    path = write(input_dir / "data.csv", "id,score,tag,none\n1,0.5,a,\n2,1.5,,\n")
    with pytest.raises(
        ExampleGenError, match=rf"{path} \(data rows 1-2\): partition feature 'nope' does not exist"
    ):
        _csv(tmp_path, input_dir, output_config=split_on("nope"))
    with pytest.raises(ExampleGenError, match=r"partition feature 'score' is a float feature"):
        _csv(tmp_path, input_dir, output_config=split_on("score"))
    # A column without any value has no type, so no value list to hash (TFX refuses it too);
    # an empty cell of a typed column is an empty list, hashed as TFX hashes it.
    with pytest.raises(
        ExampleGenError, match=r"partition feature 'none' has no value in data row 1"
    ):
        _csv(tmp_path, input_dir, output_config=split_on("none"))
    _csv(tmp_path / "by_tag", input_dir, output_config=split_on("tag"))
