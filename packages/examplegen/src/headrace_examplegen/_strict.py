"""Strict ingestion: the error path of CSV parsing, and the check that an input has records.

CSV files are parsed in strict mode, so a malformed file fails instead of losing rows: without
it, Python's ``csv`` module takes an unterminated quote as a field that runs to the end of the
file, so every later row silently becomes part of one cell. The helpers here read a bad file a
second time to say where its problem starts, as an editor numbers lines (1-based, physical
lines, so a quoted field spanning lines counts each). They run only once parsing has failed,
so the normal path pays nothing for them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from headrace_examplegen.config import ExampleGenError
from headrace_examplegen.tfrecord import open_maybe_gzip

__all__ = [
    "CSV_DIALECT",
    "EmptyInputCheck",
    "csv_parse_error",
    "line_of_row",
    "not_utf8",
    "open_csv_text",
]

#: Every reader of a CSV file parses it the same way: strictly.
CSV_DIALECT: dict[str, Any] = {"strict": True}
_UNTERMINATED = "unexpected end of data"
#: Files named in an empty-input error; the rest are counted.
_FILES_NAMED = 3


def open_csv_text(raw: IO[bytes]) -> io.TextIOWrapper:
    """A CSV file's text: gzip recognized by content, UTF-8 with an optional BOM."""
    return io.TextIOWrapper(open_maybe_gzip(raw), encoding="utf-8-sig", newline="")


@contextmanager
def _reopen(path: str) -> Iterator[IO[bytes]]:
    # Through Beam's file systems, so the second read works wherever the first one did.
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        yield open_maybe_gzip(raw)


def csv_parse_error(path: str, error: csv.Error, line: int) -> ExampleGenError:
    """The error for ``csv``'s ``error``, raised when ``line`` lines had been read."""
    if str(error) != _UNTERMINATED:
        return ExampleGenError(f"{path}, line {line}: malformed CSV: {error}")
    start = _start_of_failing_record(path)
    return ExampleGenError(
        f"{path}, line {start}: a quoted field that starts on this line is never closed "
        f"(the file ends at line {line}); close the quote, or double a quote meant as text "
        '("")'
    )


def _start_of_failing_record(path: str) -> int:
    """The line the first record that ``csv`` cannot parse starts on."""
    with _reopen(path) as stream:
        reader = csv.reader(open_csv_text(stream), **CSV_DIALECT)
        previous_end = 0
        while True:
            try:
                next(reader)
            except (csv.Error, StopIteration):
                return previous_end + 1
            previous_end = reader.line_num


def not_utf8(path: str) -> ExampleGenError:
    """An error naming the line of the first byte that is not UTF-8 (text is decoded in blocks,
    so the decoder's own position says little)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    line = 1
    with _reopen(path) as stream:
        while block := stream.read(1 << 16):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                bad = max(e.start, 0)
                line += block.count(b"\n", 0, bad)
                return ExampleGenError(
                    f"{path}, line {line}: not UTF-8 text (byte {offset + bad} is "
                    f"{block[bad : bad + 1]!r}); the file cannot be read as CSV"
                )
            line += block.count(b"\n")
            offset += len(block)
    return ExampleGenError(f"{path}: not UTF-8 text; the file cannot be read as CSV")


def line_of_row(path: str, row: list[str], first_record: int) -> int:
    """The line a record starts on (records may span lines), by reading the file again."""
    with _reopen(path) as stream:
        reader = csv.reader(open_csv_text(stream), **CSV_DIALECT)
        previous_end = 0
        for index, candidate in enumerate(reader):
            if index >= first_record and candidate == row:
                return previous_end + 1
            previous_end = reader.line_num
    return previous_end


class EmptyInputCheck:
    """Raises when an input split's record count is zero, naming the split and its files.

    Applied to a global count inside the pipeline, so it works on any runner; the executor
    then raises and the runtime publishes nothing instead of an empty Examples artifact.
    """

    def __init__(
        self, component: str, split: str, input_base: str, files: Sequence[str], fmt: str
    ) -> None:
        self._component = component
        self._split = split
        self._input_base = input_base
        self._files = list(files)
        self._format = fmt

    def __call__(self, count: int) -> int:
        if count:
            return count
        named = ", ".join(self._files[:_FILES_NAMED])
        more = len(self._files) - _FILES_NAMED
        if more > 0:
            named += f" and {more} more"
        raise ExampleGenError(
            f"{self._component}: input split {self._split!r} under input_base "
            f"{self._input_base} has no records: its {len(self._files)} {self._format} "
            f"file(s) ({named}) hold none; add data or fix the split's pattern"
        )
