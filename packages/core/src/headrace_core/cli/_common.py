"""What the commands share: output helpers, the store an inspection command reads, a
pipeline file compiled with the CLI's overrides, orchestrator plugins."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any


def _write_atomically(path: str, text: str) -> None:
    """Write ``path`` whole or not at all; a failure is one clear error, with no temp file left."""
    from headrace_core.errors import HeadraceError

    if os.path.isdir(path):
        raise HeadraceError(f"{path}: is a directory; give a file name")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise HeadraceError(f"cannot write {path}: {e.strerror or e}") from e


def _orchestrator(name: str, role: str) -> Any:
    """The registered orchestrator ``name``'s runner class or compiler function."""
    from headrace_core.errors import HeadraceError
    from headrace_core.executor import import_ref
    from headrace_core.plugins import get_plugin_manager

    registry = get_plugin_manager().orchestrators
    if name not in registry:
        known = ", ".join(sorted(n for n in registry if getattr(registry.get(n), role)))
        raise HeadraceError(
            f"no orchestrator {name!r} is installed (pip install headrace-{name}?); "
            f"{role}s available: {known or 'none'}"
        )
    ref = getattr(registry.get(name), role)
    if ref is None:
        other = "headrace compile --target" if role == "runner" else "headrace run --orchestrator"
        raise HeadraceError(f"orchestrator {name!r} has no {role}; use {other} {name}")
    try:
        return import_ref(ref)
    except Exception as e:  # a broken adapter install: name it
        raise HeadraceError(f"orchestrator {name!r}: cannot import {ref}: {e}") from e


def _parse_options(values: list[str] | None) -> dict[str, str]:
    from headrace_core.errors import HeadraceError

    options: dict[str, str] = {}
    for value in values or []:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise HeadraceError(f"--option {value!r}: expected KEY=VALUE")
        options[key] = item
    return options


def _warn_plugin_errors(*, everything: bool = True) -> None:
    """One line on standard error per plugin that failed to load. Commands that use plugins
    call it: a broken plugin otherwise shows up later as a missing component or
    orchestrator, with no hint that it was ever installed. ``everything=False`` names only
    the plugins loaded so far (a successful run loads no plugin it does not need, and must
    not pay to import them all for a warning)."""
    from headrace_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    for e in manager.errors if everything else manager.loaded_errors:
        first = (str(e).splitlines() or [type(e).__name__])[0]
        print(f"headrace: warning: {first}", file=sys.stderr)


def _split_nodes(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [n for v in values for n in v.split(",") if n]


def _load_document(args: argparse.Namespace) -> dict[str, Any]:
    from headrace_core import ir
    from headrace_core.pipeline_file import load_pipeline_file

    document = ir.compile(load_pipeline_file(args.pipeline_file))
    if getattr(args, "pipeline_root", None):
        document["pipeline"]["root"] = os.path.abspath(args.pipeline_root)
    return document


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def _store(args: argparse.Namespace) -> Any:
    from headrace_core.errors import HeadraceError
    from headrace_core.metadata import (
        ENV_METADATA,
        MetadataStore,
        conceal,
        default_metadata_url,
        sqlite_path,
        store_exists,
    )

    url = conceal(args.metadata or os.environ.get(ENV_METADATA, "").strip())
    if not url and args.pipeline_root:
        url = default_metadata_url(args.pipeline_root)
    if not url:
        raise HeadraceError(
            "say which metadata store to read: --metadata URL, --pipeline-root DIR or "
            "HEADRACE_METADATA"
        )
    if not store_exists(url):
        raise HeadraceError(f"no metadata store at {sqlite_path(url)}")
    return MetadataStore(url)


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> None:
    """Rows under a header line, columns as wide as their widest cell; ``empty`` alone when
    there are no rows."""
    if not rows:
        print(empty)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _when(ts: Any) -> str:
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
        if isinstance(ts, (int, float))
        else "-"
    )
