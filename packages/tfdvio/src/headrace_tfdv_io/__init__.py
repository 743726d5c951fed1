"""Reading and writing TFX's Schema and ExampleStatistics artifacts, for the TFDV-based components.

One reader for every component that takes a schema or statistics (StatisticsGen, SchemaGen,
ExampleValidator, Transform, Trainer, Evaluator), so each reads TFX's layouts the same way
and names the same things when a file is missing or malformed. Importing it imports
tensorflow-metadata's protos only, never TensorFlow or TFDV.
"""

from __future__ import annotations

from headrace_tfdv_io.__about__ import __version__
from headrace_tfdv_io.schema import (
    SCHEMA_FILE,
    InvalidSchemaError,
    SchemaNotFoundError,
    load_schema,
    parse_schema,
    read_schema,
    schema_file_in,
    write_schema,
)
from headrace_tfdv_io.statistics import (
    LEGACY_STATS_FILE,
    STATS_FILE,
    InvalidStatisticsError,
    StatisticsNotFoundError,
    load_split_statistics,
    write_split_statistics,
)

__all__ = [
    "LEGACY_STATS_FILE",
    "SCHEMA_FILE",
    "STATS_FILE",
    "InvalidSchemaError",
    "InvalidStatisticsError",
    "SchemaNotFoundError",
    "StatisticsNotFoundError",
    "__version__",
    "load_schema",
    "load_split_statistics",
    "parse_schema",
    "read_schema",
    "schema_file_in",
    "write_schema",
    "write_split_statistics",
]
