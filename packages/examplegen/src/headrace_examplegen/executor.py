"""ExampleGen executors: read the input files with Beam, write ``tf.Example`` TFRecords.

Every executor turns its files into batches of serialized examples (a few tens of thousands of
rows at a time, converted with vectorized Arrow/numpy code rather than row by row), then the
shared part partitions them into the output splits by a hash of each record and writes
``<uri>/Split-<name>/data_tfrecord-*.gz``.

- ``CsvExecutor``: each file is parsed with Python's ``csv`` module (quoted fields may span
  lines). Column types are inferred over every row of every file, as TFX's CSV decoder does:
  int64 if every non-empty value is an integer, else float if every one is a number, else bytes.
  Empty cells are missing values.
- ``ImportExecutor``: TFRecord files of serialized ``tf.Example``, gzipped or not (detected per
  file), copied record by record.
- ``ParquetExecutor``: Parquet columns of integers, booleans, floats, strings, binaries or
  lists of them.
"""

from __future__ import annotations

import concurrent.futures
import csv
import itertools
import os
import re
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.io import fileio
from apache_beam.io.filebasedsink import FileBasedSink
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pipeline import Pipeline
from apache_beam.pvalue import PCollection

from headrace_core.artifacts import Artifact, encode_split_names, split_uri
from headrace_core.executor import BaseExecutor
from headrace_examplegen import _ragged as rg
from headrace_examplegen._strict import (
    CSV_DIALECT,
    EmptyInputCheck,
    csv_parse_error,
    line_of_row,
    not_utf8,
    open_csv_text,
)
from headrace_examplegen.config import (
    FILE_FORMAT,
    PAYLOAD_FORMAT,
    ExampleGenError,
    OutputSplit,
    config_to_dict,
    input_splits,
    output_data_format,
    output_splits,
    partition_feature_name,
)
from headrace_examplegen.encoding import (
    EncodedColumn,
    FeatureKind,
    UnsupportedColumnError,
    encode_column,
    encode_examples,
    feature_order,
)
from headrace_examplegen.resolve import match_files, resolve_input
from headrace_examplegen.tfrecord import open_maybe_gzip, payloads, read_frames, seal_frames

__all__ = [
    "DEFAULT_FILE_NAME",
    "BaseExampleGenExecutor",
    "CsvExecutor",
    "ExampleBatch",
    "ImportExecutor",
    "ParquetExecutor",
    "TFRecordBatchSink",
]

#: TFX's output file prefix inside each ``Split-<name>`` directory.
DEFAULT_FILE_NAME = "data_tfrecord"
#: Rows converted together: large enough to amortize the vectorized work, small enough to keep
#: a batch's intermediate arrays in cache-friendly sizes.
_BATCH_ROWS = 32_768
#: CSV rows are held as Python strings while a batch is parsed: wide files get fewer rows.
_BATCH_CELLS = 1_000_000
#: Gzip level of the output: level 1 compresses about twice as fast as the default (6), for
#: files about a fifth larger.
_GZIP_LEVEL = 1
_BEAM_SUFFIX = re.compile(r"(\s*\[while running '[^']*'\])+\s*$")
_REMOTE_ERROR = re.compile(r"ExampleGenError: ([^\n]+)")


@dataclass(frozen=True)
class ExampleBatch:
    """A batch of serialized examples as TFRecord frames in one buffer.

    ``sealed``: the frames' data CRCs are filled in (input frames passed through are);
    ``keys``: each record's partition key, when a partition feature is set.
    """

    frames: rg.Ragged
    sealed: bool = False
    keys: Sequence[bytes] | None = None


# Partitioning and writing -------------------------------------------------------------------


