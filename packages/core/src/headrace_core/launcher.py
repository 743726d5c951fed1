"""Moved: the launcher is now :mod:`headrace_core.runtime`. Kept so that code written against
headrace-core 0.1 (``from headrace_core.launcher import launch_node``) keeps working; new code
imports from :mod:`headrace_core.runtime`."""

from __future__ import annotations

from headrace_core.runtime import (
    LaunchError,
    NodeResult,
    Prediction,
    RunSession,
    Status,
    apply_environment,
    launch_node,
    predict_node,
)

__all__ = [
    "LaunchError",
    "NodeResult",
    "Prediction",
    "RunSession",
    "Status",
    "apply_environment",
    "launch_node",
    "predict_node",
]
