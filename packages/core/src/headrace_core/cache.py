"""The cache key: what must be equal for a node's earlier outputs to be reused.

A node's key is the SHA-256 of the canonical JSON of these parts:

==================  ==========================================================================
``pipeline``        the pipeline name
``node``            the node id
``type``            the component type (``module.Class``)
``provider``        the distribution and version that provide the component, if any
``executor``        the executor reference and a hash of its source: every ``.py`` file of
                    the package that holds it (helpers change results too); for a user's
                    module file outside a package, only what the node's definition reaches
                    in that file and the local modules it imports, listed per name under
                    ``definitions`` (:mod:`headrace_core.source_key`), so one edited
                    function component of a file re-runs only its own nodes
``parameters``      the node's parameters, as they appear in the IR (protos as JSON)
``inputs``          for each input key, each artifact's MLMD id and content fingerprint;
                    an input declared ``in_cache_key=False`` (a cache that only speeds the
                    work up, such as tf.Transform's analyzer cache) is left out
``module_files``    for a ``module_file`` parameter: a hash of that file and of every ``.py``
                    file beside it (helpers it may import)
``driver``          what the component's driver contributes, e.g. ExampleGen's fingerprint
                    of its input files and the span and version it chose
==================  ==========================================================================

Run-scoped options (parallelism, Beam arguments such as worker counts, the orchestrator) are
not part of the key: they change how a node runs, not what it computes.

An artifact's fingerprint is computed once, when it is published, and stored as its
``fingerprint`` custom property: BLAKE2b over every file's relative path, size and content
(files over 64 MiB contribute their size and modification time instead of their bytes).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from headrace_core.source_key import definition_digests

__all__ = [
    "FINGERPRINT_PROPERTY",
    "cache_key",
    "cache_key_parts",
    "diff_parts",
    "fingerprint_path",
]

FINGERPRINT_PROPERTY = "fingerprint"
_FULL_HASH_LIMIT = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def _hash_file(digest: Any, path: str, size: int) -> None:
    if size > _FULL_HASH_LIMIT:
        digest.update(f"mtime:{os.stat(path).st_mtime_ns}".encode())
        return
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)


def fingerprint_path(path: str) -> str:
    """A content fingerprint of a file or directory tree (empty string if it does not exist)."""
    digest = hashlib.blake2b(digest_size=16)
    if os.path.isfile(path):
        size = os.path.getsize(path)
        digest.update(f"file:{size}\0".encode())
        _hash_file(digest, path, size)
        return digest.hexdigest()
    if not os.path.isdir(path):
        return ""
    for directory, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, path)
            size = os.path.getsize(full)
            digest.update(f"{rel}\0{size}\0".encode())
            _hash_file(digest, full, size)
    return digest.hexdigest()


@lru_cache(maxsize=512)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read())
    return digest.hexdigest()


def _digest(path: str) -> str:
    st = os.stat(path)
    return _file_digest(path, st.st_mtime_ns, st.st_size)


def _module_origin(module: str) -> str | None:
    # find_spec imports parent packages only (light by contract), never the executor module.
    # A parent that fails to import is reported when the executor is loaded, as the node's
    # failure; here it only means the source file is not known.
    try:
        spec = importlib.util.find_spec(module)
    except Exception:
        return None
    origin = spec.origin if spec is not None else None
    return origin if origin and os.path.isfile(origin) else None


def _package_sources(module: str, origin: str) -> list[str]:
    """Every ``.py`` file of the top-level package that holds ``module``; just ``origin`` for a
    module outside a package (a user's file: its neighbours are not its code)."""
    if "." not in module and os.path.basename(origin) != "__init__.py":
        return [origin]
    root = os.path.dirname(origin)
    if not os.path.isfile(os.path.join(root, "__init__.py")):
        return [origin]
    while os.path.isfile(os.path.join(os.path.dirname(root), "__init__.py")):
        root = os.path.dirname(root)
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".py"))
    return found


def _roots(node: Mapping[str, Any], module: str) -> list[str]:
    """The module-level names of ``module`` that the node's executor, class and driver refs
    start from (``Trainer`` of ``pipeline:Trainer.Executor``)."""
    roots = []
    for key in ("executor", "class", "driver"):
        ref = node.get(key) or ""
        ref_module, _, attr = ref.partition(":")
        if ref_module == module and attr:
            roots.append(attr.split(".")[0])
    return sorted(set(roots))


def executor_fingerprint(node: Mapping[str, Any]) -> dict[str, Any]:
    """The executor reference and a hash of its source: the whole package it lives in (helpers
    the executor imports change results too); for a user's module file outside a package,
    only the definitions the node's executor, class and driver reach in that file and the
    local modules they import (``definitions``), so editing one function component of a
    file does not re-run the others (see :mod:`headrace_core.source_key`)."""
    ref = node.get("executor") or ""
    module = ref.partition(":")[0]
    origin = _module_origin(module) if module else None
    package_of = module
    if origin is None and node.get("source_file") and os.path.isfile(node["source_file"]):
        origin = node["source_file"]
        package_of = os.path.splitext(os.path.basename(origin))[0]
    if origin is None:
        return {"ref": ref, "source": None}
    sources = _package_sources(package_of, origin)
    if sources == [origin]:
        definitions = definition_digests(origin, _roots(node, module))
        if definitions is not None:
            digest = hashlib.sha256()
            for label, value in definitions.items():
                digest.update(f"{label}\0{value}\0".encode())
            return {"ref": ref, "source": digest.hexdigest(), "definitions": definitions}
    digest = hashlib.sha256()
    for path in sources:
        digest.update(
            f"{os.path.relpath(path, os.path.dirname(origin))}\0{_digest(path)}\0".encode()
        )
    return {"ref": ref, "source": digest.hexdigest()}


