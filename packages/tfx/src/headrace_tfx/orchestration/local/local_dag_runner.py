"""``tfx.orchestration.local.local_dag_runner``."""

from __future__ import annotations

from headrace_tfx.v1.orchestration import LocalDagRunner

__all__ = ["LocalDagRunner"]
