"""HTML views of artifacts, rendered from Jinja2 templates on one shared base page.

A component package keeps its templates in ``<package>/templates/`` and has each extend
``headrace/base.html``, which gives every view the same page: title, metadata, stylesheet,
no scripts and no external resources, so a view opens from a file or an artifact store
alike. Jinja2 is imported when a view is rendered, never when the core is imported: packages
that render views depend on ``jinja2`` (or on ``headrace-core[views]``).
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["BASE_TEMPLATE", "render_view"]

#: The template every view extends. Blocks: ``style`` (extra CSS), ``content`` (below the
#: page's ``<h1>{{ title }}</h1>``).
BASE_TEMPLATE = "headrace/base.html"


@functools.cache
def _environment(package: str) -> Any:
    try:
        import jinja2
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            f"{package} renders HTML views with Jinja2, which is not installed: "
            "pip install jinja2 (or headrace-core[views])",
            name="jinja2",
        ) from e
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader(package, "templates"),
                jinja2.PackageLoader("headrace_core.views", "templates"),
            ]
        ),
        # Feature names, values and descriptions come from the data: always escaped.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_view(package: str, template: str, /, **context: Any) -> str:
    """Render ``<package>/templates/<template>`` with ``context`` (``title`` is required by
    the base page)."""
    rendered: str = _environment(package).get_template(template).render(**context)
    return rendered