class _Partition(beam.DoFn):
    """TFX's split assignment, ``sha256(key) mod total_buckets`` against cumulative buckets,
    where the key is the serialized record or the partition feature's serialized ``Feature``.
    Emits each split's frames of the batch as one buffer."""

    def __init__(self, splits: Sequence[OutputSplit]) -> None:
        self._names = [s.name for s in splits]
        self._bounds = np.array(list(itertools.accumulate(s.hash_buckets for s in splits)))

    def process(self, batch: ExampleBatch) -> Iterator[Any]:
        buckets = seal_frames(
            batch.frames,
            fill_crc=not batch.sealed,
            bucket_modulus=int(self._bounds[-1]),
            keys=batch.keys,
        )
        assert buckets is not None
        chosen = np.searchsorted(self._bounds, buckets, side="right")
        for index, name in enumerate(self._names):
            rows = np.flatnonzero(chosen == index)
            if len(rows):
                yield beam.pvalue.TaggedOutput(name, rg.take(batch.frames, rows).data)


def _sealed_buffer(batch: ExampleBatch) -> rg.ByteArray:
    if not batch.sealed:
        seal_frames(batch.frames, fill_crc=True)
    return batch.frames.data


class _GzipWriter:
    """Gzip-compresses into a file on a helper thread, so compression (which releases the
    GIL) overlaps the conversion of the next batch."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gzip")
        self._pending: concurrent.futures.Future[bytes] | None = None

    def _drain(self) -> None:
        if self._pending is not None:
            self._raw.write(self._pending.result())
            self._pending = None

    def write(self, data: Any) -> None:
        self._drain()
        self._pending = self._pool.submit(self._compressor.compress, data)

    def close(self) -> None:
        try:
            self._drain()
            self._raw.write(self._compressor.flush())
        finally:
            self._pool.shutdown()
            self._raw.close()


class TFRecordBatchSink(FileBasedSink):
    """Gzipped TFRecord files whose elements are buffers of ready TFRecord frames.

    Beam's ``FileBasedSink`` does the sharding, temporary files and final names
    (``<prefix>-00000-of-00001.gz``); the writer compresses with a fast gzip level on a helper
    thread.
    """

    def __init__(self, file_path_prefix: str) -> None:
        super().__init__(
            file_path_prefix,
            coder=None,
            file_name_suffix=".gz",
            num_shards=0,
            shard_name_template=None,
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.UNCOMPRESSED,
        )

    def open(self, temp_path: str) -> Any:
        raw = FileSystems.create(temp_path, self.mime_type, CompressionTypes.UNCOMPRESSED)
        return _GzipWriter(raw)

    def write_record(self, file_handle: Any, value: Any) -> None:
        if len(value):
            file_handle.write(value)


# The executor base ----------------------------------------------------------------------------


class BaseExampleGenExecutor(BaseExecutor):
    """The shared part of the file-based ExampleGens: inputs, splits, writing, properties.

    Subclasses implement :meth:`read_splits`, turning each input split's files into a
    PCollection of :class:`ExampleBatch`.
    """

    #: The input format, for messages.
    FORMAT: ClassVar[str] = "input"
    #: Whether a zero-byte input file is valid (an empty TFRecord shard is; an empty CSV is not).
    EMPTY_FILES_OK: ClassVar[bool] = False
    #: Whether the reader refuses a file without records itself: then a split (which always
    #: has a file) cannot be empty, and the pipeline needs no count of its records.
    REFUSES_FILES_WITHOUT_RECORDS: ClassVar[bool] = False

    def Do(  # noqa: N802 - TFX's name
        self,
        input_dict: dict[str, list[Artifact]],
        output_dict: dict[str, list[Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        outputs = output_dict.get("examples") or []
        if len(outputs) != 1:
            raise ExampleGenError(f"ExampleGen writes one Examples artifact, got {len(outputs)}")
        examples = outputs[0]
        name = self._name()
        input_base = exec_properties.get("input_base") or ""
        input_config = config_to_dict(exec_properties.get("input_config"), "input_config")
        output_config = config_to_dict(exec_properties.get("output_config"), "output_config")
        output_data_format(exec_properties.get("output_data_format"))

        if exec_properties.get("input_fingerprint"):
            # The driver resolved spans and versions; its patterns are final.
            span = int(exec_properties.get("span") or 0)
            version = exec_properties.get("version")
            fingerprint = str(exec_properties["input_fingerprint"])
            splits = [
                (split, match_files(input_base, split, pattern, name))
                for split, pattern in input_splits(input_config)
            ]
        else:
            resolved = resolve_input(
                input_base,
                input_config,
                config_to_dict(exec_properties.get("range_config"), "range_config"),
                component=name,
            )
            span, version, fingerprint = resolved.span, resolved.version, resolved.fingerprint()
            splits = [(s.name, s.files) for s in resolved.splits]
            input_config = resolved.input_config()

        for split, files in splits:
            for path in files:
                self._check_readable(split, path)

        partitioned = output_splits(input_config, output_config)
        feature = partition_feature_name(output_config)
        names = [s.name for s in partitioned] if partitioned else [s for s, _ in splits]

        try:
            with beam.Pipeline(argv=self._get_beam_pipeline_args()) as pipeline:
                by_input = self.read_splits(pipeline, splits, feature)
                for split, files in () if self.REFUSES_FILES_WITHOUT_RECORDS else splits:
                    check = EmptyInputCheck(name, split, input_base, files, self.FORMAT)
                    _ = (
                        by_input[split]
                        | f"Count[{split}]" >> beam.Map(_record_count)
                        | f"Total[{split}]" >> beam.CombineGlobally(sum)
                        | f"RequireRecords[{split}]" >> beam.Map(check)
                    )
                if partitioned:
                    (batches,) = by_input.values()
                    tagged = batches | "Partition" >> beam.ParDo(
                        _Partition(partitioned)
                    ).with_outputs(*names)
                    by_output = {n: tagged[n] for n in names}
                else:
                    by_output = {
                        n: b | f"Seal[{n}]" >> beam.Map(_sealed_buffer) for n, b in by_input.items()
                    }
                for split_name, records in by_output.items():
                    prefix = os.path.join(split_uri(examples, split_name), DEFAULT_FILE_NAME)
                    _ = records | f"Write[{split_name}]" >> beam.io.Write(TFRecordBatchSink(prefix))
        except Exception as e:
            message = _input_error_message(e)
            if message is None:
                raise
            raise ExampleGenError(message) from e

        examples.set_property("split_names", encode_split_names(names))
        examples.set_property("span", span)
        if version is not None:
            examples.set_property("version", int(version))
        examples.set_custom_property("payload_format", PAYLOAD_FORMAT)
        examples.set_custom_property("file_format", FILE_FORMAT)
        examples.set_custom_property("input_fingerprint", fingerprint)

    def _name(self) -> str:
        node = self.context.node_id
        return f"{type(self).__name__.removesuffix('Executor')}ExampleGen" + (
            f" {node!r}" if node else ""
        )

    def _check_readable(self, split: str, path: str) -> None:
        try:
            with open(path, "rb") as f:
                empty = not f.read(1)
        except OSError as e:
            raise ExampleGenError(
                f"cannot read input file {path} (split {split!r}): {e.strerror or e}"
            ) from None
        if empty and not self.EMPTY_FILES_OK:
            raise ExampleGenError(
                f"input file {path} (split {split!r}) is empty: a {self.FORMAT} file needs "
                + ("a header line" if self.FORMAT == "CSV" else "content")
            )

    def read_splits(
        self,
        pipeline: Pipeline,
        splits: Sequence[tuple[str, Sequence[str]]],
        partition_feature: str | None,
    ) -> dict[str, PCollection[Any]]:
        """Input split name -> PCollection of :class:`ExampleBatch` with all its records."""
        raise NotImplementedError

    @staticmethod
    def _readable_files(pipeline: Pipeline, split: str, files: Sequence[str]) -> PCollection[Any]:
        return (
            pipeline
            | f"Files[{split}]" >> beam.Create(list(files))
            | f"Match[{split}]" >> fileio.MatchAll()
            | f"Open[{split}]" >> fileio.ReadMatches()
        )


def _record_count(batch: ExampleBatch) -> int:
    return len(batch.frames)


def _input_error_message(error: BaseException) -> str | None:
    """The message of an :class:`ExampleGenError` raised inside the Beam pipeline, without
    Beam's step annotations; from a worker process it arrives as text inside another error."""
    if isinstance(error, ExampleGenError):
        return _BEAM_SUFFIX.sub("", str(error))
    found = _REMOTE_ERROR.search(str(error))
    return _BEAM_SUFFIX.sub("", found.group(1)) if found else None


