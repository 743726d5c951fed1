"""``tfx.orchestration.metadata``."""

from __future__ import annotations

from headrace_tfx.v1.orchestration.metadata import (
    mysql_metadata_connection_config,
    sqlite_metadata_connection_config,
)

__all__ = ["mysql_metadata_connection_config", "sqlite_metadata_connection_config"]
