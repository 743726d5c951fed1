"""Reading and writing Schema artifacts; the errors name the component, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2

from headrace_tfdv_io import (
    InvalidSchemaError,
    SchemaNotFoundError,
    load_schema,
    read_schema,
    schema_file_in,
    write_schema,
)


def _schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    feature = schema.feature.add(name="fare", type=schema_pb2.FLOAT)
    feature.presence.min_fraction = 1.0
    return schema


def test_write_then_load(tmp_path: Path) -> None:
    path = write_schema(_schema(), str(tmp_path / "schema"))
    assert path == str(tmp_path / "schema" / "schema.pbtxt")
    assert load_schema(str(tmp_path / "schema")) == _schema()


def test_the_only_file_of_an_artifact_is_its_schema(tmp_path: Path) -> None:
    write_schema(_schema(), str(tmp_path))
    (tmp_path / "schema.pbtxt").rename(tmp_path / "curated.pbtxt")
    (tmp_path / ".hidden").write_text("")
    assert schema_file_in(str(tmp_path)) == str(tmp_path / "curated.pbtxt")
    assert load_schema(str(tmp_path)) == _schema()


def test_missing_schema_names_the_component_and_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "b.txt").write_text("")
    with pytest.raises(SchemaNotFoundError) as e:
        load_schema(str(tmp_path), component="Transform")
    assert str(e.value) == (
        f"Transform: schema artifact {tmp_path} has no schema.pbtxt (it holds a.txt, b.txt)"
    )
    assert isinstance(e.value, FileNotFoundError)


def test_a_bad_schema_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "schema.pbtxt").write_text('feature {\n  name: "x"\n  typ: INT\n}\n')
    with pytest.raises(
        InvalidSchemaError, match=r"^Evaluator: schema .*schema\.pbtxt:3:\d+: not a valid"
    ):
        load_schema(str(tmp_path), component="Evaluator")


def test_the_component_error_class_replaces_both(tmp_path: Path) -> None:
    class EvaluatorError(RuntimeError):
        pass

    with pytest.raises(EvaluatorError, match=r"has no schema\.pbtxt"):
        load_schema(str(tmp_path), component="Evaluator", error=EvaluatorError)
    (tmp_path / "schema.pbtxt").write_bytes(b"\xff\xfe")
    with pytest.raises(EvaluatorError, match="not UTF-8 text"):
        read_schema(str(tmp_path / "schema.pbtxt"), error=EvaluatorError)
