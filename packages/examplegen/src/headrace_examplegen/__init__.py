"""headrace ExampleGen: ingest CSV, TFRecord and Parquet files as ``tf.Example`` splits.

Importing this package is light: it holds the component classes only. The executors (Beam,
Arrow) are imported when a node runs.
"""

from __future__ import annotations

from headrace_examplegen.__about__ import __version__
from headrace_examplegen.component import (
    CsvExampleGen,
    FileBasedExampleGen,
    FileBasedExampleGenSpec,
    ImportExampleGen,
    ParquetExampleGen,
)

__all__ = [
    "CsvExampleGen",
    "FileBasedExampleGen",
    "FileBasedExampleGenSpec",
    "ImportExampleGen",
    "ParquetExampleGen",
    "__version__",
]