def _batch_from_columns(
    columns: Sequence[tuple[str, pa.Array]],
    num_rows: int,
    partition_feature: str | None,
    where: _Where,
    *,
    missing_as_empty: Collection[str] = (),
) -> ExampleBatch:
    """Encode columns into examples (and partition keys), naming ``where`` on errors.

    Features go in the order of protobuf's deterministic serialization (:func:`feature_order`),
    so each record is the key TFX hashes to choose the split (``SerializeToString(
    deterministic=True)``), and the split of every row is TFX's. A null of a column in
    ``missing_as_empty`` is an empty value list (TFX's CSV rule), of any other column
    ``Feature()``.
    """
    encoded: list[EncodedColumn] = []
    for name, array in sorted(columns, key=lambda c: feature_order(c[0])):
        try:
            encoded.append(encode_column(name, array, missing_as_empty=name in missing_as_empty))
        except UnsupportedColumnError as e:
            raise ExampleGenError(f"{where}: {e}") from None
    frames = encode_examples(encoded, num_rows, framed=True)
    keys = None
    if partition_feature is not None:
        keys = _partition_keys(encoded, partition_feature, where)
    return ExampleBatch(frames, sealed=False, keys=keys)


@dataclass(frozen=True)
class _Where:
    """A batch's place in its file, for messages: ``unit`` ``first``..``first + count - 1``."""

    path: str
    unit: str  # "data row", "row" or "record"
    first: int
    count: int

    def __str__(self) -> str:
        return f"{self.path} ({self.unit}s {self.first}-{self.first + self.count - 1})"


