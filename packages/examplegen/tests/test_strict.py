"""Strict ingestion: a corrupted copy of the penguin CSV, or an input without records, fails
the node with a message naming the file (or input) and line, and publishes no Examples.

Each case runs a real pipeline with LocalDagRunner and then reads the store."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examplegen_helpers import run_executor, write

from headrace_core import Examples, Pipeline
from headrace_core.artifacts import ArtifactState
from headrace_core.metadata import MetadataStore, artifact_from_proto, custom
from headrace_core.orchestration import LocalDagRunner
from headrace_examplegen import CsvExampleGen, ImportExampleGen, ParquetExampleGen
from headrace_examplegen.config import ExampleGenError
from headrace_examplegen.executor import CsvExecutor

#: The penguin file: a header and 334 data rows, five numeric columns, no quotes.
_LINES = 335


def _penguin_lines(penguin_csv: Path) -> list[str]:
    lines = penguin_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) == _LINES and '"' not in "".join(lines)
    return lines


def _corrupt(penguin_csv: Path, target: Path, edit: Callable[[list[str]], object]) -> Path:
    """A copy of the penguin CSV at ``target`` with ``edit`` applied to its lines (index 0 is
    line 1, the header); ``edit`` may return bytes to write instead."""
    lines = _penguin_lines(penguin_csv)
    edited = edit(lines)
    return write(target, edited if isinstance(edited, bytes) else "".join(lines))


def _run_failing(root: Path, component: object) -> str:
    """Run ``component`` alone; assert its node failed and no Examples is LIVE. The message."""
    pipeline = Pipeline("strict-ingestion", str(root), [component])  # type: ignore[list-item]
    result = LocalDagRunner().run(pipeline)
    assert not result.succeeded
    (node,) = result.results.values()
    assert node.status == "failed", node.message
    store = MetadataStore(result.metadata_url)
    assert [custom(e, "status") for e in store.call("get_executions")] == ["failed"]
    live = [
        a
        for a in (
            artifact_from_proto(p, Examples)
            for p in store.call("get_artifacts_by_type", "Examples")
        )
        if a.state is ArtifactState.LIVE
    ]
    assert live == []
    return str(node.message)


def _unterminated_last_column(lines: list[str]) -> None:
    # Data row 20 (line 21): its last cell opens a quote that nothing closes. Without strict
    # parsing this gave 20 records and a bytes column holding the rest of the file.
    head, _, value = lines[20].rpartition(",")
    lines[20] = f'{head},"{value}'


def _unterminated_middle_column(lines: list[str]) -> None:
    cells = lines[20].split(",")
    cells[2] = '"' + cells[2]
    lines[20] = ",".join(cells)


def _missing_field(lines: list[str]) -> None:
    lines[50] = lines[50].rpartition(",")[0] + "\n"


def _extra_field(lines: list[str]) -> None:
    lines[50] = lines[50].rstrip("\n") + ",7\n"


def _text_after_closing_quote(lines: list[str]) -> None:
    head, _, value = lines[80].rpartition(",")
    lines[80] = f'{head},"{value.strip()}"x\n'


def _not_utf8(lines: list[str]) -> bytes:
    data = [line.encode() for line in lines]
    data[100] = data[100].replace(b",0.", b",\xff0.", 1)
    return b"".join(data)


def _header_only(lines: list[str]) -> None:
    del lines[1:]


CSV_CASES = [
    (
        _unterminated_last_column,
        r"line 21: a quoted field that starts on this line is never closed "
        rf"\(the file ends at line {_LINES}\)",
    ),
    (_unterminated_middle_column, r"line 21: a quoted field that starts on this line"),
    (_missing_field, r"line 51: 4 fields where the header has 5"),
    (_extra_field, r"line 51: 6 fields where the header has 5"),
    (_text_after_closing_quote, r"line 81: malformed CSV: ',' expected after '\"'"),
    (_not_utf8, r"line 101: not UTF-8 text"),
    (_header_only, r"line 1: the header is the only row; a CSV file needs at least one data"),
]


@pytest.mark.parametrize(("edit", "expected"), CSV_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_bad_csv_fails_the_node(
    tmp_path: Path, penguin_csv: Path, edit: Callable[[list[str]], object], expected: str
) -> None:
    input_base = tmp_path / "input"
    write(input_base / "a_good.csv", "".join(_penguin_lines(penguin_csv)))
    bad = _corrupt(penguin_csv, input_base / "b_bad.csv", edit)
    message = _run_failing(tmp_path / "root", CsvExampleGen(input_base=str(input_base)))
    assert message.count(str(bad)) == 1
    assert re.search(rf"{re.escape(str(bad))}, {expected}", message), message


def test_unterminated_quote_in_a_gzipped_file(
    tmp_path: Path, input_dir: Path, penguin_csv: Path
) -> None:
    lines = _penguin_lines(penguin_csv)
    _unterminated_last_column(lines)
    path = write(input_dir / "data.csv.gz", gzip.compress("".join(lines).encode()))
    with pytest.raises(ExampleGenError, match=rf"{path}, line 21: a quoted field that starts"):
        run_executor(CsvExecutor, tmp_path / "out", CsvExampleGen(str(input_dir)))


def test_quoted_fields_spanning_lines_still_parse(tmp_path: Path, input_dir: Path) -> None:
    from examplegen_helpers import decode, split_records

    write(input_dir / "data.csv", 'id,text\n1,"two\nlines"\n2,"say ""hi"""\n')
    examples = run_executor(
        CsvExecutor, tmp_path / "out", CsvExampleGen(str(input_dir), output_config={})
    )
    (records,) = split_records(examples).values()
    assert sorted(r["text"][0] for r in decode(records)) == [b'say "hi"', b"two\nlines"]


def test_empty_tfrecord_input_fails(tmp_path: Path) -> None:
    input_base = tmp_path / "input"
    empty = write(input_base / "part-0.tfrecord", b"")  # a valid shard, with no records
    write(input_base / "part-1.tfrecord.gz", gzip.compress(b""))
    message = _run_failing(tmp_path / "root", ImportExampleGen(input_base=str(input_base)))
    assert (
        f"input split 'single_split' under input_base {input_base} has no records: its 2 "
        f"TFRecord file(s) ({empty}, {input_base / 'part-1.tfrecord.gz'}) hold none"
    ) in message


def test_one_empty_input_split_fails(tmp_path: Path, penguin_csv: Path) -> None:
    from headrace_examplegen.tfrecord import frame_records

    input_base = tmp_path / "input"
    write(input_base / "train" / "data.tfrecord", frame_records([b"\x0a\x00"]).data.tobytes())
    write(input_base / "eval" / "data.tfrecord", b"")
    component = ImportExampleGen(
        input_base=str(input_base),
        input_config={
            "splits": [
                {"name": "train", "pattern": "train/*"},
                {"name": "eval", "pattern": "eval/*"},
            ]
        },
    )
    message = _run_failing(tmp_path / "root", component)
    assert f"input split 'eval' under input_base {input_base} has no records" in message
    assert "'train'" not in message


def test_parquet_without_rows_fails(tmp_path: Path) -> None:
    input_base = tmp_path / "input"
    input_base.mkdir()
    path = input_base / "data.parquet"
    pq.write_table(pa.table({"species": pa.array([], pa.int64())}), path)
    message = _run_failing(tmp_path / "root", ParquetExampleGen(input_base=str(input_base)))
    assert f"has no records: its 1 Parquet file(s) ({path}) hold none" in message
