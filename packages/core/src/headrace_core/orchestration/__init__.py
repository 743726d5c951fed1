"""Orchestrators shipped with the core: the local runner."""

from __future__ import annotations

from headrace_core.orchestration.local import LocalDagRunner, NodeEvent, RunResult

__all__ = ["LocalDagRunner", "NodeEvent", "RunResult"]
