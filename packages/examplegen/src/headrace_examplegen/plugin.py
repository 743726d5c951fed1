"""The plugin module headrace loads (entry point ``examplegen`` in group ``headrace``)."""

from __future__ import annotations

from headrace_core.plugins import ComponentRegistry, hookimpl
from headrace_examplegen.component import CsvExampleGen, ImportExampleGen, ParquetExampleGen

__all__ = ["headrace_register_components"]


@hookimpl
def headrace_register_components(registry: ComponentRegistry) -> None:
    registry.add(CsvExampleGen)
    registry.add(ImportExampleGen)
    registry.add(ParquetExampleGen)