def _partition_keys(encoded: Sequence[EncodedColumn], feature: str, where: _Where) -> list[bytes]:
    column = next((c for c in encoded if c.name == feature), None)
    if column is None:
        raise ExampleGenError(
            f"{where}: partition feature {feature!r} does not exist (features: "
            + ", ".join(c.name for c in encoded)
            + ")"
        )
    if column.kind is FeatureKind.FLOAT:
        raise ExampleGenError(
            f"{where}: partition feature {feature!r} is a float feature; only bytes and int64 "
            "features can be partitioned on"
        )
    keys = column.features()
    missing = next((i for i, k in enumerate(keys) if not k), None)
    if missing is not None:
        raise ExampleGenError(
            f"{where.path}: partition feature {feature!r} has no value in {where.unit} "
            f"{where.first + missing}"
        )
    return keys


# CSV -----------------------------------------------------------------------------------------

_UNKNOWN, _INT, _FLOAT, _STRING = 0, 1, 2, 3
_TYPE_NAMES = {_UNKNOWN: "unknown", _INT: "int64", _FLOAT: "float", _STRING: "bytes"}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Forms that Arrow's and Python's parsers both accept, with the same value.
_INTEGER = r"^-?[0-9]+$"
_DECIMAL = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


@dataclass(frozen=True)
class CsvChunk:
    """Rows of one CSV file as string columns (empty string: missing)."""

    path: str
    first_row: int  # 1-based among the file's data rows (blank lines not counted)
    header: tuple[str, ...]
    columns: tuple[pa.Array, ...]
    num_rows: int


