"""Helpers for headrace-examplegen's tests: test data, running executors, reading examples.

Examples are read back with this package's own TFRecord reader and decoded with tfx-bsl, so
most tests never import TensorFlow.
"""

from __future__ import annotations

import collections
import csv
import shutil
from pathlib import Path
from typing import Any

from headrace_core import Examples
from headrace_core.artifacts import decode_split_names, split_uri
from headrace_core.testing import require_test_data, test_data_dir

DATA = test_data_dir(__file__)


def data_file(*parts: str) -> Path:
    return require_test_data(DATA.joinpath(*parts), skip=True)


def copy_into(source: Path, directory: Path, name: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / (name or source.name)
    shutil.copyfile(source, target)
    return target


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# Running executors -----------------------------------------------------------------------


def run_executor(executor_class: type, out: Path, component: Any, **overrides: Any) -> Examples:
    """Run ``executor_class`` as the launcher would (without the driver), into ``out``."""
    examples = Examples(str(out))
    props = {**component.exec_properties, **overrides}
    executor_class().Do({}, {"examples": [examples]}, props)
    return examples


def split_files(examples: Examples, split: str) -> list[Path]:
    return sorted(Path(split_uri(examples, split)).glob("*"))


def read_records(path: Path) -> list[bytes]:
    from headrace_examplegen.tfrecord import open_maybe_gzip, payloads, read_frames

    records: list[bytes] = []
    with open(path, "rb") as f:
        for frames in read_frames(open_maybe_gzip(f), str(path), 4096):
            starts, ends = payloads(frames)
            records.extend(frames.data[s:e].tobytes() for s, e in zip(starts, ends, strict=True))
    return records


def split_records(examples: Examples) -> dict[str, list[bytes]]:
    """Every split's serialized records, read from its files."""
    names = decode_split_names(examples.get_property("split_names"))  # type: ignore[arg-type]
    return {
        name: [r for path in split_files(examples, name) for r in read_records(path)]
        for name in names
    }


def decode(records: list[bytes]) -> list[dict[str, Any]]:
    """Records as dicts: feature -> list of values, or None for a feature without values."""
    if not records:
        return []
    from tfx_bsl.coders import example_coder

    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
    return [{name: values[i] for name, values in columns.items()} for i in range(len(records))]


def feature_types(records: list[bytes]) -> dict[str, str]:
    """Feature -> 'int' | 'float' | 'bytes', as tfx-bsl's decoder sees the records."""
    import pyarrow as pa
    from tfx_bsl.coders import example_coder

    batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(records)
    found = {}
    for field in batch.schema:
        value_type = field.type.value_type if hasattr(field.type, "value_type") else field.type
        if pa.types.is_integer(value_type):
            found[field.name] = "int"
        elif pa.types.is_floating(value_type):
            found[field.name] = "float"
        else:
            found[field.name] = "bytes"
    return found


# An independent model of TFX's CSV semantics --------------------------------------------


def tfx_csv_types(path: Path) -> dict[str, str]:
    """Column types by TFX's rules (int64 if all ints, else float, else bytes), cell by cell."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    order = {"unknown": 0, "int": 1, "float": 2, "bytes": 3}
    found = dict.fromkeys(header, "unknown")
    for row in body:
        for name, value in zip(header, row, strict=True):
            if not value:
                continue
            try:
                number = int(value)
                kind = "int" if -(2**63) <= number < 2**63 else "bytes"
            except ValueError:
                try:
                    float(value)
                    kind = "float"
                except ValueError:
                    kind = "bytes"
            if order[kind] > order[found[name]]:
                found[name] = kind
    return found


def expected_rows(path: Path) -> collections.Counter[tuple[Any, ...]]:
    """The multiset of rows TFX's CSV decoder would produce, as canonical tuples."""
    import numpy as np

    types = tfx_csv_types(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    found: collections.Counter[tuple[Any, ...]] = collections.Counter()
    for row in rows[1:]:
        if not row:
            continue
        item = []
        for name, value in zip(header, row, strict=True):
            kind = types[name]
            if not value or kind == "unknown":
                item.append((name, None))
            elif kind == "int":
                item.append((name, int(value)))
            elif kind == "float":
                item.append((name, float(np.float32(float(value)))))
            else:
                item.append((name, value.encode()))
        found[tuple(sorted(item))] += 1
    return found


def canonical_rows(records: list[bytes]) -> collections.Counter[tuple[Any, ...]]:
    """Decoded records as canonical tuples comparable with :func:`expected_rows`."""
    found: collections.Counter[tuple[Any, ...]] = collections.Counter()
    for row in decode(records):
        item = []
        for name, values in row.items():
            if values is None or len(values) == 0:
                item.append((name, None))
            else:
                assert len(values) == 1, (name, values)
                item.append((name, values[0]))
        found[tuple(sorted(item))] += 1
    return found
