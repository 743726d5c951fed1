"""Paths written against the pipeline root, resolved when a node runs.

A pipeline that derives a path from its root (where the Pusher pushes, a folder a component
writes beside its outputs) writes it against :data:`PIPELINE_ROOT`, so the same pipeline file,
or the same compiled IR, runs under any root (``headrace run --pipeline-root DIR``)::

    from headrace_core import PIPELINE_ROOT, pipeline_root

    Pusher(..., push_destination={
        "filesystem": {"base_directory": os.path.join(PIPELINE_ROOT, "serving_model")}
    })
    Push(base_directory=pipeline_root("serving"))       # the same, as a function

``PIPELINE_ROOT`` is the string ``"<pipeline_root>"``, so it goes wherever a string path goes:
``os.path.join``, ``pathlib.Path``, f-strings, a ``str`` parameter, a string field of a proto
message, a dict nested at any depth. The IR keeps the placeholder as written (it is the marker
there: portable, one compiled document for any root). The runtime resolves every parameter of
a node with :func:`resolve_node` before anything reads them, so the node's driver, its cache
key and its executor all see the absolute path under the root of this run.

The cache key therefore covers the resolved path, by choice: a Pusher that pushes under root
``B`` has not done its work because it once pushed under ``A``. With the default metadata
store (inside the root) two roots share nothing anyway; with one store shared by both (a
MySQL ``--metadata``), the nodes whose parameters derive from the root re-run under the new
root and the others stay cached, and ``headrace cache why`` names the parameter.

A component that checks a path when it is defined (the Pusher makes its base directory
absolute) leaves a value with :func:`has_placeholder` as it is.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, Final, TypeVar, cast

__all__ = [
    "PIPELINE_ROOT",
    "has_placeholder",
    "pipeline_root",
    "resolve",
    "resolve_node",
]

#: Stands for the root of the run in any string parameter value.
#: Never a real path component on Windows, and nothing that Jinja (Airflow), KFP or a shell
#: would substitute on the way to the node.
PIPELINE_ROOT: Final = "<pipeline_root>"

T = TypeVar("T")


def pipeline_root(*parts: str) -> str:
    """``<pipeline_root>/part/...``: a path under the root of the run, resolved at launch."""
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"pipeline_root() takes path parts as str, got {part!r}")
        if posixpath.isabs(part):
            raise ValueError(
                f"pipeline_root({', '.join(map(repr, parts))}): parts are relative to the root; "
                f"{part!r} is absolute"
            )
    return posixpath.join(PIPELINE_ROOT, *parts) if parts else PIPELINE_ROOT


def has_placeholder(value: Any) -> bool:
    """Whether ``value`` (a string, or lists, tuples and dicts of them) mentions the root."""
    if isinstance(value, str):
        return PIPELINE_ROOT in value
    if isinstance(value, Mapping):
        return any(has_placeholder(k) or has_placeholder(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_placeholder(v) for v in value)
    return False


def _resolve_text(text: str, root: str) -> str:
    if PIPELINE_ROOT not in text:
        return text
    if not root:
        raise ValueError(
            f"{text!r} is written against the pipeline root, but no pipeline root is known "
            "here; resolve it with headrace_core.placeholders.resolve(value, pipeline_root)"
        )
    trimmed = root.rstrip("/") or "/"
    if trimmed == "/":
        text = text.replace(PIPELINE_ROOT + "/", "/")
    return text.replace(PIPELINE_ROOT, trimmed)


def resolve(value: T, pipeline_root: str) -> T:
    """``value`` with every :data:`PIPELINE_ROOT` replaced by ``pipeline_root``: strings, and
    dicts, lists and tuples of them at any depth, as new objects; anything else as it is.

    Raises ValueError when ``value`` needs a root and ``pipeline_root`` is empty.
    """
    result: Any
    if isinstance(value, str):
        result = _resolve_text(value, pipeline_root)
    elif isinstance(value, Mapping):
        result = {resolve(k, pipeline_root): resolve(v, pipeline_root) for k, v in value.items()}
    elif isinstance(value, list):
        result = [resolve(v, pipeline_root) for v in value]
    elif isinstance(value, tuple):
        result = tuple(resolve(v, pipeline_root) for v in value)
    else:
        result = value
    return cast(T, result)


def resolve_node(node: Mapping[str, Any], pipeline_root: str) -> dict[str, Any]:
    """A copy of an IR node with its parameters (and an importer's ``source_uri`` and
    properties) resolved against ``pipeline_root``; the node itself is left unchanged."""
    resolved = dict(node)
    if "parameters" in node:
        resolved["parameters"] = resolve(node["parameters"], pipeline_root)
    if isinstance(node.get("importer"), Mapping):
        resolved["importer"] = resolve(node["importer"], pipeline_root)
    return resolved