def module_files(parameters: Mapping[str, Any]) -> dict[str, str]:
    """Hashes of ``module_file`` and the ``.py`` files beside it, by path relative to its folder."""
    module_file = parameters.get("module_file")
    if not isinstance(module_file, str) or not module_file:
        return {}
    if not os.path.isfile(module_file):
        return {os.path.basename(module_file): "missing"}
    folder = os.path.dirname(os.path.abspath(module_file))
    found = {}
    for name in sorted(os.listdir(folder)):
        full = os.path.join(folder, name)
        if name.endswith(".py") and os.path.isfile(full):
            found[name] = _digest(full)
    return found


def cache_key_parts(
    pipeline_name: str,
    node: Mapping[str, Any],
    inputs: Mapping[str, list[tuple[int, str]]],
    driver: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parts of ``node``'s key, given its resolved inputs as ``(artifact id, fingerprint)``
    and what its driver contributed (ExampleGen's input fingerprint, for instance)."""
    parameters = node.get("parameters", {})
    parts: dict[str, Any] = {
        "pipeline": pipeline_name,
        "node": node["id"],
        "type": node["type"],
        "provider": node.get("provider"),
        "executor": executor_fingerprint(node),
        "parameters": parameters,
        "inputs": {k: [list(pair) for pair in v] for k, v in sorted(inputs.items())},
        "module_files": module_files(parameters),
    }
    if driver:
        parts["driver"] = dict(driver)
    return parts


def canonical(parts: Mapping[str, Any]) -> str:
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(parts).encode("utf-8")).hexdigest()


def diff_parts(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two sets of key parts, most specific first."""
    changes: list[str] = []
    for part in ("pipeline", "node", "type", "provider"):
        if old.get(part) != new.get(part):
            changes.append(f"{part}: {old.get(part)!r} -> {new.get(part)!r}")
    o_exec, n_exec = old.get("executor") or {}, new.get("executor") or {}
    if o_exec.get("ref") != n_exec.get("ref"):
        changes.append(f"executor: {o_exec.get('ref')!r} -> {n_exec.get('ref')!r}")
    elif o_exec.get("source") != n_exec.get("source"):
        changes.append(
            f"executor source changed ({n_exec.get('ref')})" + _changed_definitions(o_exec, n_exec)
        )
    o_params, n_params = old.get("parameters") or {}, new.get("parameters") or {}
    for key in sorted(set(o_params) | set(n_params)):
        if o_params.get(key) != n_params.get(key):
            changes.append(
                f"parameter {key!r}: {_short(o_params.get(key))} -> {_short(n_params.get(key))}"
            )
    o_in, n_in = old.get("inputs") or {}, new.get("inputs") or {}
    for key in sorted(set(o_in) | set(n_in)):
        before, after = o_in.get(key), n_in.get(key)
        if before == after:
            continue
        ids_before = [a[0] for a in before or []]
        ids_after = [a[0] for a in after or []]
        fp_before = [a[1] for a in before or []]
        fp_after = [a[1] for a in after or []]
        if fp_before == fp_after:
            changes.append(
                f"input {key!r}: new artifact(s) {ids_after} (was {ids_before}), same content"
            )
        else:
            changes.append(
                f"input {key!r}: content changed, artifact(s) {ids_before} -> {ids_after}"
            )
    o_drv, n_drv = old.get("driver") or {}, new.get("driver") or {}
    for key in sorted(set(o_drv) | set(n_drv)):
        if o_drv.get(key) != n_drv.get(key):
            changes.append(f"{key}: {_short(o_drv.get(key))} -> {_short(n_drv.get(key))}")
    o_mod, n_mod = old.get("module_files") or {}, new.get("module_files") or {}
    for name in sorted(set(o_mod) | set(n_mod)):
        if o_mod.get(name) != n_mod.get(name):
            state = "added" if name not in o_mod else "removed" if name not in n_mod else "changed"
            changes.append(f"module file {name!r} {state}")
    return changes


def _changed_definitions(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``: SCALE, helpers.py`` naming what changed, when both sides list their definitions."""
    o_defs, n_defs = old.get("definitions"), new.get("definitions")
    if not isinstance(o_defs, Mapping) or not isinstance(n_defs, Mapping):
        return ""
    names = []
    for name in sorted(set(o_defs) | set(n_defs)):
        if name not in o_defs:
            names.append(f"{name} (added)")
        elif name not in n_defs:
            names.append(f"{name} (removed)")
        elif o_defs[name] != n_defs[name]:
            names.append(name)
    return ": " + ", ".join(names) if names else ""


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if value is not None else "(unset)"
    return text if len(text) <= 60 else text[:57] + "..."