def _infer_value(value: str) -> int:
    """TFX's type of one CSV cell (``tfx_bsl.coders.csv_decoder``'s rules)."""
    if not value:
        return _UNKNOWN
    try:
        number = int(value)
    except ValueError:
        try:
            float(value)
        except ValueError:
            return _STRING
        return _FLOAT
    return _INT if _INT64_MIN <= number <= _INT64_MAX else _STRING


def infer_column_type(column: pa.Array) -> int:
    """The narrowest of int64, float and bytes that holds every non-empty value.

    Works on the distinct values. Values in the plain forms both Arrow and Python parse the
    same way (``-12``, ``3.5e-2``) are recognized by vectorized kernels; only the rest
    (``" 12"``, ``"1_000"``, ``"nan"``, words) are decided with TFX's exact rules, one by one.
    A failing Arrow cast would be far slower than either.
    """
    values = pc.unique(pc.filter(column, pc.not_equal(column, "")))
    if len(values) == 0:
        return _UNKNOWN
    if pc.all(pc.ascii_is_decimal(values)).as_py():  # the cheapest test settles most columns
        return _INT if _fits_int64(values) else _STRING
    integer = pc.match_substring_regex(values, _INTEGER)
    if pc.all(integer).as_py():
        return _INT if _fits_int64(values) else _STRING
    found = _UNKNOWN
    if pc.any(integer).as_py():
        found = _INT if _fits_int64(pc.filter(values, integer)) else _STRING
        values = pc.filter(values, pc.invert(integer))
    if found != _STRING:
        decimal = pc.match_substring_regex(values, _DECIMAL)
        if pc.all(decimal).as_py():
            return max(found, _FLOAT)
        if pc.any(decimal).as_py():
            found = max(found, _FLOAT)
            values = pc.filter(values, pc.invert(decimal))
    for value in values.to_pylist():
        if found == _STRING:
            break
        found = max(found, _infer_value(value))
    return found


def _fits_int64(integers: pa.Array) -> bool:
    """Whether every value (all integers as text) is within int64; 18 digits always are."""
    if pc.max(pc.binary_length(integers)).as_py() < 19:
        return True
    try:
        pc.cast(integers, pa.int64())
    except pa.ArrowInvalid:
        return False
    return True


def _merge_types(left: Mapping[str, int], right: Mapping[str, int]) -> dict[str, int]:
    merged = dict(left)
    for name, kind in right.items():
        merged[name] = max(merged.get(name, _UNKNOWN), kind)
    return merged


class _MergeTypes(beam.CombineFn):
    def create_accumulator(self) -> dict[str, int]:
        return {}

    def add_input(self, accumulator: dict[str, int], types: Mapping[str, int]) -> dict[str, int]:
        return _merge_types(accumulator, types)

    def merge_accumulators(self, accumulators: Any) -> dict[str, int]:
        merged: dict[str, int] = {}
        for accumulator in accumulators:
            merged = _merge_types(merged, accumulator)
        return merged

    def extract_output(self, accumulator: dict[str, int]) -> dict[str, int]:
        return accumulator


