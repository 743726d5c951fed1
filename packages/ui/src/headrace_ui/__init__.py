"""headrace ui: a read-only web interface served straight from ML Metadata.

``headrace ui --pipeline-root DIR`` (or ``--metadata URL``) serves pipelines and runs, each
run's DAG with live node statuses, node details and logs, artifacts with their components'
own views, lineage across runs, run comparison and model history. Importing this package
imports no web framework; :func:`create_app` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headrace_ui.__about__ import __version__

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["__version__", "create_app"]


def create_app(metadata_url: str, **options: Any) -> Starlette:
    """The ASGI application over the store at ``metadata_url`` (see :mod:`headrace_ui.app`)."""
    from headrace_ui.app import create_app as create

    return create(metadata_url, **options)
