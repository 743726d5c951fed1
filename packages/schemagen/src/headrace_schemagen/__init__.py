"""headrace SchemaGen and ImportSchemaGen: a data schema inferred by TFDV, or a curated one.

Importing this package is light: the executors, which import TFDV, are imported only when a
node runs.
"""

from __future__ import annotations

from headrace_schemagen.__about__ import __version__
from headrace_schemagen.component import (
    ImportSchemaGen,
    ImportSchemaGenSpec,
    SchemaGen,
    SchemaGenSpec,
)

__all__ = ["ImportSchemaGen", "ImportSchemaGenSpec", "SchemaGen", "SchemaGenSpec", "__version__"]
