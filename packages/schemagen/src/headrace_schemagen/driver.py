"""``ImportSchemaGen``'s driver: the schema file's content enters the cache key.

Light by contract (it runs on every launch): hashlib only.
"""

from __future__ import annotations

import hashlib
import os

from headrace_core.driver import DriverContext, DriverOutput

__all__ = ["import_schema_driver"]


def import_schema_driver(context: DriverContext) -> DriverOutput:
    path = context.exec_properties.get("schema_file")
    if not isinstance(path, str) or not path:
        raise ValueError("ImportSchemaGen: schema_file is not set")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ImportSchemaGen: schema file {path} does not exist")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return DriverOutput(cache_key={"schema_file_sha256": digest.hexdigest()})
