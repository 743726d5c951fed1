"""The entry-point module of headrace-broken-plugin: it raises as soon as it is imported."""

from __future__ import annotations

#: The message the integration tests look for in the plugin load error.
MESSAGE = "this plugin is broken on purpose"

raise RuntimeError(MESSAGE)
