"""Schema artifacts: ``<uri>/schema.pbtxt`` in text format, as TFX's SchemaGen writes it."""

from __future__ import annotations

import os

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from headrace_core.errors import HeadraceError
from headrace_core.executor import describe_directory

__all__ = [
    "SCHEMA_FILE",
    "InvalidSchemaError",
    "SchemaNotFoundError",
    "load_schema",
    "parse_schema",
    "read_schema",
    "schema_file_in",
    "write_schema",
]

#: TFX's file name inside a Schema artifact.
SCHEMA_FILE = "schema.pbtxt"


class SchemaNotFoundError(HeadraceError, FileNotFoundError):
    """A Schema artifact holds no schema file."""


class InvalidSchemaError(HeadraceError, ValueError):
    """A schema file is not a text-format tensorflow_metadata Schema."""


def _prefix(component: str) -> str:
    return f"{component}: " if component else ""


def parse_schema(
    text: str,
    source: str,
    *,
    component: str = "",
    error: type[Exception] = InvalidSchemaError,
) -> schema_pb2.Schema:
    """Parse a text-format Schema; errors read ``[<component>: ]schema <source>:<line>:<column>:
    not a valid tensorflow_metadata Schema: <problem>``."""
    try:
        return text_format.Parse(text, schema_pb2.Schema())
    except text_format.ParseError as e:
        line, column = e.GetLine(), e.GetColumn()
        problem = str(e)
        # protobuf starts the message with "line:column : "; the location is given once.
        location = f"{line}:{column} : "
        if problem.startswith(location):
            problem = problem[len(location) :]
        where = f"{source}:{line}:{column}" if line is not None else source
        raise error(
            f"{_prefix(component)}schema {where}: not a valid tensorflow_metadata Schema: {problem}"
        ) from None


def read_schema(
    path: str,
    *,
    component: str = "",
    error: type[Exception] = InvalidSchemaError,
) -> schema_pb2.Schema:
    """The Schema in the text-format file ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise error(
            f"{_prefix(component)}schema {path}: not a text-format schema (not UTF-8 text: {e})"
        ) from None
    return parse_schema(text, path, component=component, error=error)


def schema_file_in(
    uri: str,
    *,
    component: str = "",
    error: type[Exception] = SchemaNotFoundError,
) -> str:
    """The schema file of a Schema artifact: ``schema.pbtxt``, else its only file (TFX reads
    whatever single file the artifact holds; hidden files are not counted)."""
    path = os.path.join(uri, SCHEMA_FILE)
    if os.path.isfile(path):
        return path
    files = (
        sorted(
            name
            for name in os.listdir(uri)
            if not name.startswith(".") and os.path.isfile(os.path.join(uri, name))
        )
        if os.path.isdir(uri)
        else []
    )
    if len(files) == 1:
        return os.path.join(uri, files[0])
    raise error(
        f"{_prefix(component)}schema artifact {uri} has no {SCHEMA_FILE} "
        f"({describe_directory(uri)})"
    )


def load_schema(
    uri: str,
    *,
    component: str = "",
    error: type[Exception] | None = None,
) -> schema_pb2.Schema:
    """The Schema of the Schema artifact at ``uri``.

    Raises :class:`SchemaNotFoundError` or :class:`InvalidSchemaError`, or ``error`` for
    both where the component has an error class of its own.
    """
    path = schema_file_in(uri, component=component, error=error or SchemaNotFoundError)
    return read_schema(path, component=component, error=error or InvalidSchemaError)


def write_schema(schema: schema_pb2.Schema, uri: str) -> str:
    """Write ``schema`` as the Schema artifact at ``uri``; return the file's path."""
    os.makedirs(uri, exist_ok=True)
    path = os.path.join(uri, SCHEMA_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(schema))
    return path
