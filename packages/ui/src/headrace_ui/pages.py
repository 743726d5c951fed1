"""Jinja2 for the pages: autoescaping always on, and the filters the templates share.

``scrub`` runs every free-form value from the store (properties, errors, logs) through
headrace-core's URL redaction, so a password someone put into a URL is shown as ``***``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from typing import Any

from headrace_core.metadata import redact

__all__ = ["PageError", "render", "scrub", "templates_environment"]

# scheme://user:password@host: what redact() knows how to hide.
_URL_WITH_PASSWORD = re.compile(r"\b[a-zA-Z][\w+.\-]*://[^\s/@:'\"<>]*:[^\s/@'\"<>]*@[^\s'\"<>]+")
_SECRET_KEYS = re.compile(r"(password|passwd|secret|token|credential)", re.IGNORECASE)
# "db_password: VALUE" or "token=VALUE" in free text (a viewer's summary, a log).
_SECRET_ASSIGNMENT = re.compile(
    r"(\b\w*(?:password|passwd|secret|token|credential)\w*\s*[:=]\s*)([^\s,;]+)", re.IGNORECASE
)


class PageError(Exception):
    """A request the pages answer with an explanation: bad parameters, nothing found."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = {400: "Bad request", 404: "Not found"}.get(status, "Error")
        self.detail = detail


def scrub(value: Any) -> Any:
    """``value`` with any URL's password, and any ``secret_name: value`` pair's value,
    replaced by ``***`` (strings only)."""
    if not isinstance(value, str):
        return value
    value = _URL_WITH_PASSWORD.sub(lambda m: redact(m.group(0)), value)
    return _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + "***", value)


def _conceal(value: Any) -> Any:
    """``value`` with what any key naming a secret holds, at any depth, as ``***``."""
    if isinstance(value, dict):
        return {
            k: "***" if _SECRET_KEYS.search(str(k)) and v not in (None, "") else _conceal(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_conceal(v) for v in value]
    return value


def _hidden(value: Any, key: str) -> Any:
    """A property whose name says it is a secret is never shown."""
    return "***" if _SECRET_KEYS.search(str(key)) and value not in (None, "") else scrub(value)


def _when(ts: Any) -> str:
    if not isinstance(ts, (int, float)) or not ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(seconds), 60)
    return (
        f"{minutes} min {s:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
    )


def _link(path: str, **params: Any) -> str:
    """``path?k=v...``, every value quoted (node ids and run ids may hold any character)."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}?{query}" if query else path


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return scrub(value)
    return scrub(json.dumps(_conceal(value), indent=2, sort_keys=True, default=str))


def templates_environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("headrace_ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(scrub=scrub, when=_when, duration=_duration, pretty=_pretty, hidden=_hidden)
    env.globals.update(link=_link)
    return env


def render(env: Any, template: str, **context: Any) -> str:
    html: str = env.get_template(template).render(**context)
    return html
