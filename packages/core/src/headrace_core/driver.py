"""Drivers: a component's own step before the cache lookup, as TFX's custom drivers.

A component names one with ``DRIVER_SPEC = "module:function"``. The launcher calls it with a
:class:`DriverContext` after resolving inputs and before computing the cache key. What it
returns enters the key (``cache_key``), is merged into the executor's ``exec_properties``, and
is set on the output artifacts before the executor runs (``output_properties``).

ExampleGen uses this to choose the span and version of its input and to fingerprint the input
files: new or changed files change the key, untouched ones hit the cache. A driver that raises
fails the node with its message, before anything is executed. Drivers must be light (no
TensorFlow or Beam): they run on every launch, cached or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from headrace_core.artifacts import Artifact

__all__ = ["DriverContext", "DriverOutput"]


@dataclass(frozen=True)
class DriverContext:
    pipeline_name: str
    pipeline_root: str
    run_id: str
    node_id: str
    #: Parameters as compiled into the IR (protobuf messages as JSON dicts).
    exec_properties: Mapping[str, Any]
    inputs: Mapping[str, list[Artifact]]


@dataclass
class DriverOutput:
    #: JSON-serializable updates to the executor's ``exec_properties``.
    exec_properties: dict[str, Any] = field(default_factory=dict)
    #: JSON-serializable values that enter the cache key under ``driver``.
    cache_key: dict[str, Any] = field(default_factory=dict)
    #: Output key -> declared properties to set on that output's artifacts (span, version...).
    output_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
