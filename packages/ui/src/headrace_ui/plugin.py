"""The plugin module headrace loads (entry point ``ui`` in group ``headrace``): two commands,
``headrace ui`` and ``headrace tensorboard``. Nothing heavy is imported until one runs."""

from __future__ import annotations

from headrace_core.plugins import CommandRegistry, hookimpl

__all__ = ["headrace_register_commands"]


@hookimpl
def headrace_register_commands(registry: CommandRegistry) -> None:
    registry.add(
        "ui",
        run="headrace_ui.cli:run_ui",
        arguments="headrace_ui.cli:ui_arguments",
        description="serve a read-only web interface over the metadata store",
    )
    registry.add(
        "tensorboard",
        run="headrace_ui.cli:run_tensorboard",
        arguments="headrace_ui.cli:tensorboard_arguments",
        description="start TensorBoard over the training logs of chosen runs",
    )