def _convert(column: pa.Array, kind: int, name: str, where: _Where) -> pa.Array:
    """A string column as typed values, empty strings as nulls."""
    missing = pc.equal(column, "")
    if kind == _UNKNOWN:
        return pa.nulls(len(column), pa.large_binary())
    column = pc.if_else(missing, pa.scalar(None, pa.string()), column)
    if kind == _STRING:
        return pc.cast(column, pa.large_binary())
    target = pa.int64() if kind == _INT else pa.float64()
    try:
        typed = pc.cast(column, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Values Python accepts but Arrow does not (" 12", "1_000"): convert them one by one.
        convert = int if kind == _INT else float
        values = []
        for line, value in enumerate(column.to_pylist()):
            try:
                values.append(None if value is None else convert(value))
            except ValueError:
                raise ExampleGenError(
                    f"{where}: column {name!r} was inferred as {_TYPE_NAMES[kind]} but data "
                    f"row {where.first + line} holds {value!r}"
                ) from None
        typed = pa.array(values, target)
    return pc.cast(typed, pa.float32(), safe=False) if kind == _FLOAT else typed


class _ReadCsv(beam.DoFn):
    """One CSV file to :class:`CsvChunk` s, and each chunk's inferred column types (tagged
    ``types``)."""

    TYPES = "types"

    def process(self, readable: Any) -> Iterator[Any]:
        path = readable.metadata.path
        try:
            raw = readable.open(compression_type=CompressionTypes.UNCOMPRESSED)
        except OSError as e:
            raise ExampleGenError(f"cannot read input file {path}: {e}") from None
        with raw:
            # Gzipped CSV is recognized by its content, whatever the file is called.
            reader = csv.reader(open_csv_text(raw), **CSV_DIALECT)
            header = tuple(self._next(reader, path, 1))
            _check_header(header, path)
            width = len(header)
            record = 1  # records read so far, the header included
            data_rows = 0  # rows converted so far (blank lines are not rows)
            while True:
                rows = self._rows(reader, path, width)
                if not rows:
                    break
                first_record = record
                record += len(rows)
                if not all(rows):  # blank lines are skipped, as TFX's CSV decoder does
                    rows = [r for r in rows if r]
                    if not rows:
                        continue
                if set(map(len, rows)) != {width}:
                    self._ragged(path, first_record, rows, width)
                columns = _transpose(rows, width)
                types = {
                    name: infer_column_type(column)
                    for name, column in zip(header, columns, strict=True)
                }
                yield beam.pvalue.TaggedOutput(self.TYPES, types)
                yield CsvChunk(path, data_rows + 1, header, columns, len(rows))
                data_rows += len(rows)
            if not data_rows:
                # An empty input is a failed export far more often than an empty day.
                raise ExampleGenError(
                    f"{path}, line 1: the header is the only row; a CSV file needs at least "
                    "one data row (add rows or remove the file)"
                )

    @staticmethod
    def _next(reader: Any, path: str, line: int) -> list[str]:
        try:
            return next(reader)
        except StopIteration:
            raise ExampleGenError(
                f"{path}: the file is empty; a CSV file needs a header line"
            ) from None
        except UnicodeDecodeError:
            raise not_utf8(path) from None
        except csv.Error as e:
            raise csv_parse_error(path, e, reader.line_num or line) from None
        except (OSError, EOFError) as e:
            raise ExampleGenError(f"cannot read input file {path}: {e}") from None

    @staticmethod
    def _rows(reader: Any, path: str, width: int) -> list[list[str]]:
        count = max(256, min(_BATCH_ROWS, _BATCH_CELLS // max(width, 1)))
        try:
            return list(itertools.islice(reader, count))
        except csv.Error as e:
            raise csv_parse_error(path, e, reader.line_num) from None
        except (OSError, EOFError) as e:
            raise ExampleGenError(f"cannot read input file {path}: {e}") from None
        except UnicodeDecodeError:
            raise not_utf8(path) from None

    @staticmethod
    def _ragged(path: str, first_record: int, rows: list[list[str]], width: int) -> None:
        bad = next(i for i, r in enumerate(rows) if len(r) != width)
        line = line_of_row(path, rows[bad], first_record)
        raise ExampleGenError(
            f"{path}, line {line}: {len(rows[bad])} fields where the header has {width}"
        )


def _transpose(rows: list[list[str]], width: int) -> tuple[pa.Array, ...]:
    """Rows of equal width as string columns: one Arrow conversion of every cell, then a
    strided take per column (about twice as fast as converting column tuples)."""
    cells = pa.array(list(itertools.chain.from_iterable(rows)), pa.string())
    size = len(rows) * width
    return tuple(cells.take(pa.array(np.arange(c, size, width))) for c in range(width))


def _check_header(header: Sequence[str], path: str) -> None:
    if not header:
        raise ExampleGenError(f"{path}, line 1: the header line is empty")
    blank = [i + 1 for i, name in enumerate(header) if not name.strip()]
    if blank:
        raise ExampleGenError(
            f"{path}, line 1: header column {blank[0]} has no name; every column needs one"
        )
    duplicates = sorted({n for n in header if header.count(n) > 1})
    if duplicates:
        raise ExampleGenError(f"{path}, line 1: duplicate column name(s) {', '.join(duplicates)}")


class _ConvertCsv(beam.DoFn):
    """A :class:`CsvChunk` to a :class:`ExampleBatch`, with the column types of every file."""

    def __init__(self, partition_feature: str | None) -> None:
        self._partition_feature = partition_feature

    def process(self, chunk: CsvChunk, types: Mapping[str, int]) -> Iterator[ExampleBatch]:
        where = _Where(chunk.path, "data row", chunk.first_row, chunk.num_rows)
        columns = [
            (name, _convert(column, types.get(name, _STRING), name, where))
            for name, column in zip(chunk.header, chunk.columns, strict=True)
        ]
        # TFX's CSV executor: an empty cell of a typed column is an empty list of its type; a
        # column without any value has no type, and its cells are Feature().
        typed = {name for name in chunk.header if types.get(name, _STRING) != _UNKNOWN}
        yield _batch_from_columns(
            columns, chunk.num_rows, self._partition_feature, where, missing_as_empty=typed
        )


class CsvExecutor(BaseExampleGenExecutor):
    """``CsvExampleGen``: CSV files with a header line to ``tf.Example``."""

    FORMAT = "CSV"
    REFUSES_FILES_WITHOUT_RECORDS = True  # a header-only file is an error

    def read_splits(
        self,
        pipeline: Pipeline,
        splits: Sequence[tuple[str, Sequence[str]]],
        partition_feature: str | None,
    ) -> dict[str, PCollection[Any]]:
        chunks: dict[str, PCollection[Any]] = {}
        types: list[PCollection[Any]] = []
        for split, files in splits:
            parsed = self._readable_files(
                pipeline, split, files
            ) | f"ReadCsv[{split}]" >> beam.ParDo(_ReadCsv()).with_outputs(
                _ReadCsv.TYPES, main="chunks"
            )
            chunks[split] = parsed.chunks
            types.append(parsed[_ReadCsv.TYPES])
        # One type per column across every file of every split, so the splits agree.
        merged = (
            types
            | "AllTypes" >> beam.Flatten()
            | "InferTypes" >> beam.CombineGlobally(_MergeTypes())
        )
        column_types = beam.pvalue.AsSingleton(merged)
        return {
            split: pcoll
            | f"ToExamples[{split}]" >> beam.ParDo(_ConvertCsv(partition_feature), column_types)
            for split, pcoll in chunks.items()
        }


# TFRecord import ------------------------------------------------------------------------------


class _ReadTFRecords(beam.DoFn):
    """One TFRecord file (gzipped or not) to :class:`ExampleBatch` objects, records as they
    are."""

    def __init__(self, partition_feature: str | None) -> None:
        self._partition_feature = partition_feature

    def process(self, readable: Any) -> Iterator[ExampleBatch]:
        path = readable.metadata.path
        try:
            raw = readable.open(compression_type=CompressionTypes.UNCOMPRESSED)
        except OSError as e:
            raise ExampleGenError(f"cannot read input file {path}: {e}") from None
        with raw:
            try:
                stream = open_maybe_gzip(raw)
                first = 1
                for frames in read_frames(stream, path, _BATCH_ROWS):
                    keys = None
                    if self._partition_feature is not None:
                        where = _Where(path, "record", first, len(frames))
                        keys = _import_keys(frames, self._partition_feature, where)
                    first += len(frames)
                    yield ExampleBatch(frames, sealed=True, keys=keys)
            except (OSError, EOFError, zlib.error) as e:
                raise ExampleGenError(
                    f"cannot read input file {path}: {e} (a damaged gzip file?)"
                ) from None


def _import_keys(frames: rg.Ragged, feature: str, where: _Where) -> list[bytes]:
    from tfx_bsl.coders import example_coder

    starts, ends = payloads(frames)
    view = frames.data.data
    records = [bytes(view[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    try:
        decoded = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    except Exception as e:  # the decoder raises RuntimeError or ValueError by version
        raise ExampleGenError(f"{where}: the records are not tf.Example protos: {e}") from None
    if feature not in decoded.schema.names:
        raise ExampleGenError(f"{where}: partition feature {feature!r} does not exist")
    try:
        column = encode_column(feature, decoded.column(feature))
    except UnsupportedColumnError as e:
        raise ExampleGenError(f"{where}: {e}") from None
    return _partition_keys([column], feature, where)


class ImportExecutor(BaseExampleGenExecutor):
    """``ImportExampleGen``: TFRecord files of ``tf.Example``, gzipped or not."""

    FORMAT = "TFRecord"
    EMPTY_FILES_OK = True  # an empty TFRecord shard is a valid file with no records

    def read_splits(
        self,
        pipeline: Pipeline,
        splits: Sequence[tuple[str, Sequence[str]]],
        partition_feature: str | None,
    ) -> dict[str, PCollection[Any]]:
        return {
            split: self._readable_files(pipeline, split, files)
            | f"ReadTFRecords[{split}]" >> beam.ParDo(_ReadTFRecords(partition_feature))
            for split, files in splits
        }


# Parquet -------------------------------------------------------------------------------------


class _ReadParquet(beam.DoFn):
    """One Parquet file to :class:`ExampleBatch` objects, a row batch at a time."""

    def __init__(self, partition_feature: str | None) -> None:
        self._partition_feature = partition_feature

    def process(self, readable: Any) -> Iterator[ExampleBatch]:
        import pyarrow.parquet as pq

        path = readable.metadata.path
        try:
            raw = readable.open(compression_type=CompressionTypes.UNCOMPRESSED)
        except OSError as e:
            raise ExampleGenError(f"cannot read input file {path}: {e}") from None
        with raw:
            try:
                parquet = pq.ParquetFile(raw)
            except (pa.ArrowException, OSError) as e:
                raise ExampleGenError(f"{path} is not a readable Parquet file: {e}") from None
            first = 1
            batches = parquet.iter_batches(batch_size=_BATCH_ROWS)
            while True:
                try:
                    batch = next(batches, None)
                except (pa.ArrowException, OSError) as e:
                    raise ExampleGenError(
                        f"{path}: cannot read rows from row {first}: {e}"
                    ) from None
                if batch is None:
                    break
                where = _Where(path, "row", first, batch.num_rows)
                columns = list(zip(batch.schema.names, batch.columns, strict=True))
                first += batch.num_rows
                yield _batch_from_columns(columns, batch.num_rows, self._partition_feature, where)


class ParquetExecutor(BaseExampleGenExecutor):
    """``ParquetExampleGen``: Parquet files to ``tf.Example``."""

    FORMAT = "Parquet"

    def read_splits(
        self,
        pipeline: Pipeline,
        splits: Sequence[tuple[str, Sequence[str]]],
        partition_feature: str | None,
    ) -> dict[str, PCollection[Any]]:
        return {
            split: self._readable_files(pipeline, split, files)
            | f"ReadParquet[{split}]" >> beam.ParDo(_ReadParquet(partition_feature))
            for split, files in splits
        }
