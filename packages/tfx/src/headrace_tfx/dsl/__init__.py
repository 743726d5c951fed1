"""``tfx.dsl``: TFX's DSL package; its public names are ``tfx.v1.dsl``'s."""

from __future__ import annotations

from headrace_tfx.v1.dsl import Channel, Cond, Importer, Pipeline, Resolver

__all__ = ["Channel", "Cond", "Importer", "Pipeline", "Resolver"]
